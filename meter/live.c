/* live.c — the running meter's loop: capture or replay, clock, agent (see live.h). */
#include "live.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "difout.h"
#include "mctl.h"
#include "rule.h"
#include "srl.h"
#include "workers.h"

#define NS_PER_S    1000000000ull
#define NS_PER_MS   1000000ull
#define BATCH       64u
/* Packets metered before the agent gets its turn again, so a fast replay
 * or a busy link never starves SNMP requests. */
#define TURN_BUDGET 4096u
/* Longest sleep of one turn: bounds how late duration / idle deadlines and
 * ticks are noticed when nothing else wakes the loop. */
#define SLEEP_MAX_NS (200ull * NS_PER_MS)
/* A live interface's wait per turn (shared between the interfaces): short,
 * since SNMP requests wait meanwhile. */
#define CAP_WAIT_MS 20u
#define TICK_NS     NS_PER_S
#define OWNER       "ntm-meter"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* What a live source handed over and is not metered yet (the bytes stay
 * valid until the source's next batch). */
struct pending {
	struct pkt batch[BATCH];
	int n, pos;
	bool drained;              /* its last read this turn came short: it
	                              is not read again until the next turn */
};

/* The traces being replayed, one after another. */
struct replay {
	size_t next;               /* next trace to open */
	const char *path;          /* the open one */
	struct cap *c;
	struct pkt batch[BATCH];
	int n_batch, pos;
	uint64_t drops_done;       /* drops reported by closed traces */
	bool damaged;
	bool ended;                /* end noted (log, clock rebased) */
};

struct live {
	const struct live_options *o;
	struct diag *d;
	struct engine e;
	bool engine_on, agent_on;
	struct mctl *m;
	struct ruleset rs[ENGINE_TASKS_MAX + 1];
	size_t n_rs;

	struct replay rp;
	struct cap **caps;          /* live sources: per interface one, or one
	                               per worker (afpacket, dpdk) */
	size_t *cap_iface;          /* the interface (0-based) of each */
	struct pending *pend;       /* per source, when there are several */
	size_t n_caps;
	size_t per_iface;           /* sources per interface */
	struct workers *wk;         /* NULL: this thread meters (e) */

	uint64_t clock;             /* meter clock, ns since the epoch */
	uint64_t next_tick;
	uint64_t wall_start, wall_last_pkt;   /* CLOCK_MONOTONIC ns */
	/* replay: clock = base_trace + (wall - base_wall) * rate */
	uint64_t base_trace, base_wall;
	unsigned rate;              /* LIVE_SPEED_MAX: as fast as possible */
	bool held;                  /* waiting for a manager's task */
	bool running;               /* in the loop (started) */
	int fatal;                  /* exit status of a failure mid-run */
	struct difout *out;         /* -o / --samples, NULL = none */
	char meter_name[256];
};

