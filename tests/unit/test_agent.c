/*
 * test_agent — the SNMP agent in-process: net-snmp's client API sends
 * requests to the agent over loopback UDP while the test drives the
 * agent's loop (agent_select_info / agent_process), against a real mctl and
 * an engine holding hand-made flows.  Expected values come from RFC 2720
 * (DEFVALs, RowStatus, TimeFilter) and from BER (RFC 2720 packages).
 *
 * Flows of RuleSet 1 (meter started at T0, clock at T0 + 5 s = uptime 500):
 *   index 1: DestPeerAddress 192.0.2.1, 100 octets To at T0 + 1 s
 *            (changed at uptime 100)
 *   index 2: DestPeerAddress 192.0.2.2, 200 octets To at T0 + 2 s,
 *            50 octets From at T0 + 3 s (changed at uptime 300)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "agent.h"
#include "attr.h"
#include "flow.h"
#include "flowkey.h"
#include "mctl.h"
#include "mib.h"

#define SEC        1000000000ull
#define T0         (1700000000ull * SEC)
#define WAIT_MS    3000
#define READ_C     "public"
#define WRITE_C    "unit-write"

static struct engine eng;
static struct mctl *ctl;
static netsnmp_session *rd, *wr;     /* read and write community sessions */

/* What the agent answered to one request. */
struct reply {
	bool done;
	long errstat, errindex;
	oid name[MAX_OID_LEN];
	size_t name_len;
	u_char type;
	uint64_t num;
	uint8_t str[256];
	size_t str_len;
};

static int on_reply(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu,
		    void *magic)
{
	struct reply *r = magic;
	(void)s; (void)reqid;
	r->done = true;
	if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) {
		r->errstat = -1;
		return 1;
	}
	r->errstat = pdu->errstat;
	r->errindex = pdu->errindex;
	if (pdu->variables) {
		netsnmp_variable_list *v = pdu->variables;
		r->name_len = v->name_length;
		memcpy(r->name, v->name, v->name_length * sizeof(oid));
		r->type = v->type;
		if (v->type == ASN_COUNTER64)
			r->num = (uint64_t)v->val.counter64->high << 32 |
				 v->val.counter64->low;
		else if (v->type == ASN_OCTET_STR || v->type == ASN_OBJECT_ID) {
			r->str_len = v->val_len < sizeof(r->str) ? v->val_len : sizeof(r->str);
			memcpy(r->str, v->val.string, r->str_len);
		} else if (v->val.integer)
			r->num = (uint64_t)*v->val.integer;
	}
	return 1;
}

/* Send pdu on s and run the agent's loop until the answer is back. */
static void exchange(netsnmp_session *s, netsnmp_pdu *pdu, struct reply *r)
{
	memset(r, 0, sizeof(*r));
	assert_true(snmp_async_send(s, pdu, on_reply, r) != 0);
	for (int ms = 0; !r->done && ms < WAIT_MS; ms += 10) {
		fd_set fds;
		int maxfd = -1;
		struct timeval tv = { 0, 10000 };
		FD_ZERO(&fds);
		agent_select_info(&fds, &maxfd, &tv);
		int n = select(maxfd + 1, &fds, NULL, NULL, &tv);
		agent_process(n > 0 ? &fds : NULL);
	}
	assert_true(r->done);
}

static void request(int cmd, netsnmp_session *s, const oid *name, size_t len,
		    struct reply *r)
{
	netsnmp_pdu *pdu = snmp_pdu_create(cmd);
	snmp_add_null_var(pdu, name, len);
	exchange(s, pdu, r);
}

static void set_int(netsnmp_session *s, const oid *name, size_t len,
		    u_char type, long v, struct reply *r)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_SET);
	snmp_pdu_add_variable(pdu, name, len, type, &v, sizeof(v));
	exchange(s, pdu, r);
}

