/* rdsnmp.c — asynchronous SNMP over libevent (see rdsnmp.h). */
#include "rdsnmp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <event2/event.h>

#define US_PER_MS 1000L

struct rdsnmp {
	struct event_base *base;
	void *sessp;                 /* net-snmp single session */
	int sock;
	struct event *ev_read;
	struct event *ev_timer;
	char *write_community;       /* v2c SETs; NULL = the session's */
	unsigned pending;
};

struct req {
	struct rdsnmp *s;
	rdsnmp_cb cb;
	void *arg;
};

void rdsnmp_init(const char *app)
{
	/* a reader needs no snmp.conf, no MIB files and no persistent USM
	 * state: keep net-snmp from looking for them (and warning) */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
	setenv("MIBS", "", 1);
	setenv("MIBDIRS", "", 1);
	init_snmp(app);
}

/* Arm the timer for net-snmp's next retransmission, if any. */
static void rearm(struct rdsnmp *s)
{
	int numfds = 0, block = 1;
	fd_set fds;
	struct timeval tv = { 0, 0 };
	FD_ZERO(&fds);
	snmp_sess_select_info_flags(s->sessp, &numfds, &fds, &tv, &block,
				    NETSNMP_SELECT_NOALARMS);
	if (block)
		evtimer_del(s->ev_timer);
	else
		evtimer_add(s->ev_timer, &tv);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct rdsnmp *s = arg;
	fd_set fds;
	FD_ZERO(&fds);
	FD_SET(fd, &fds);
	snmp_sess_read(s->sessp, &fds);
	rearm(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rdsnmp *s = arg;
	snmp_sess_timeout(s->sessp);
	rearm(s);
}

static int on_response(int op, netsnmp_session *sess, int reqid,
		       netsnmp_pdu *pdu, void *magic)
{
	(void)sess;
	(void)reqid;
	struct req *q = magic;
	struct rdsnmp_reply r = { 0 };
	switch (op) {
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
		r.vars = pdu->variables;
		r.errstat = pdu->errstat;
		r.errindex = pdu->errindex;
		r.status = pdu->errstat == SNMP_ERR_NOERROR ? RDSNMP_OK : RDSNMP_ERROR;
		break;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		r.status = RDSNMP_TIMEOUT;
		break;
	case NETSNMP_CALLBACK_OP_SEND_FAILED:
		r.status = RDSNMP_FAILED;
		r.why = "send failed";
		break;
	default:
		return 1;   /* resend, connect, ...: not the end of the request */
	}
	q->s->pending--;
	q->cb(q->arg, &r);
	free(q);
	return 1;
}

static const oid *auth_oid(enum rdconf_auth a, size_t *len)
{
	switch (a) {
	case RDCONF_AUTH_SHA:
		*len = OID_LENGTH(usmHMACSHA1AuthProtocol);
		return usmHMACSHA1AuthProtocol;
	case RDCONF_AUTH_SHA256:
		*len = OID_LENGTH(usmHMAC192SHA256AuthProtocol);
		return usmHMAC192SHA256AuthProtocol;
	case RDCONF_AUTH_MD5:
		*len = OID_LENGTH(usmHMACMD5AuthProtocol);
		return usmHMACMD5AuthProtocol;
	default:
		*len = 0;
		return NULL;
	}
}

/* SNMPv3 USM settings of m into sess; 0 or -1 with err. */
static int set_v3(netsnmp_session *sess, const struct rdconf_meter *m,
		  char *err, size_t errlen)
{
	sess->version = SNMP_VERSION_3;
	sess->securityName = m->user;
	sess->securityNameLen = strlen(m->user);
	sess->securityLevel = m->priv ? SNMP_SEC_LEVEL_AUTHPRIV
				      : m->auth ? SNMP_SEC_LEVEL_AUTHNOPRIV
						: SNMP_SEC_LEVEL_NOAUTH;
	if (!m->auth)
		return 0;
	size_t alen;
	const oid *a = auth_oid(m->auth, &alen);
	sess->securityAuthProto = snmp_duplicate_objid(a, alen);
	sess->securityAuthProtoLen = alen;
	sess->securityAuthKeyLen = USM_AUTH_KU_LEN;
	if (generate_Ku(sess->securityAuthProto, (u_int)alen, (const u_char *)m->auth_pass,
			strlen(m->auth_pass), sess->securityAuthKey,
			&sess->securityAuthKeyLen) != SNMPERR_SUCCESS) {
		snprintf(err, errlen, "cannot derive the SNMPv3 authentication key");
		return -1;
	}
	if (!m->priv)
		return 0;
	const oid *p = m->priv == RDCONF_PRIV_AES ? usmAESPrivProtocol : usmDESPrivProtocol;
	size_t plen = m->priv == RDCONF_PRIV_AES ? OID_LENGTH(usmAESPrivProtocol)
						 : OID_LENGTH(usmDESPrivProtocol);
	sess->securityPrivProto = snmp_duplicate_objid(p, plen);
	sess->securityPrivProtoLen = plen;
	sess->securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (generate_Ku(sess->securityAuthProto, (u_int)alen, (const u_char *)m->priv_pass,
			strlen(m->priv_pass), sess->securityPrivKey,
			&sess->securityPrivKeyLen) != SNMPERR_SUCCESS) {
		snprintf(err, errlen, "cannot derive the SNMPv3 privacy key");
		return -1;
	}
	return 0;
}

struct rdsnmp *rdsnmp_open(struct event_base *base, const struct rdconf_meter *m,
			   unsigned timeout_ms, unsigned retries,
			   char *err, size_t errlen)
{
	struct rdsnmp *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base = base;
	char peer[300];
	bool v6 = strchr(m->address, ':') != NULL;
	snprintf(peer, sizeof peer, v6 ? "udp6:[%s]:%u" : "udp:%s:%u", m->address, m->port);
	netsnmp_session sess;
	snmp_sess_init(&sess);
	sess.peername = peer;
	sess.timeout = (long)timeout_ms * US_PER_MS;
	sess.retries = (int)retries;
	if (m->user) {
		if (set_v3(&sess, m, err, errlen))
			goto fail_sess;
	} else {
		sess.version = SNMP_VERSION_2c;
		sess.community = (u_char *)m->community;
		sess.community_len = strlen(m->community);
		if (m->write_community && !(s->write_community = strdup(m->write_community))) {
			snprintf(err, errlen, "out of memory");
			goto fail_sess;
		}
	}
	sess.callback = on_response;
	s->sessp = snmp_sess_open(&sess);
	if (!s->sessp) {
		int liberr = 0, syserr = 0;
		char *msg = NULL;
		snmp_error(&sess, &liberr, &syserr, &msg);
		snprintf(err, errlen, "cannot open an SNMP session to %s: %s", peer,
			 msg ? msg : "unknown error");
		free(msg);
		goto fail_sess;
	}
	free(sess.securityAuthProto);
	free(sess.securityPrivProto);
	netsnmp_transport *t = snmp_sess_transport(s->sessp);
	s->sock = t ? t->sock : -1;
	s->ev_read = event_new(base, s->sock, EV_READ | EV_PERSIST, on_readable, s);
	s->ev_timer = evtimer_new(base, on_timer, s);
	if (s->sock < 0 || !s->ev_read || !s->ev_timer || event_add(s->ev_read, NULL)) {
		snprintf(err, errlen, "cannot watch the SNMP socket to %s", peer);
		rdsnmp_close(s);
		return NULL;
	}
	return s;
fail_sess:
	free(sess.securityAuthProto);
	free(sess.securityPrivProto);
	free(s->write_community);
	free(s);
	return NULL;
}

void rdsnmp_close(struct rdsnmp *s)
{
	if (!s)
		return;
	if (s->ev_read)
		event_free(s->ev_read);
	if (s->ev_timer)
		event_free(s->ev_timer);
	/* closing calls the callbacks of pending requests (timed out) */
	if (s->sessp)
		snmp_sess_close(s->sessp);
	free(s->write_community);
	free(s);
}

int rdsnmp_send(struct rdsnmp *s, netsnmp_pdu *pdu, bool write,
		rdsnmp_cb cb, void *arg)
{
	struct req *q = malloc(sizeof *q);
	if (!q) {
		snmp_free_pdu(pdu);
		return -1;
	}
	*q = (struct req){ .s = s, .cb = cb, .arg = arg };
	if (write && s->write_community) {
		pdu->community = (u_char *)strdup(s->write_community);
		if (!pdu->community) {
			free(q);
			snmp_free_pdu(pdu);
			return -1;
		}
		pdu->community_len = strlen(s->write_community);
	}
	if (!snmp_sess_async_send(s->sessp, pdu, on_response, q)) {
		snmp_free_pdu(pdu);
		free(q);
		return -1;
	}
	s->pending++;
	rearm(s);
	return 0;
}

unsigned rdsnmp_pending(const struct rdsnmp *s)
{
	return s->pending;
}

const char *rdsnmp_errname(long errstat)
{
	static const char *const names[] = {
		"noError", "tooBig", "noSuchName", "badValue", "readOnly",
		"genErr", "noAccess", "wrongType", "wrongLength",
		"wrongEncoding", "wrongValue", "noCreation",
		"inconsistentValue", "resourceUnavailable", "commitFailed",
		"undoFailed", "authorizationError", "notWritable",
		"inconsistentName",
	};
	if (errstat >= 0 && (size_t)errstat < sizeof names / sizeof *names)
		return names[errstat];
	return "unknown error";
}
