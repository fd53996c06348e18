/*
 * live.h — the running meter (`ntm-meter -i IFACE` or `--replay TRACE`):
 * one single-threaded loop that interleaves packet processing with the
 * SNMP agent's requests (agent.h), drives the meter clock (mctl_now) and
 * the once-a-meter-second housekeeping (mctl_tick).
 *
 * The meter clock (ns since the epoch):
 *  - live capture: packet timestamps, and wall time while no packet comes;
 *    uptime 0 is the moment the meter started;
 *  - replay: trace time running `speed` times faster than wall time from the
 *    first packet's timestamp (uptime 0 = first packet, as offline mode
 *    counts it).  A packet is metered when the clock reaches its timestamp.
 *    Started without rulesets, the clock holds at the first packet until a
 *    manager starts a task over SNMP, so no packet passes uncounted by the
 *    reader's ruleset.  After the last trace the clock keeps running (at 1×
 *    when the replay ran as fast as possible) and the agent keeps serving.
 *
 * With workers, this thread still reads the sources, keeps the clock and
 * serves SNMP; it quiesces the workers and syncs their shards into the
 * view engine (engine_sync) before anything reads flows: an SNMP request,
 * the meter-second tick, an interval of the run's own .dif, the end.
 *
 * The run ends on SIGINT or SIGTERM (SIGHUP is ignored), after `duration_s`
 * wall seconds, or after `idle_exit_s` wall seconds without a packet.
 */
#ifndef NTM_LIVE_H
#define NTM_LIVE_H

#include <stddef.h>
#include <stdio.h>

#include "agent.h"
#include "cap.h"
#include "diag.h"
#include "engine.h"

/* `--speed max`: replay as fast as the meter can. */
#define LIVE_SPEED_MAX 0u
#define LIVE_SPEED_LIMIT 1000000u     /* largest --speed N accepted */

struct live_options {
	const char **rules;          /* one task per ruleset; may be empty */
	size_t n_rules;
	const char *standby;         /* standby ruleset for the first task */
	unsigned high_water;         /* percent, for the standby */

	const char **replay;         /* traces replayed one after another */
	size_t n_replay;
	unsigned speed;              /* replay speed, or LIVE_SPEED_MAX */

	const char **ifaces;         /* live interfaces: ifIndex 1, 2, ... */
	size_t n_ifaces;
	const char *driver;          /* cap_open_live() driver; NULL = "pcap" */
	struct cap_options cap;      /* filter, snaplen, buffer_size (ifindex
	                                and timeout are set per interface) */

	unsigned duration_s;         /* stop after, wall seconds; 0 = never */
	unsigned idle_exit_s;        /* stop after so long without a packet,
	                                wall seconds; 0 = never */

	const char *out;             /* the run writes its own .dif (difout.h)
	                                on the meter clock; NULL = none */
	const char *samples;         /* every RTT sample as CSV; NULL = none */
	unsigned interval_s;         /* of the .dif (and ntmMeterInterval) */
	const char *command_line;    /* for the .dif's ## header */

	const char *user;            /* drop to this user (and its groups) once
	                                the captures and the agent's sockets are
	                                open, before the first packet; NULL =
	                                stay */

	unsigned workers;            /* --workers: 0 or 1 = this thread meters;
	                                N > 1 = N shard threads (workers.h):
	                                afpacket and dpdk open N sources per
	                                interface (fanout members / RX queues),
	                                source i feeding worker i; other
	                                sources are spread by address pair */
	struct agent_options agent;  /* start_ns and speed are set by the run */
	struct engine_config cfg;
	FILE *stats_out;             /* end-of-run statistics; NULL = none */
	FILE *log;                   /* notable events (end of the replay,
	                                damaged trace); NULL = silent */
};

void live_options_default(struct live_options *o);

/*
 * Run until stopped.  0 after a clean stop; 1 when the meter cannot start
 * (bad ruleset, with FILE:LINE:COL messages; agent address in use; missing
 * interface or trace) or a replayed trace was damaged; 2 when a live
 * capture fails while running.  Messages in d.
 */
int live_run(const struct live_options *o, struct diag *d);

#endif