static void assert_name(const struct reply *r, const oid *want, size_t len)
{
	assert_int_equal(r->name_len, len);
	assert_memory_equal(r->name, want, len * sizeof(oid));
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static netsnmp_session *open_session(int port, const char *community)
{
	netsnmp_session s;
	char peer[64];
	snmp_sess_init(&s);
	snprintf(peer, sizeof(peer), "udp:127.0.0.1:%d", port);
	s.peername = peer;
	s.version = SNMP_VERSION_2c;
	s.community = (u_char *)community;
	s.community_len = strlen(community);
	s.timeout = 1000000;
	s.retries = 0;
	return snmp_open(&s);
}

/* A UDP port nobody uses right now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static struct flow *add_flow(uint8_t last_octet, uint64_t ts)
{
	static const uint8_t mask[4] = { 0xff, 0xff, 0xff, 0xff };
	uint8_t dst[4] = { 192, 0, 2, last_octet };
	struct flow_key k;
	flow_key_clear(&k, 1);
	assert_int_equal(flow_key_put(&k, ATTR_DEST_PEER_ADDRESS, 4, mask, dst), 0);
	struct flow *f = flow_insert(eng.flows, &k, flow_key_hash(&k), ts);
	assert_non_null(f);
	return f;
}

static int setup(void **state)
{
	struct engine_config ec;
	struct mctl_config mc;
	struct diag d;
	struct agent_options o = { 0 };
	char listen[64];
	(void)state;

	engine_config_default(&ec);
	ec.max_flows = 16;
	diag_init(&d, "test");
	assert_int_equal(engine_init(&eng, &ec, &d), 0);
	mctl_config_default(&mc);
	ctl = mctl_create(&eng, &mc, T0);
	assert_non_null(ctl);

	struct flow *a = add_flow(1, T0 + 1 * SEC);
	flow_account(eng.flows, a, false, 100, T0 + 1 * SEC);
	struct flow *b = add_flow(2, T0 + 2 * SEC);
	flow_account(eng.flows, b, false, 200, T0 + 2 * SEC);
	flow_account(eng.flows, b, true, 50, T0 + 3 * SEC);
	assert_int_equal(flow_index(eng.flows, a), 1);
	assert_int_equal(flow_index(eng.flows, b), 2);
	mctl_now(ctl, T0 + 5 * SEC);

	int port = free_port();
	snprintf(listen, sizeof(listen), "udp:127.0.0.1:%d", port);
	o.listen = listen;
	o.read_community = READ_C;
	o.write_community = WRITE_C;
	o.meter_name = "unit";
	o.speed = 1;
	o.interval_s = 300;
	o.start_ns = T0;
	assert_int_equal(agent_start(&o, ctl, &eng, &d), 0);
	diag_free(&d);
	rd = open_session(port, READ_C);
	wr = open_session(port, WRITE_C);
	assert_non_null(rd);
	assert_non_null(wr);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	snmp_close(rd);
	snmp_close(wr);
	agent_stop();
	mctl_free(ctl);
	engine_free(&eng);
	return 0;
}

/* Bad options are refused before net-snmp is touched. */
static void start_refuses_bad_options(void **state)
{
	struct agent_options o = { 0 };
	struct diag d;
	char path[] = "/tmp/ntm-test-agent.XXXXXX";
	(void)state;

	diag_init(&d, "test");
	o.read_community = "two words";
	assert_int_equal(agent_start(&o, ctl, &eng, &d), -1);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.msgs[0].text, "read community"));
	diag_free(&d);

	diag_init(&d, "test");
	o.read_community = NULL;
	o.config = "/nonexistent/ntm-snmp.conf";
	assert_int_equal(agent_start(&o, ctl, &eng, &d), -1);
	assert_non_null(strstr(d.msgs[0].text, "/nonexistent/ntm-snmp.conf"));
	diag_free(&d);

	/* net-snmp 5.9 would crash on this line: refused first */
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *line = "createUser u SHA\n";
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
	diag_init(&d, "test");
	o.config = path;
	assert_int_equal(agent_start(&o, ctl, &eng, &d), -1);
	assert_non_null(strstr(d.msgs[0].text, "passphrase"));
	diag_free(&d);
	unlink(path);
}

static void system_and_ntm_scalars(void **state)
{
	static const oid uptime[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };
	static const oid start[] = { MIB_NTM, MIB_NTM_METER, MIB_NTM_START_NS, 0 };
	static const oid name[] = { MIB_NTM, MIB_NTM_METER, MIB_NTM_NAME, 0 };
	static const oid speed[] = { MIB_NTM, MIB_NTM_METER, MIB_NTM_SPEED, 0 };
	struct reply r;
	(void)state;

	request(SNMP_MSG_GET, rd, uptime, N(uptime), &r);
	assert_int_equal(r.errstat, 0);
	assert_int_equal(r.type, ASN_TIMETICKS);
	assert_int_equal(r.num, 500);                  /* 5 s of meter time */
	request(SNMP_MSG_GET, rd, start, N(start), &r);
	assert_int_equal(r.type, ASN_COUNTER64);
	assert_true(r.num == T0);
	request(SNMP_MSG_GET, rd, name, N(name), &r);
	assert_int_equal(r.type, ASN_OCTET_STR);
	assert_int_equal(r.str_len, 4);
	assert_memory_equal(r.str, "unit", 4);
	request(SNMP_MSG_GET, rd, speed, N(speed), &r);
	assert_int_equal(r.type, ASN_INTEGER);
	assert_int_equal(r.num, 1);
}

