/*
 * agent.h — the meter's SNMP agent: the Meter MIB (RFC 2720, FLOW-METER-MIB)
 * and NTM-MIB served with net-snmp's agent library, stand-alone or as an
 * AgentX sub-agent.
 *
 * Control tables and scalars go through mctl (mctl.h); flowDataTable and
 * the two package tables read the engine's flow table directly (flowattr.h,
 * pkg.h), with RMON TimeFilter semantics.
 *
 * net-snmp keeps global state, so there is one agent per process.  The
 * caller owns the loop: agent_select_info() adds the agent's sockets and
 * timeout to a select() set, agent_process() handles what is ready.  The
 * caller sets the meter clock (mctl_now) before agent_process().
 *
 * Secure by default (doc/mib.md): listens on udp:127.0.0.1:161 unless
 * told otherwise; v2c read community "public"; no write access until a
 * write community or an SNMPv3 user is configured.
 *
 * The configuration is exactly agent_options plus the optional config file
 * (snmpd.conf syntax: createUser, rouser, rwuser, view, access, ...); the
 * system's snmpd.conf / snmp.conf and ~/.snmp are never read, and no MIB
 * module is loaded.  A line net-snmp warns about is an error.  As an AgentX
 * sub-agent the master's communities and users apply: read_community and
 * write_community are ignored, and sysDescr/sysUpTime are the master's
 * (stand-alone, the agent serves sysDescr, sysObjectID, sysUpTime = meter
 * uptime and sysName itself).
 */
#ifndef NTM_AGENT_H
#define NTM_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/time.h>

#include "diag.h"
#include "engine.h"
#include "mctl.h"

#define AGENT_DEFAULT_LISTEN     "udp:127.0.0.1:161"
#define AGENT_DEFAULT_COMMUNITY  "public"

struct agent_options {
	const char *listen;           /* net-snmp transport list, comma-separated
	                                 ("udp:127.0.0.1:1161,udp6:[::1]:1161");
	                                 NULL = AGENT_DEFAULT_LISTEN */
	const char *read_community;   /* v2c read-only; NULL = "public";
	                                 "" = no v2c read access */
	const char *write_community;  /* v2c read-write; NULL = none */
	const char *config;           /* snmpd.conf-style file with SNMPv3
	                                 users and views (createUser, rouser,
	                                 rwuser, ...); NULL = none */
	const char *agentx;           /* AgentX sub-agent: master's socket
	                                 (e.g. "tcp:127.0.0.1:705" or a path);
	                                 NULL = stand-alone agent */
	const char *meter_name;       /* ntmMeterName */
	unsigned speed;               /* ntmMeterSpeed: replay speed, 1 live */
	unsigned interval_s;          /* ntmMeterInterval */
	uint64_t start_ns;            /* meter clock at uptime 0 (ntmMeterStartNs) */
	const char *state_dir;        /* net-snmp's persistent state (engineBoots,
	                                 engineID); NULL = /var/lib/ntm when
	                                 writable, else none kept (a private
	                                 directory under $TMPDIR, removed once
	                                 net-snmp has started) */
};

/* Start serving m (control) and e (flows); 0, or -1 with the reason in d
 * (port in use, bad config file, master agent unreachable, ...). */
int agent_start(const struct agent_options *o, struct mctl *m,
		struct engine *e, struct diag *d);

/* Add the agent's descriptors to *fds, raise *maxfd (the highest
 * descriptor: select's nfds is *maxfd + 1; start from -1) and lower *tv to
 * the time net-snmp needs to run its timers (tv is never raised). */
void agent_select_info(fd_set *fds, int *maxfd, struct timeval *tv);

/* Handle the requests whose descriptors are set in *fds (may be NULL for
 * timers only) and run net-snmp's due timers.  Returns the number of SNMP
 * messages received (a sub-agent's AgentX traffic is not counted). */
int agent_process(fd_set *fds);

/* Meter statistics the agent publishes (ntmMeterPackets). */
void agent_set_packets(uint64_t packets);

/* Stop serving and release net-snmp (one start per process: net-snmp's
 * global state does not promise a clean second init). */
void agent_stop(void);

#endif
