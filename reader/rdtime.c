/* rdtime.c — ntm-reader's schedule arithmetic (see rdtime.h). */
#include "rdtime.h"

#include <time.h>

uint64_t rdtime_meter_at(const struct rdtime_clock *c, uint64_t wall_ns)
{
	uint64_t speed = c->speed ? c->speed : 1;
	if (wall_ns <= c->wall_ns)
		return c->meter_ns;
	return c->meter_ns + (wall_ns - c->wall_ns) * speed;
}

uint64_t rdtime_next_boundary(uint64_t meter_ns, unsigned interval_s)
{
	uint64_t len = (uint64_t)(interval_s ? interval_s : 1) * RDTIME_NS_PER_S;
	return (meter_ns / len + 1) * len;
}

uint64_t rdtime_wall_until(const struct rdtime_clock *c, uint64_t wall_ns,
			   uint64_t target_ns)
{
	uint64_t speed = c->speed ? c->speed : 1;
	uint64_t now = rdtime_meter_at(c, wall_ns);
	if (target_ns <= now)
		return 0;
	return (target_ns - now + speed - 1) / speed;
}

unsigned rdtime_backoff_s(unsigned failures, unsigned cap_s)
{
	if (!failures)
		return 0;
	unsigned d = 1;
	for (unsigned i = 1; i < failures && d < cap_s; i++)
		d *= 2;
	return d < cap_s ? d : cap_s;
}

void rdtime_day(uint64_t ns, char buf[RDTIME_DAY_LEN])
{
	time_t t = (time_t)(ns / RDTIME_NS_PER_S);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, RDTIME_DAY_LEN, "%Y-%m-%d", &tm);
}

uint64_t rdtime_wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * RDTIME_NS_PER_S + (uint64_t)ts.tv_nsec;
}