static void control_defaults(void **state)
{
	static const oid flood[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL, MIB_FLOOD_MARK, 0 };
	static const oid inact[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL, MIB_INACTIVITY_TIMEOUT, 0 };
	static const oid status1[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL,
		MIB_RULESET_INFO_TABLE, 1, MIB_RULEINFO_STATUS, 1 };
	static const oid table[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL,
		MIB_RULESET_INFO_TABLE };
	struct reply r;
	(void)state;

	request(SNMP_MSG_GET, rd, flood, N(flood), &r);
	assert_int_equal(r.num, 95);                   /* RFC 2720 DEFVAL */
	request(SNMP_MSG_GET, rd, inact, N(inact), &r);
	assert_int_equal(r.num, 600);                  /* RFC 2720 DEFVAL */
	request(SNMP_MSG_GET, rd, status1, N(status1), &r);
	assert_int_equal(r.num, MIB_RS_ACTIVE);        /* the default set */
	/* GETNEXT into the table: index column 1 is not-accessible, so the
	 * first instance is flowRuleInfoSize.1 */
	request(SNMP_MSG_GETNEXT, rd, table, N(table), &r);
	static const oid size1[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL,
		MIB_RULESET_INFO_TABLE, 1, MIB_RULEINFO_SIZE, 1 };
	assert_name(&r, size1, N(size1));
}

static void data_table_time_filter(void **state)
{
	static const oid entry[] = { MIB_FLOW_METER, MIB_FLOW_DATA, MIB_DATA_TABLE, 1 };
	static const oid status_1[] = { MIB_FLOW_METER, 2, 1, 1, 3, 1, 0, 1 };
	static const oid to_1[] = { MIB_FLOW_METER, 2, 1, 1, 27, 1, 0, 1 };
	static const oid to_1_t100[] = { MIB_FLOW_METER, 2, 1, 1, 27, 1, 100, 1 };
	static const oid to_1_t101[] = { MIB_FLOW_METER, 2, 1, 1, 27, 1, 101, 1 };
	static const oid to_t200[] = { MIB_FLOW_METER, 2, 1, 1, 27, 1, 200 };
	static const oid to_2_t200[] = { MIB_FLOW_METER, 2, 1, 1, 27, 1, 200, 2 };
	static const oid to_t1000[] = { MIB_FLOW_METER, 2, 1, 1, 27, 1, 1000 };
	static const oid pdus_1[] = { MIB_FLOW_METER, 2, 1, 1, 28, 1, 0, 1 };
	static const oid from_2[] = { MIB_FLOW_METER, 2, 1, 1, 29, 1, 0, 2 };
	static const oid rs_1[] = { MIB_FLOW_METER, 2, 1, 1, 26, 1, 0, 1 };
	struct reply r;
	(void)state;

	/* columns 1 and 2 are not-accessible: the walk starts at Status */
	request(SNMP_MSG_GETNEXT, rd, entry, N(entry), &r);
	assert_name(&r, status_1, N(status_1));
	assert_int_equal(r.num, 2);                    /* current(2) */
	request(SNMP_MSG_GET, rd, to_1, N(to_1), &r);
	assert_int_equal(r.type, ASN_COUNTER64);
	assert_int_equal(r.num, 100);
	request(SNMP_MSG_GET, rd, from_2, N(from_2), &r);
	assert_int_equal(r.num, 50);
	/* TimeFilter: flow 1 changed at uptime 100 */
	request(SNMP_MSG_GET, rd, to_1_t100, N(to_1_t100), &r);
	assert_int_equal(r.num, 100);
	request(SNMP_MSG_GET, rd, to_1_t101, N(to_1_t101), &r);
	assert_int_equal(r.type, SNMP_NOSUCHINSTANCE);
	/* from T = 200 only flow 2, and the OID keeps T */
	request(SNMP_MSG_GETNEXT, rd, to_t200, N(to_t200), &r);
	assert_name(&r, to_2_t200, N(to_2_t200));
	assert_int_equal(r.num, 200);
	/* after the last flow of (set 1, T): the next set with T = 0; there
	 * is none, so the next column from its start */
	request(SNMP_MSG_GETNEXT, rd, to_2_t200, N(to_2_t200), &r);
	assert_name(&r, pdus_1, N(pdus_1));
	request(SNMP_MSG_GETNEXT, rd, to_t1000, N(to_t1000), &r);
	assert_name(&r, pdus_1, N(pdus_1));
	assert_int_equal(r.num, 1);
	/* column 26 (flowDataRuleSet) is not-accessible */
	request(SNMP_MSG_GET, rd, rs_1, N(rs_1), &r);
	assert_int_equal(r.type, SNMP_NOSUCHINSTANCE);
}

