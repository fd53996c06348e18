/*
 * rdconf.h — ntm-reader's configuration: global defaults and the meters to
 * read, from a config file (doc/ntm-reader.1 documents the syntax) or from
 * the short command line form.
 *
 * The file is line oriented: `KEYWORD VALUE`, `#` starts a comment.  Lines
 * before the first `meter NAME` set the global settings (log, owner, SNMP
 * timing) and defaults for every meter key; `meter NAME` opens a meter
 * block that lasts until the next one.  Every problem is collected
 * in the caller's diag with its line (column 0), so main() can print them
 * all as "FILE:LINE: error: ...".
 */
#ifndef NTM_RDCONF_H
#define NTM_RDCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define RDCONF_DEFAULT_INTERVAL   300u
#define RDCONF_DEFAULT_PORT       161u
#define RDCONF_DEFAULT_HIGH_WATER 65u
#define RDCONF_DEFAULT_COMMUNITY  "public"
#define RDCONF_DEFAULT_OWNER      "ntm-reader"
#define RDCONF_NAME_MAX           64u    /* meter names (also a directory) */
#define RDCONF_INTERVAL_MAX       86400u /* a day: files are daily */

/* SNMPv3 USM protocols (net-snmp's -a / -x choices we accept). */
enum rdconf_auth { RDCONF_AUTH_NONE = 0, RDCONF_AUTH_SHA, RDCONF_AUTH_SHA256,
		   RDCONF_AUTH_MD5 };
enum rdconf_priv { RDCONF_PRIV_NONE = 0, RDCONF_PRIV_AES, RDCONF_PRIV_DES };

struct rdconf_meter {
	char *name;              /* output subdirectory and log prefix */
	char *address;           /* host name or IP address */
	unsigned port;           /* 0 = unset */
	char *community;         /* v2c read community */
	char *write_community;   /* v2c write community (downloads, LastTime) */
	char *user;              /* SNMPv3 user: set means v3 */
	enum rdconf_auth auth;
	char *auth_pass;
	enum rdconf_priv priv;
	char *priv_pass;
	char *rules;             /* .srl or .rules file */
	char *standby;           /* NULL = none */
	int high_water;          /* percent; -1 = unset */
	unsigned interval;       /* seconds; 0 = unset */
	char *output;            /* directory; files go to OUTPUT/NAME/ */
	unsigned line;           /* of `meter NAME` (0: command line) */
};

struct rdconf {
	struct rdconf_meter defaults;   /* meter keys given before any `meter` */
	char *log;               /* NULL = stderr */
	char *owner;             /* flowRule/Manager/ReaderOwner we use */
	unsigned bulk_reps;       /* GETBULK max-repetitions */
	unsigned timeout_ms;     /* one SNMP attempt */
	unsigned retries;        /* net-snmp retries per request */
	struct rdconf_meter *meters;
	size_t n_meters;
};

/* Defaults, no meters. */
void rdconf_init(struct rdconf *c);
void rdconf_free(struct rdconf *c);

/*
 * Parse config text (len bytes, no NUL needed) into c (rdconf_init'ed):
 * globals and meters are added; per-meter values left unset take the global
 * ones (rdconf_finish).  Returns 0, or -1 when d gained errors.
 */
int rdconf_parse(const char *text, size_t len, struct rdconf *c,
		 struct diag *d);
/* Read and parse a file (cannot open: an error at line 0). */
int rdconf_parse_file(const char *path, struct rdconf *c, struct diag *d);

/*
 * Add a meter from the short form `METER[:PORT]` (host, IPv4, or
 * [IPv6]:PORT) with the given rules; its name is the METER text with ':'
 * made '_'.  0, or -1 with an error in d.
 */
int rdconf_add_meter_spec(struct rdconf *c, const char *spec,
			  const char *rules, struct diag *d);

/*
 * Fill what meters left unset from the globals and check what is required
 * (rules, an output directory, unique names).  0, or -1 with errors in d.
 */
int rdconf_finish(struct rdconf *c, struct diag *d);

#endif
