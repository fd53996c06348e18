/*
 * rdsnmp.h — ntm-reader's SNMP client: net-snmp's single-session
 * asynchronous API (snmp_sess_async_send) driven by a libevent loop, so one
 * process talks to many meters at once.  Each session's socket is a
 * persistent read event and its retransmission timeouts a timer, re-armed
 * after every send, read and timeout.
 *
 * Requests are net-snmp PDUs (the caller builds them with snmp_pdu_create
 * and snmp_add_var/snmp_pvarlist_add_variable); the reply comes to a
 * callback with the PDU's varbinds, valid only during the call.  A callback
 * may send the next request; it must not close the session.
 */
#ifndef NTM_RDSNMP_H
#define NTM_RDSNMP_H

#include <stdbool.h>
#include <stddef.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "rdconf.h"

struct event_base;
struct rdsnmp;

enum rdsnmp_status {
	RDSNMP_OK = 0,       /* a response with error-status 0 */
	RDSNMP_ERROR,        /* a response with an SNMP error (errstat) */
	RDSNMP_TIMEOUT,      /* no response after every retry */
	RDSNMP_FAILED        /* could not be sent (what in `why`) */
};

struct rdsnmp_reply {
	enum rdsnmp_status status;
	long errstat, errindex;          /* RDSNMP_ERROR: RFC 3416 status, 1-based */
	const netsnmp_variable_list *vars;
	const char *why;                 /* RDSNMP_FAILED */
};

typedef void (*rdsnmp_cb)(void *arg, const struct rdsnmp_reply *r);

/* Once per process, before the first session: net-snmp without config
 * files, persistent state or MIB loading. */
void rdsnmp_init(const char *app);

/*
 * A session to meter m (address, port, v2c communities or v3 user) on
 * base.  NULL with the reason in err.  (An SNMPv3 session probes the
 * engine ID at open, synchronously.)
 */
struct rdsnmp *rdsnmp_open(struct event_base *base, const struct rdconf_meter *m,
			   unsigned timeout_ms, unsigned retries,
			   char *err, size_t errlen);
void rdsnmp_close(struct rdsnmp *s);

/*
 * Send pdu (owned by rdsnmp from now on); `write`: a SET, sent with the
 * v2c write community when one is configured.  cb is called exactly once,
 * later, from the loop.  0, or -1 (nothing will be called; pdu freed).
 */
int rdsnmp_send(struct rdsnmp *s, netsnmp_pdu *pdu, bool write,
		rdsnmp_cb cb, void *arg);

/* Requests sent and not yet answered or timed out. */
unsigned rdsnmp_pending(const struct rdsnmp *s);

/* Name of an SNMP error-status ("notWritable", ...). */
const char *rdsnmp_errname(long errstat);

#endif
