/* test_rdtime — ntm-reader's schedule in meter time: next boundary, wall
 * delay at replay speed N, backoff, daily file names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "rdtime.h"

#define S 1000000000ull

static void next_boundary(void **state)
{
	(void)state;
	/* 1700000100 is a multiple of 300 */
	assert_int_equal(rdtime_next_boundary(1700000100 * S, 300), 1700000400 * S);
	assert_int_equal(rdtime_next_boundary(1700000100 * S - 1, 300), 1700000100 * S);
	assert_int_equal(rdtime_next_boundary(1700000100 * S + 1, 300), 1700000400 * S);
	assert_int_equal(rdtime_next_boundary(0, 60), 60 * S);
	assert_int_equal(rdtime_next_boundary(59 * S + 999999999, 60), 60 * S);
}

static void speed(void **state)
{
	(void)state;
	/* meter at 1700000130 s read at wall 1000 s, running 60x */
	struct rdtime_clock c = { .meter_ns = 1700000130 * S, .wall_ns = 1000 * S, .speed = 60 };
	assert_int_equal(rdtime_meter_at(&c, 1000 * S), 1700000130 * S);
	assert_int_equal(rdtime_meter_at(&c, 1001 * S), 1700000190 * S);
	assert_int_equal(rdtime_meter_at(&c, 999 * S), 1700000130 * S);
	/* 270 s of meter time to the 1700000400 boundary = 4.5 s of wall time */
	uint64_t b = rdtime_next_boundary(c.meter_ns, 300);
	assert_int_equal(b, 1700000400 * S);
	assert_int_equal(rdtime_wall_until(&c, 1000 * S, b), 4500000000ull);
	assert_int_equal(rdtime_wall_until(&c, 1002 * S, b), 2500000000ull);
	assert_int_equal(rdtime_wall_until(&c, 1005 * S, b), 0);
	/* rounded up: 1 ns of meter time at speed 60 is 1 ns of wall */
	assert_int_equal(rdtime_wall_until(&c, 1000 * S, c.meter_ns + 1), 1);
	/* speed 1 (live meter, or no NTM-MIB) */
	struct rdtime_clock live = { .meter_ns = 1700000399 * S, .wall_ns = 5 * S, .speed = 1 };
	assert_int_equal(rdtime_wall_until(&live, 5 * S, 1700000400 * S), S);
	/* speed 0 is taken as 1 */
	live.speed = 0;
	assert_int_equal(rdtime_meter_at(&live, 6 * S), 1700000400 * S);
}

static void backoff(void **state)
{
	(void)state;
	assert_int_equal(rdtime_backoff_s(0, 60), 0);
	assert_int_equal(rdtime_backoff_s(1, 60), 1);
	assert_int_equal(rdtime_backoff_s(2, 60), 2);
	assert_int_equal(rdtime_backoff_s(3, 60), 4);
	assert_int_equal(rdtime_backoff_s(6, 60), 32);
	assert_int_equal(rdtime_backoff_s(7, 60), 60);
	assert_int_equal(rdtime_backoff_s(1000, 60), 60);
	assert_int_equal(rdtime_backoff_s(3, 3), 3);
}

static void day(void **state)
{
	(void)state;
	char buf[RDTIME_DAY_LEN];
	rdtime_day(1700000100 * S, buf);          /* 2023-11-14T22:15:00Z */
	assert_string_equal(buf, "2023-11-14");
	rdtime_day(1700006399 * S + 999999999, buf);  /* 23:59:59.999 */
	assert_string_equal(buf, "2023-11-14");
	rdtime_day(1700006400 * S, buf);
	assert_string_equal(buf, "2023-11-15");
	rdtime_day(0, buf);
	assert_string_equal(buf, "1970-01-01");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(next_boundary),
		cmocka_unit_test(speed),
		cmocka_unit_test(backoff),
		cmocka_unit_test(day),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
