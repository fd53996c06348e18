/*
 * rdmeter.h — one meter as ntm-reader sees it: the NeMaC procedure of
 * RFC 2720 (doc/ntm-reader.1) run as a state machine on the reader's
 * libevent loop.
 *
 *   setup:   read the meter clock (NTM-MIB; none: wall clock), find our
 *            ruleset by name ("<file>#<hash of the rules>") or download it
 *            (and the standby), find or create our task (manager row) and
 *            our reader row;
 *   collect: at every multiple of the interval in meter time: SET our
 *            LastTime, GET LastTime/PreviousTime and the clock, GETBULK-walk
 *            ntmPackageTable for the flows changed since the previous
 *            collection, turn the readings into interval records (coll.h),
 *            append them to DIR/<meter>/<YYYY-MM-DD>.dif and save the state
 *            (rdstate.h) atomically;
 *   trouble: timeouts and SNMP errors are retried with capped exponential
 *            backoff without moving the schedule; a meter restart (uptime
 *            back, another start time, our rows gone) is logged, recovered
 *            (download, register again) and noted in the file (#Restart:).
 *
 * Nothing is printed here: every event goes to the environment's log
 * function, one line each.
 */
#ifndef NTM_RDMETER_H
#define NTM_RDMETER_H

#include <stdbool.h>
#include <stddef.h>

#include "rdconf.h"
#include "rule.h"

struct event_base;
struct rdmeter;

#define RDMETER_BACKOFF_CAP_S 60u   /* longest wait between retries */
#define RDMETER_ONCE_ATTEMPTS 5u    /* --once gives up after so many failures */

struct rdmeter_env {
	struct event_base *base;
	const struct rdconf *conf;
	const char *command_line;       /* written in new files' ## line */
	bool once;                      /* one collection, then done */
	/* one log line (no newline) about meter `name` */
	void (*log)(void *arg, const char *name, const char *msg);
	void *log_arg;
	/* the meter has finished (after --once, or after a stop request) */
	void (*done)(void *arg, struct rdmeter *r);
	void *done_arg;
};

/*
 * Prepare meter m: load its rules (errors: "FILE:LINE:COL: ..." lines in
 * err), create its output directory, load its state file, open its SNMP
 * session.  NULL with the reason in err.  env and m must outlive it.
 */
struct rdmeter *rdmeter_new(const struct rdmeter_env *env,
			    const struct rdconf_meter *m, char *err, size_t errlen);
/* Start the procedure (setup, then collections). */
void rdmeter_start(struct rdmeter *r);
/* Stop: finish the collection in flight (if any), then report done. */
void rdmeter_stop(struct rdmeter *r);
/* Did it give up (--once after RDMETER_ONCE_ATTEMPTS failures)? */
bool rdmeter_failed(const struct rdmeter *r);
void rdmeter_free(struct rdmeter *r);

/*
 * The flowRuleInfoName a ruleset is downloaded under: the file's base name,
 * '#', and a 64-bit FNV-1a hash of the rule table in hex, so one name
 * always means the same rules.  At most 127 characters (flowRuleInfoName
 * is SIZE (0..127)): a long base name is cut.
 */
#define RDMETER_RULESET_NAME_MAX 128
void rdmeter_ruleset_name(const char *path, const struct ruleset *rs,
			  char out[RDMETER_RULESET_NAME_MAX]);

#endif
