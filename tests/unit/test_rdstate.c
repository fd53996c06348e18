/* test_rdstate — ntm-reader's state file: round trip, the exact text
 * written, replacement and forgetting of packages, and refusal of damaged
 * files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "rdstate.h"

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/test_rdstate.%d", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(void)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void round_trip(void **state)
{
	(void)state;
	struct rdstate s;
	rdstate_init(&s);
	s.start_ns = 1700000100123456789ull;
	s.last_uptime = 30000;
	s.last_ns = 1700000400000000000ull;
	s.set = 2;
	s.reader = 7;
	static const uint8_t p1[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	static const uint8_t p2[] = { 0x30, 0x00 };
	static const uint8_t p3[] = { 0xff };
	/* out of order, and a replacement */
	assert_int_equal(rdstate_put(&s, 2, 17, 4200, p1, sizeof p1), 0);
	assert_int_equal(rdstate_put(&s, 2, 3, 100, p3, sizeof p3), 0);
	assert_int_equal(rdstate_put(&s, 2, 3, 100, p2, sizeof p2), 0);
	assert_int_equal(rdstate_put(&s, 3, 1, 0, p3, sizeof p3), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(rdstate_put(&s, 2, 4, 0, p3, 0), -1);
	assert_int_equal(rdstate_save(path, &s), 0);
	assert_string_equal(read_text(),
		"ntm-reader-state 1\n"
		"start_ns 1700000100123456789\n"
		"last_uptime 30000\n"
		"last_ns 1700000400000000000\n"
		"set 2\n"
		"reader 7\n"
		"pkg 2 3 100 3000\n"
		"pkg 2 17 4200 3003020105\n"
		"pkg 3 1 0 ff\n"
		"end\n");

	struct rdstate t;
	rdstate_init(&t);
	const char *why = NULL;
	assert_int_equal(rdstate_load(path, &t, &why), 0);
	assert_int_equal(t.start_ns, s.start_ns);
	assert_int_equal(t.last_uptime, 30000);
	assert_int_equal(t.last_ns, s.last_ns);
	assert_int_equal(t.set, 2);
	assert_int_equal(t.reader, 7);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.pkgs[1].index, 17);
	assert_int_equal(t.pkgs[1].first_id, 4200);
	assert_int_equal(t.pkgs[1].len, sizeof p1);
	assert_memory_equal(t.pkgs[1].bytes, p1, sizeof p1);

	rdstate_drop(&t, 2, 3);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.pkgs[0].index, 17);
	rdstate_drop(&t, 9, 9);
	assert_int_equal(t.n, 2);
	rdstate_drop_set(&t, 2);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.pkgs[0].set, 3);
	rdstate_free(&t);
	rdstate_free(&s);
}

static void missing_and_damaged(void **state)
{
	(void)state;
	struct rdstate s;
	rdstate_init(&s);
	const char *why = NULL;
	unlink(path);
	assert_int_equal(rdstate_load(path, &s, &why), 1);
	static const char *bad[] = {
		"",
		"ntm-reader-state 2\n",
		"ntm-reader-state 1\nstart_ns x\n",
		"ntm-reader-state 1\nstart_ns 1\nlast_uptime 4294967296\n",
		"ntm-reader-state 1\nstart_ns 1\nlast_uptime 1\nlast_ns 1\nset 2\nreader 1\n",   /* no end */
		"ntm-reader-state 1\nstart_ns 1\nlast_uptime 1\nlast_ns 1\nset 2\nreader 1\npkg 2 3 4 3g\nend\n",
		"ntm-reader-state 1\nstart_ns 1\nlast_uptime 1\nlast_ns 1\nset 2\nreader 1\npkg 2 3 4 300\nend\n",
		"ntm-reader-state 1\nstart_ns 1\nlast_uptime 1\nlast_ns 1\nset 2\nreader 1\npkg 2 3 4\nend\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		write_text(bad[i]);
		why = NULL;
		if (rdstate_load(path, &s, &why) != -1 || !why)
			fail_msg("damaged file %zu accepted", i);
		assert_int_equal(s.n, 0);
	}
	write_text("ntm-reader-state 1\nstart_ns 1\nlast_uptime 1\nlast_ns 1\nset 2\nreader 1\nend\n");
	assert_int_equal(rdstate_load(path, &s, &why), 0);
	assert_int_equal(s.set, 2);
	rdstate_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_and_damaged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