static void packages(void **state)
{
	/* flowPackageData.<1 27>.1.0.1: SEQUENCE { Counter64 100 } */
	static const oid narrow_1[] = { MIB_FLOW_METER, 2, 3, 1, 5, 1, 27, 1, 0, 1 };
	static const oid narrow_set[] = { MIB_FLOW_METER, 2, 3, 1, 5, 1, 27, 1 };
	static const oid narrow_2[] = { MIB_FLOW_METER, 2, 3, 1, 5, 1, 27, 1, 0, 2 };
	static const oid narrow_t200[] = { MIB_FLOW_METER, 2, 3, 1, 5, 1, 27, 1, 200 };
	static const oid narrow_2_t200[] = { MIB_FLOW_METER, 2, 3, 1, 5, 1, 27, 1, 200, 2 };
	static const oid no_set[] = { MIB_FLOW_METER, 2, 3, 1, 5, 1, 27 };
	static const oid bad_attr[] = { MIB_FLOW_METER, 2, 3, 1, 5, 1, 3, 1, 0, 1 };
	static const oid wide_1[] = { MIB_NTM, MIB_NTM_DATA, MIB_NTM_PACKAGE_TABLE, 1,
		MIB_PACKAGE_DATA_COL, 2, 0, 27, 1, 0, 1 };
	static const uint8_t ber_100[] = { 0x30, 0x03, 0x46, 0x01, 0x64 };
	static const oid flow_rules[] = { MIB_FLOW_METER, MIB_FLOW_RULES };
	struct reply r;
	(void)state;

	request(SNMP_MSG_GET, rd, narrow_1, N(narrow_1), &r);
	assert_int_equal(r.type, ASN_OCTET_STR);
	assert_int_equal(r.str_len, sizeof(ber_100));
	assert_memory_equal(r.str, ber_100, sizeof(ber_100));
	request(SNMP_MSG_GET, rd, wide_1, N(wide_1), &r);
	assert_int_equal(r.str_len, sizeof(ber_100));
	assert_memory_equal(r.str, ber_100, sizeof(ber_100));
	/* selector + set: time and index sort first */
	request(SNMP_MSG_GETNEXT, rd, narrow_set, N(narrow_set), &r);
	assert_name(&r, narrow_1, N(narrow_1));
	request(SNMP_MSG_GETNEXT, rd, narrow_1, N(narrow_1), &r);
	assert_name(&r, narrow_2, N(narrow_2));
	request(SNMP_MSG_GETNEXT, rd, narrow_t200, N(narrow_t200), &r);
	assert_name(&r, narrow_2_t200, N(narrow_2_t200));
	/* after the last flow of (selector, set, T): out of the table, to the
	 * next object (flowRuleTable) — never T + 1 or another selector */
	request(SNMP_MSG_GETNEXT, rd, narrow_2, N(narrow_2), &r);
	assert_true(r.name_len > N(flow_rules));
	assert_memory_equal(r.name, flow_rules, sizeof(flow_rules));
	/* no set: nothing from the package table */
	request(SNMP_MSG_GETNEXT, rd, no_set, N(no_set), &r);
	assert_memory_equal(r.name, flow_rules, sizeof(flow_rules));
	/* attribute 3 (FlowTimeMark, an index) cannot be read in a package */
	request(SNMP_MSG_GET, rd, bad_attr, N(bad_attr), &r);
	assert_int_equal(r.type, SNMP_NOSUCHINSTANCE);
}

static void sets(void **state)
{
	static const oid flood[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL, MIB_FLOOD_MARK, 0 };
	static const oid ts1[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL,
		MIB_RULESET_INFO_TABLE, 1, MIB_RULEINFO_TIMESTAMP, 1 };
	static const oid to_1[] = { MIB_FLOW_METER, 2, 1, 1, 27, 1, 0, 1 };
	static const oid speed[] = { MIB_NTM, MIB_NTM_METER, MIB_NTM_SPEED, 0 };
	struct reply r;
	(void)state;

	set_int(rd, flood, N(flood), ASN_INTEGER, 90, &r);
	assert_int_equal(r.errstat, SNMP_ERR_NOACCESS);     /* read community */
	set_int(wr, flood, N(flood), ASN_TIMETICKS, 90, &r);
	assert_int_equal(r.errstat, SNMP_ERR_WRONGTYPE);
	set_int(wr, ts1, N(ts1), ASN_TIMETICKS, 5, &r);
	assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);  /* read-only */
	set_int(wr, to_1, N(to_1), ASN_INTEGER, 5, &r);
	assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);
	set_int(wr, speed, N(speed), ASN_INTEGER, 5, &r);
	assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);
	set_int(wr, flood, N(flood), ASN_INTEGER, 90, &r);
	assert_int_equal(r.errstat, SNMP_ERR_NOERROR);
	request(SNMP_MSG_GET, rd, flood, N(flood), &r);
	assert_int_equal(r.num, 90);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(start_refuses_bad_options),
		cmocka_unit_test(system_and_ntm_scalars),
		cmocka_unit_test(control_defaults),
		cmocka_unit_test(data_table_time_filter),
		cmocka_unit_test(packages),
		cmocka_unit_test(sets),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
