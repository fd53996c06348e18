/* test_rdconf — ntm-reader configuration: a full file with globals,
 * defaults and two meters; the short command-line form; every kind of bad
 * line reported at its line number. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rdconf.h"

static const char good[] =
	"# campus meters\n"
	"interval 300\n"
	"output /var/lib/ntm\n"
	"log /var/log/ntm-reader.log\n"
	"owner nemac@campus\n"
	"max-repetitions 20\n"
	"timeout-ms 1500\n"
	"retries 3\n"
	"rules /etc/ntm/dns-root.srl\n"
	"\n"
	"meter border1\n"
	"  address 192.0.2.1   # the border tap\n"
	"  port 1161\n"
	"  write-community s3cret\n"
	"  standby /etc/ntm/coarse.srl\n"
	"  high-water 80\n"
	"meter border2\n"
	"  address 2001:db8::1\n"
	"  user reader\n"
	"  auth-protocol SHA\n"
	"  auth-password authpass1\n"
	"  priv-protocol AES\n"
	"  priv-password privpass1\n"
	"  interval 60\n"
	"  output /data\n"
	"  rules other.rules\n";

static void full_file(void **state)
{
	(void)state;
	struct rdconf c;
	struct diag d;
	rdconf_init(&c);
	diag_init(&d, "t.conf");
	assert_int_equal(rdconf_parse(good, strlen(good), &c, &d), 0);
	assert_int_equal(rdconf_finish(&c, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_string_equal(c.log, "/var/log/ntm-reader.log");
	assert_string_equal(c.owner, "nemac@campus");
	assert_int_equal(c.bulk_reps, 20);
	assert_int_equal(c.timeout_ms, 1500);
	assert_int_equal(c.retries, 3);
	assert_int_equal(c.n_meters, 2);

	const struct rdconf_meter *a = &c.meters[0];
	assert_string_equal(a->name, "border1");
	assert_int_equal(a->line, 11);
	assert_string_equal(a->address, "192.0.2.1");
	assert_int_equal(a->port, 1161);
	assert_string_equal(a->community, "public");        /* default */
	assert_string_equal(a->write_community, "s3cret");
	assert_null(a->user);
	assert_string_equal(a->rules, "/etc/ntm/dns-root.srl");   /* global */
	assert_string_equal(a->standby, "/etc/ntm/coarse.srl");
	assert_int_equal(a->high_water, 80);
	assert_int_equal(a->interval, 300);
	assert_string_equal(a->output, "/var/lib/ntm");

	const struct rdconf_meter *b = &c.meters[1];
	assert_string_equal(b->name, "border2");
	assert_string_equal(b->address, "2001:db8::1");
	assert_int_equal(b->port, 161);                     /* default */
	assert_string_equal(b->user, "reader");
	assert_int_equal(b->auth, RDCONF_AUTH_SHA);
	assert_string_equal(b->auth_pass, "authpass1");
	assert_int_equal(b->priv, RDCONF_PRIV_AES);
	assert_string_equal(b->priv_pass, "privpass1");
	assert_int_equal(b->interval, 60);
	assert_string_equal(b->output, "/data");
	assert_string_equal(b->rules, "other.rules");
	assert_null(b->standby);
	assert_int_equal(b->high_water, 65);                /* default */
	diag_free(&d);
	rdconf_free(&c);
}

/* One bad line in an otherwise good file: error at that line. */
static void expect_bad(const char *line, const char *want)
{
	char text[512];
	snprintf(text, sizeof text, "output /o\nrules r.srl\nmeter m\naddress h\n%s\n", line);
	struct rdconf c;
	struct diag d;
	rdconf_init(&c);
	diag_init(&d, "t.conf");
	int rc = rdconf_parse(text, strlen(text), &c, &d);
	if (rc == 0)
		rc = rdconf_finish(&c, &d);
	if (rc != -1 || d.errors != 1 || d.msgs[0].line != 5 ||
	    !strstr(d.msgs[0].text, want))
		fail_msg("line '%s': rc %d, %u errors, first at line %u: %s (want '%s')",
			 line, rc, d.errors, d.n ? d.msgs[0].line : 0,
			 d.n ? d.msgs[0].text : "-", want);
	diag_free(&d);
	rdconf_free(&c);
}