void live_options_default(struct live_options *o)
{
	memset(o, 0, sizeof *o);
	o->speed = 1;
	o->high_water = 65;
	engine_config_default(&o->cfg);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void note(const struct live *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(const struct live *s, const char *fmt, ...)
{
	if (!s->o->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("ntm-meter: ", s->o->log);
	vfprintf(s->o->log, fmt, ap);
	fputc('\n', s->o->log);
	va_end(ap);
	fflush(s->o->log);
}

/* A capture error about `what` (trace or interface): the drivers usually
 * name it already; otherwise say which. */
static void cap_problem(struct live *s, const char *what, const char *msg)
{
	size_t len = strlen(what);
	if (strncmp(msg, what, len) == 0 && msg[len] == ':')
		diag_error(s->d, 0, 0, "%s", msg);
	else
		diag_error(s->d, 0, 0, "%s: %s", what, msg);
	if (s->running)   /* main prints the list only at exit */
		note(s, "%s", s->d->msgs[s->d->n - 1].text);
}

/* ---- replay clock ---- */

/* The replay clock at wall time `wall` (saturating: a huge speed times a
 * long run must not wrap). */
static uint64_t replay_target(const struct live *s, uint64_t wall)
{
	if (s->held)
		return s->clock;
	if (s->rate == LIVE_SPEED_MAX)
		return UINT64_MAX;
	uint64_t dt = wall > s->base_wall ? wall - s->base_wall : 0;
	if (dt > (UINT64_MAX - s->base_trace) / s->rate)
		return UINT64_MAX;
	return s->base_trace + dt * s->rate;
}

/* The wall time at which the replay clock reaches `t` (rate >= 1). */
static uint64_t replay_wall_of(const struct live *s, uint64_t t)
{
	if (t <= s->base_trace)
		return s->base_wall;
	return s->base_wall + (t - s->base_trace + s->rate - 1) / s->rate;
}

/* The next packet to replay, opening the next trace at the end of one;
 * NULL when every trace is done.  A damaged trace ends where the damage
 * starts (the packets before it are metered) and the replay goes on. */
static const struct pkt *replay_peek(struct live *s)
{
	struct replay *r = &s->rp;
	while (r->pos == r->n_batch) {
		if (!r->c) {
			if (r->next == s->o->n_replay)
				return NULL;
			char err[256];
			r->path = s->o->replay[r->next++];
			r->c = cap_open_file(r->path, err, sizeof err);
			if (!r->c) {
				cap_problem(s, r->path, err);
				r->damaged = true;
				continue;
			}
		}
		int n = cap_next_batch(r->c, r->batch, BATCH);
		r->pos = 0;
		r->n_batch = n > 0 ? n : 0;
		if (n <= 0) {
			if (n < 0) {
				cap_problem(s, r->path, cap_error(r->c));
				r->damaged = true;
			}
			struct cap_stats cs;
			cap_stats(r->c, &cs);
			r->drops_done += cs.drops;
			cap_close(r->c);
			r->c = NULL;
		}
	}
	return &r->batch[r->pos];
}

static uint64_t replay_drops(const struct live *s)
{
	uint64_t drops = s->rp.drops_done;
	if (s->rp.c) {
		struct cap_stats cs;
		cap_stats(s->rp.c, &cs);
		drops += cs.drops;
	}
	return drops;
}

/* One packet to the engine, or to its worker: `source`'s own when each
 * source has one (fanout member, RX queue), else the address pair's. */
static void meter_packet(struct live *s, const struct pkt *p, size_t source)
{
	if (!s->wk) {
		engine_packet(&s->e, p);
		return;
	}
	unsigned w = s->per_iface > 1 ? (unsigned)(source % s->per_iface)
				      : workers_pick(s->wk, p);
	workers_push(s->wk, w, p);
}

/* Before anything reads or changes flows: the workers idle and their
 * shards moved into the view (both cost next to nothing when no packet
 * came since the last time). */
static void sync_view(struct live *s)
{
	if (!s->wk)
		return;
	workers_quiesce(s->wk);
	engine_sync(&s->e);
}

static uint64_t packets_metered(const struct live *s)
{
	return s->wk ? workers_pushed(s->wk) : s->e.st.packets;
}

/* The run's own .dif: close the intervals that ended by `t`.  A write
 * failure ends the run (exit 2) rather than losing data silently. */
static void write_due(struct live *s, uint64_t t)
{
	sync_view(s);
	if (difout_advance(s->out, t))
		s->fatal = 2;
}

/* Meter the packets the clock has reached; move the clock. */
static void replay_turn(struct live *s, uint64_t wall)
{
	uint64_t target = replay_target(s, wall);
	const struct pkt *p = NULL;
	unsigned budget = TURN_BUDGET;
	while (!s->held && budget && (p = replay_peek(s)) && p->ts_ns <= target) {
		if (s->out && p->ts_ns >= difout_next_due(s->out))
			write_due(s, p->ts_ns);
		meter_packet(s, p, 0);
		s->rp.pos++;
		budget--;
		s->wall_last_pkt = wall;
	}
	if (!s->held)
		p = replay_peek(s);
	uint64_t clock = s->held ? s->clock : p && p->ts_ns <= target ? p->ts_ns : target;
	if (!s->held && !p && !s->rp.ended) {
		sync_view(s);
		uint64_t end = max_u64(s->clock, s->e.st.last_ns);
		s->rp.ended = true;
		note(s, "end of replay: %" PRIu64 " packets, %.3f s of trace in %.3f s",
		     packets_metered(s), (double)(end - mctl_start_ns(s->m)) / 1e9,
		     (double)(wall - s->wall_start) / 1e9);
		if (s->rate == LIVE_SPEED_MAX) {
			/* the clock runs on at wall speed from the last packet */
			s->rate = 1;
			s->base_trace = clock = end;
			s->base_wall = wall;
		}
	}
	s->clock = max_u64(s->clock, clock);
}

/* How long the replay may sleep from `wall` before something is due. */
static uint64_t replay_sleep(struct live *s, uint64_t wall)
{
	if (s->held)
		return SLEEP_MAX_NS;
	const struct pkt *p = replay_peek(s);
	if (p && (s->rate == LIVE_SPEED_MAX || p->ts_ns <= s->clock))
		return 0;
	uint64_t due = replay_wall_of(s, s->next_tick);
	if (p)
		due = min_u64(due, replay_wall_of(s, p->ts_ns));
	return due > wall ? due - wall : 0;
}

/* ---- live capture ---- */

/* One captured packet: the run's own intervals first, then the meter. */
static void capture_packet(struct live *s, const struct pkt *p, size_t source)
{
	if (s->out && p->ts_ns >= difout_next_due(s->out))
		write_due(s, p->ts_ns);
	meter_packet(s, p, source);
	s->clock = max_u64(s->clock, p->ts_ns);
}

/* The next packet of source k; when its batch is used up and may_read, the
 * source's next batch.  NULL when there is none.  Like the one-source turn,
 * a source is read again within a turn only while its reads come back
 * full, so a trickle of packets never keeps the turn (SNMP, ticks)
 * waiting. */
static const struct pkt *source_peek(struct live *s, size_t k, bool may_read)
{
	struct pending *q = &s->pend[k];
	if (q->pos < q->n)
		return &q->batch[q->pos];
	if (!may_read || q->drained)
		return NULL;
	int n = cap_next_batch(s->caps[k], q->batch, BATCH);
	q->pos = 0;
	q->n = n > 0 ? n : 0;
	q->drained = n < (int)BATCH;
	if (n < 0) {
		cap_problem(s, s->o->ifaces[s->cap_iface[k]], cap_error(s->caps[k]));
		s->fatal = 2;
	}
	return n > 0 ? &q->batch[0] : NULL;
}

/* Meter the earliest next packet of all sources; false when none has one. */
static bool meter_earliest(struct live *s, bool may_read)
{
	const struct pkt *first = NULL;
	size_t from = 0;
	for (size_t k = 0; k < s->n_caps && !s->fatal; k++) {
		const struct pkt *p = source_peek(s, k, may_read);
		if (p && (!first || p->ts_ns < first->ts_ns)) {
			first = p;
			from = k;
		}
	}
	if (!first || s->fatal)
		return false;
	s->pend[from].pos++;
	capture_packet(s, first, from);
	return true;
}

/* Several sources (interfaces, fanout members, RX queues): packets are
 * metered in timestamp order, each source's next packet against the
 * others', so neither an interval cut nor the clock (DNS expiry) overtakes
 * a packet that a source lagging behind has already captured. */
static bool merge_turn(struct live *s)
{
	bool got = false;
	for (size_t k = 0; k < s->n_caps; k++)
		s->pend[k].drained = false;
	for (size_t budget = (size_t)TURN_BUDGET * s->n_caps; budget; budget--) {
		if (!meter_earliest(s, true))
			break;
		got = true;
	}
	return got;
}

/* At the end of the run: what the sources handed over is still metered. */
static void flush_pending(struct live *s)
{
	while (s->pend && meter_earliest(s, false))
		;
}

static void capture_turn(struct live *s, uint64_t wall)
{
	struct pkt batch[BATCH];
	bool got = false;
	if (s->n_caps > 1) {
		got = merge_turn(s);
	} else {
		unsigned budget = TURN_BUDGET;
		int n;
		do {
			n = cap_next_batch(s->caps[0], batch, BATCH);
			if (n < 0) {
				cap_problem(s, s->o->ifaces[0], cap_error(s->caps[0]));
				s->fatal = 2;
				break;
			}
			for (int j = 0; j < n; j++)
				capture_packet(s, &batch[j], 0);
			got |= n > 0;
			budget = (unsigned)n < budget ? budget - (unsigned)n : 0;
		} while (n == (int)BATCH && budget);
	}
	if (got)
		s->wall_last_pkt = wall;
	else
		s->clock = max_u64(s->clock, clock_ns(CLOCK_REALTIME));
}

/* ---- start-up ---- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Read and check every ruleset file (before anything starts). */
static int read_rulesets(struct live *s)
{
	const struct live_options *o = s->o;
	size_t n = o->n_rules + (o->standby ? 1 : 0);
	if (n > ENGINE_TASKS_MAX + 1 || o->n_rules > ENGINE_TASKS_MAX) {
		diag_error(s->d, 0, 0, "at most %u rulesets run at once", ENGINE_TASKS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *path = i < o->n_rules ? o->rules[i] : o->standby;
		struct diag d;
		diag_init(&d, path);
		ruleset_init(&s->rs[i]);
		s->n_rs = i + 1;
		int rc = srl_load_ruleset(path, &s->rs[i], &d);
		diag_forward(s->d, path, &d);
		bool failed = rc != 0 || d.errors;
		diag_free(&d);
		if (failed)
			return -1;
		/* as offline: two files naming the same SET is a mistake, not a
		 * renumbering (a file without SET gets a free number later) */
		for (size_t j = 0; j < i && s->rs[i].set; j++)
			if (s->rs[j].set == s->rs[i].set) {
				diag_error(s->d, 0, 0, "%s: ruleset number %u is also used by %s", path,
					   s->rs[i].set, j < o->n_rules ? o->rules[j] : o->standby);
				return -1;
			}
	}
	return 0;
}

/* Hand the rulesets to the control tables and start one task per -r. */
static int start_tasks(struct live *s)
{
	const struct live_options *o = s->o;
	uint32_t set[ENGINE_TASKS_MAX + 1] = {0};
	for (size_t i = 0; i < s->n_rs; i++) {
		const char *path = i < o->n_rules ? o->rules[i] : o->standby;
		struct diag d;
		diag_init(&d, path);
		int rc = mctl_load_ruleset(s->m, &s->rs[i], base_name(path), OWNER, &set[i], &d);
		diag_forward(s->d, path, &d);
		diag_free(&d);
		if (rc)
			return -1;
	}
	for (size_t i = 0; i < o->n_rules; i++) {
		uint32_t standby = i == 0 && o->standby ? set[o->n_rules] : 0;
		if (mctl_start_task(s->m, set[i], standby, o->high_water, OWNER, NULL)) {
			diag_error(s->d, 0, 0, "%s: cannot start a task for ruleset %" PRIu32
				   " (no free task slot)", o->rules[i], set[i]);
			return -1;
		}
	}
	return 0;
}

/* Open every source; for a replay also the first packet, whose time is
 * the meter's start. */
static int open_sources(struct live *s, uint64_t *start_ns)
{
	const struct live_options *o = s->o;
	if (o->n_replay) {
		/* every trace must open now, not minutes into the run */
		for (size_t i = 0; i < o->n_replay; i++) {
			if (strcmp(o->replay[i], "-") == 0)
				continue;
			char err[256];
			struct cap *c = cap_open_file(o->replay[i], err, sizeof err);
			if (!c) {
				cap_problem(s, o->replay[i], err);
				return -1;
			}
			cap_close(c);
		}
		const struct pkt *p = replay_peek(s);
		if (!p) {
			if (!s->rp.damaged)
				diag_error(s->d, 0, 0, "%s: no packets to replay", o->replay[0]);
			return -1;
		}
		*start_ns = p->ts_ns;
		return 0;
	}
	if (!o->n_ifaces) {
		diag_error(s->d, 0, 0, "nothing to meter: give --replay TRACE or -i IFACE");
		return -1;
	}
	const char *driver = o->driver ? o->driver : "pcap";
	/* drivers that spread an interface symmetrically themselves give
	 * each worker its own source */
	s->per_iface = o->workers > 1 && (strcmp(driver, "afpacket") == 0 ||
					  strcmp(driver, "dpdk") == 0) ? o->workers : 1;
	size_t n = o->n_ifaces * s->per_iface;
	if (!(s->caps = calloc(n, sizeof *s->caps)) ||
	    !(s->cap_iface = calloc(n, sizeof *s->cap_iface)) ||
	    (n > 1 && !(s->pend = calloc(n, sizeof *s->pend)))) {
		diag_error(s->d, 0, 0, "out of memory");
		return -1;
	}
	unsigned wait_ms = CAP_WAIT_MS / (unsigned)n;
	for (size_t k = 0; k < n; k++) {
		size_t i = k / s->per_iface;
		struct cap_options co = o->cap;
		char err[256];
		co.ifindex = (uint16_t)(i + 1);
		co.timeout_ms = wait_ms ? wait_ms : 1;
		co.immediate = true;   /* packets now, not when a kernel block fills */
		co.queue = (uint16_t)(k % s->per_iface);
		co.n_queues = (uint16_t)s->per_iface;
		if (s->per_iface > 1 && !co.fanout_group)
			/* one AF_PACKET fanout group per interface */
			co.fanout_group = (uint16_t)(((unsigned)getpid() + i) & 0xffffu);
		s->caps[k] = cap_open_live(driver, o->ifaces[i], &co, err, sizeof err);
		if (!s->caps[k]) {
			cap_problem(s, o->ifaces[i], err);
			return -1;
		}
		s->cap_iface[k] = i;
		s->n_caps = k + 1;
	}
	*start_ns = clock_ns(CLOCK_REALTIME);
	return 0;
}

static int start_agent(struct live *s, uint64_t start_ns)
{
	struct agent_options ao = s->o->agent;
	ao.start_ns = start_ns;
	ao.speed = s->o->n_replay ? s->o->speed : 1;
	if (!ao.meter_name) {
		if (gethostname(s->meter_name, sizeof s->meter_name - 1))
			strcpy(s->meter_name, "ntm");
		ao.meter_name = s->meter_name;
	}
	struct diag d;
	diag_init(&d, "agent");
	int rc = agent_start(&ao, s->m, &s->e, &d);
	if (rc) {
		const char *where = ao.agentx ? ao.agentx : ao.listen ? ao.listen : AGENT_DEFAULT_LISTEN;
		/* every line names the address (the agent's own usually do) */
		for (size_t i = 0; i < d.n; i++) {
			if (strstr(d.msgs[i].text, where))
				diag_error(s->d, 0, 0, "%s", d.msgs[i].text);
			else
				diag_error(s->d, 0, 0, "SNMP %s %s: %s", ao.agentx ? "AgentX master" :
					   "agent on", where, d.msgs[i].text);
		}
		if (!d.n)
			diag_error(s->d, 0, 0, "SNMP agent on %s: cannot start", where);
	}
	diag_free(&d);
	s->agent_on = rc == 0;
	return rc;
}

/* Become `user` for good: groups, gid, then uid (the order that still has
 * the right to change each), and check that root cannot be regained. */
static int drop_privileges(struct live *s, const char *user)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		diag_error(s->d, 0, 0, "--user %s: %s", user,
			   errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) ||
	    setuid(pw->pw_uid)) {
		diag_error(s->d, 0, 0, "--user %s: cannot switch to uid %u gid %u: %s",
			   user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		diag_error(s->d, 0, 0, "--user %s: root could be regained; refusing to run", user);
		return -1;
	}
	note(s, "running as %s (uid %u gid %u)", pw->pw_name, (unsigned)pw->pw_uid,
	     (unsigned)pw->pw_gid);
	return 0;
}

static int start(struct live *s)
{
	const struct live_options *o = s->o;
	uint64_t start_ns;
	if (read_rulesets(s) || open_sources(s, &start_ns))
		return -1;
	if (o->workers > 1 ? engine_init_sharded(&s->e, &o->cfg, o->workers, s->d) :
			     engine_init(&s->e, &o->cfg, s->d))
		return -1;
	s->engine_on = true;
	struct mctl_config mc;
	mctl_config_default(&mc);
	mc.n_interfaces = o->n_ifaces ? o->n_ifaces : 1;
	if (!(s->m = mctl_create(&s->e, &mc, start_ns))) {
		diag_error(s->d, 0, 0, "out of memory");
		return -1;
	}
	if (start_tasks(s) || start_agent(s, start_ns))
		return -1;
	if (o->out || o->samples) {
		struct difout_options wo = {
			.out = o->out, .samples = o->samples,
			.interval_s = o->interval_s ? o->interval_s : 300,
			.meter = o->agent.meter_name ? o->agent.meter_name : s->meter_name,
			.command_line = o->command_line,
			.rs = s->rs, .n_rs = s->n_rs, .start_ns = start_ns,
			.own_gc = false,
		};
		if (!(s->out = difout_open(&wo, &s->e, s->d)))
			return -1;
	}
	/* everything that needs root is open: no packet is seen as root */
	if (o->user && drop_privileges(s, o->user))
		return -1;
	if (o->workers > 1 && !(s->wk = workers_start(&s->e, s->d)))
		return -1;
	s->clock = start_ns;
	s->next_tick = start_ns + TICK_NS;
	mctl_now(s->m, s->clock);
	s->wall_start = s->wall_last_pkt = s->base_wall = clock_ns(CLOCK_MONOTONIC);
	s->base_trace = start_ns;
	s->rate = o->speed;
	/* without -r a replay waits for a manager's ruleset: no packet may
	 * pass before a reader's task could count it */
	s->held = o->n_replay && !mctl_task_running(s->m);
	if (s->held)
		note(s, "replay holds at the first packet until a task is started");
	return 0;
}

/* ---- the loop ---- */

/* Interface i's statistics: the sum over its sources. */
static void iface_stats(const struct live *s, size_t i, struct cap_stats *out)
{
	memset(out, 0, sizeof *out);
	for (size_t k = 0; k < s->n_caps; k++) {
		if (s->cap_iface[k] != i)
			continue;
		struct cap_stats cs;
		cap_stats(s->caps[k], &cs);
		out->packets += cs.packets;
		out->bytes += cs.bytes;
		out->drops += cs.drops;
		out->bad += cs.bad;
	}
}

static void tick(struct live *s)
{
	if (s->clock < s->next_tick)
		return;
	sync_view(s);
	if (s->n_caps) {
		for (size_t i = 0; i < s->o->n_ifaces; i++) {
			struct cap_stats cs;
			iface_stats(s, i, &cs);
			mctl_set_interface_lost(s->m, (uint32_t)(i + 1), cs.drops);
		}
	} else {
		mctl_set_interface_lost(s->m, 1, replay_drops(s));
	}
	mctl_tick(s->m);
	s->next_tick = s->clock + TICK_NS;
}

/* Wall time until the first of the run's own deadlines (duration, idle). */
static uint64_t deadline_sleep(const struct live *s, uint64_t wall, bool *over)
{
	uint64_t sleep = SLEEP_MAX_NS;
	*over = false;
	if (s->o->duration_s) {
		uint64_t end = s->wall_start + s->o->duration_s * NS_PER_S;
		*over |= wall >= end;
		sleep = min_u64(sleep, end > wall ? end - wall : 0);
	}
	if (s->o->idle_exit_s) {
		uint64_t end = s->wall_last_pkt + s->o->idle_exit_s * NS_PER_S;
		*over |= wall >= end;
		sleep = min_u64(sleep, end > wall ? end - wall : 0);
	}
	return sleep;
}

static void loop(struct live *s, const sigset_t *wait_mask)
{
	uint64_t sleep_ns = 0;
	s->running = true;
	while (!stop_signal && !s->fatal) {
		fd_set fds;
		int maxfd = -1;
		FD_ZERO(&fds);
		struct timeval tv = {
			.tv_sec = (time_t)(sleep_ns / NS_PER_S),
			.tv_usec = (suseconds_t)(sleep_ns % NS_PER_S / 1000),
		};
		agent_select_info(&fds, &maxfd, &tv);
		struct timespec ts = { .tv_sec = tv.tv_sec, .tv_nsec = tv.tv_usec * 1000 };
		int r = pselect(maxfd + 1, &fds, NULL, NULL, &ts, wait_mask);
		if (r < 0)
			continue;   /* a signal: the loop condition decides */

		uint64_t wall = clock_ns(CLOCK_MONOTONIC);
		if (s->n_caps)
			capture_turn(s, wall);
		else
			replay_turn(s, wall);
		mctl_now(s->m, s->clock);
		if (s->out && !s->held) {
			/* intervals end on time even with no packet; what the
			 * file has not had yet is never recovered */
			if (s->clock >= difout_next_due(s->out))
				write_due(s, s->clock);
			mctl_hold_gc(s->m, difout_read_ns(s->out));
		}
		tick(s);
		agent_set_packets(packets_metered(s));
		if (r > 0)
			sync_view(s);   /* a request may read flows */
		agent_process(r > 0 ? &fds : NULL);

		if (s->held && mctl_task_running(s->m)) {
			/* trace time starts now, at the first packet */
			s->held = false;
			s->base_wall = clock_ns(CLOCK_MONOTONIC);
			s->base_trace = s->clock;
			note(s, "task started: replay begins");
		}
		wall = clock_ns(CLOCK_MONOTONIC);
		bool over;
		sleep_ns = deadline_sleep(s, wall, &over);
		if (over)
			break;
		if (!s->n_caps)
			sleep_ns = min_u64(sleep_ns, replay_sleep(s, wall));
		else
			sleep_ns = 0;   /* the capture itself waits */
	}
}

static void print_stats(const struct live *s, FILE *out)
{
	fprintf(out, "packets %" PRIu64 " octets %" PRIu64 " uptime_cs %" PRIu32 "\n",
		s->e.st.packets, s->e.st.octets, mctl_uptime_cs(s->m));
	for (size_t i = 0; s->n_caps && i < s->o->n_ifaces; i++) {
		struct cap_stats cs;
		iface_stats(s, i, &cs);
		fprintf(out, "interface %zu %s captured %" PRIu64 " dropped %" PRIu64 "\n",
			i + 1, s->o->ifaces[i], cs.packets, cs.drops);
	}
	engine_print_stats(&s->e, out);
	if (s->wk)
		workers_print_stats(s->wk, out);
}

static void live_free(struct live *s)
{
	workers_stop(s->wk);
	s->wk = NULL;
	difout_free(s->out);
	s->out = NULL;
	if (s->agent_on)
		agent_stop();
	if (s->m)
		mctl_free(s->m);
	if (s->engine_on)
		engine_free(&s->e);
	for (size_t i = 0; i < s->n_rs; i++)
		ruleset_free(&s->rs[i]);
	if (s->rp.c)
		cap_close(s->rp.c);
	for (size_t i = 0; i < s->n_caps; i++)
		cap_close(s->caps[i]);
	free(s->caps);
	free(s->cap_iface);
	free(s->pend);
}

int live_run(const struct live_options *o, struct diag *d)
{
	struct live s;
	memset(&s, 0, sizeof s);
	s.o = o;
	s.d = d;
	if (o->n_replay && o->n_ifaces) {
		diag_error(d, 0, 0, "--replay and -i cannot be combined");
		return 1;
	}

	/* SIGINT/SIGTERM are taken only inside pselect(), so a stop is never
	 * missed between the check and the sleep. */
	struct sigaction sa, old_int, old_term, old_hup;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, &old_hup);
	sigset_t block, old_mask, wait_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	wait_mask = old_mask;
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	stop_signal = 0;

	int rc = 1;
	if (start(&s) == 0) {
		loop(&s, &wait_mask);
		if (!s.fatal)
			flush_pending(&s);
		if (stop_signal)
			note(&s, "stopped by signal %d", (int)stop_signal);
		sync_view(&s);
		if (s.out) {
			/* the run's end: unanswered requests are lost, as at
			 * the end of an offline run */
			engine_finish(&s.e);
			uint64_t end = max_u64(s.clock, s.e.st.last_ns + 1);
			int wrc = difout_close(s.out, end);
			if (wrc == 2 && !s.fatal)
				s.fatal = 2;
		}
		if (o->stats_out)
			print_stats(&s, o->stats_out);
		rc = s.fatal ? s.fatal : s.rp.damaged ? 1 : 0;
	}
	live_free(&s);

	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	return rc;
}
