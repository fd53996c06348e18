/*
 * rdtime.h — ntm-reader's schedule arithmetic.  Collections happen at
 * multiples of the interval in *meter* time (trace time on a replaying
 * meter, which runs `speed` times faster than the wall clock), so the
 * reader keeps a clock model: a meter time read at a known wall time, plus
 * the speed, and converts between the two.
 */
#ifndef NTM_RDTIME_H
#define NTM_RDTIME_H

#include <stdint.h>

#define RDTIME_NS_PER_S   1000000000ull
#define RDTIME_NS_PER_CS  10000000ull
#define RDTIME_DAY_LEN    11          /* "YYYY-MM-DD" + NUL */

/* The meter clock as last read: meter_ns observed at wall_ns. */
struct rdtime_clock {
	uint64_t meter_ns;
	uint64_t wall_ns;
	unsigned speed;               /* >= 1 */
};

/* Meter time at wall time `wall_ns` (never before the observation). */
uint64_t rdtime_meter_at(const struct rdtime_clock *c, uint64_t wall_ns);

/* The first multiple of interval_s seconds strictly after meter_ns. */
uint64_t rdtime_next_boundary(uint64_t meter_ns, unsigned interval_s);

/* Wall-clock ns from wall time `wall_ns` until the meter clock reaches
 * meter time `target_ns` (0 when it already has), rounded up. */
uint64_t rdtime_wall_until(const struct rdtime_clock *c, uint64_t wall_ns,
			   uint64_t target_ns);

/* Retry delay after `failures` consecutive failures (1 -> 1 s, doubling),
 * capped at cap_s seconds. */
unsigned rdtime_backoff_s(unsigned failures, unsigned cap_s);

/* UTC date of epoch time `ns` as YYYY-MM-DD (the daily file's name). */
void rdtime_day(uint64_t ns, char buf[RDTIME_DAY_LEN]);

/* Wall clock now, ns since the epoch. */
uint64_t rdtime_wall_now(void);

#endif