static void bad_lines(void **state)
{
	(void)state;
	expect_bad("frobnicate 1", "unknown keyword 'frobnicate'");
	expect_bad("port", "'port' needs a value");
	expect_bad("port 0", "port must be");
	expect_bad("port 65536", "port must be");
	expect_bad("port 80x", "port must be");
	expect_bad("interval 0", "interval must be");
	expect_bad("interval 7", "divides a day");
	expect_bad("interval 172800", "interval must be");
	expect_bad("high-water 101", "high-water must be");
	expect_bad("auth-protocol SHA3", "auth-protocol must be");
	expect_bad("priv-protocol 3DES", "priv-protocol must be");
	expect_bad("auth-password short", "at least 8 characters");
	expect_bad("log /tmp/x", "global setting");
	expect_bad("retries 5", "global setting");
	expect_bad("meter m", "already defined at line 3");
	expect_bad("meter ../etc", "meter name");
	expect_bad("meter .hidden", "meter name");
}

static void global_bad_values(void **state)
{
	(void)state;
	static const char *lines[] = {
		"max-repetitions 0", "timeout-ms 5", "retries 21",
		"owner 01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890",
	};
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		struct rdconf c;
		struct diag d;
		rdconf_init(&c);
		diag_init(&d, "t.conf");
		assert_int_equal(rdconf_parse(lines[i], strlen(lines[i]), &c, &d), -1);
		assert_int_equal(d.msgs[0].line, 1);
		diag_free(&d);
		rdconf_free(&c);
	}
}

/* What rdconf_finish refuses, reported at the meter's line. */
static void incomplete_meters(void **state)
{
	(void)state;
	static const struct { const char *text; const char *want; } cases[] = {
		{ "meter m\nrules r\noutput o\n", "has no address" },
		{ "meter m\naddress h\noutput o\n", "has no rules file" },
		{ "meter m\naddress h\nrules r\n", "has no output directory" },
		{ "output o\nrules r\nmeter m\naddress h\nauth-protocol SHA\n", "need an SNMPv3 user" },
		{ "output o\nrules r\nmeter m\naddress h\nuser u\nauth-protocol SHA\n", "needs auth-password" },
		{ "output o\nrules r\nmeter m\naddress h\nuser u\npriv-protocol AES\npriv-password 12345678\n", "privacy needs authentication" },
		{ "output o\nrules r\n", "no meter to read" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct rdconf c;
		struct diag d;
		rdconf_init(&c);
		diag_init(&d, "t.conf");
		assert_int_equal(rdconf_parse(cases[i].text, strlen(cases[i].text), &c, &d), 0);
		assert_int_equal(rdconf_finish(&c, &d), -1);
		if (!strstr(d.msgs[0].text, cases[i].want))
			fail_msg("case %zu: %s", i, d.msgs[0].text);
		diag_free(&d);
		rdconf_free(&c);
	}
}

static void short_form(void **state)
{
	(void)state;
	struct rdconf c;
	struct diag d;
	rdconf_init(&c);
	diag_init(&d, "ntm-reader");
	assert_int_equal(rdconf_add_meter_spec(&c, "127.0.0.1:20161", "dns-root.srl", &d), 0);
	assert_int_equal(rdconf_add_meter_spec(&c, "[::1]:1161", "x.rules", &d), 0);
	assert_int_equal(rdconf_add_meter_spec(&c, "meter.example", "x.rules", &d), 0);
	assert_int_equal(rdconf_add_meter_spec(&c, "::1", "x.rules", &d), 0);
	assert_int_equal(rdconf_add_meter_spec(&c, "h:99999", "x.rules", &d), -1);
	assert_int_equal(rdconf_add_meter_spec(&c, "[::1", "x.rules", &d), -1);
	assert_int_equal(rdconf_add_meter_spec(&c, ":161", "x.rules", &d), -1);
	assert_int_equal(d.errors, 3);
	assert_string_equal(c.meters[0].address, "127.0.0.1");
	assert_int_equal(c.meters[0].port, 20161);
	assert_string_equal(c.meters[0].name, "127.0.0.1_20161");
	assert_string_equal(c.meters[1].address, "::1");
	assert_int_equal(c.meters[1].port, 1161);
	assert_string_equal(c.meters[1].name, "___1__1161");
	assert_string_equal(c.meters[2].address, "meter.example");
	assert_int_equal(c.meters[2].port, 0);
	assert_string_equal(c.meters[3].address, "::1");
	diag_free(&d);
	rdconf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_file),
		cmocka_unit_test(bad_lines),
		cmocka_unit_test(global_bad_values),
		cmocka_unit_test(incomplete_meters),
		cmocka_unit_test(short_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
