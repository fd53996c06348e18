/* test_engine_shards — a view over 2 and 3 shard engines (engine.h,
 * "Shards") against one plain engine fed the same packets: DNS exchanges
 * (answered, retransmitted, lost, duplicated, unmatched) between 40
 * clients and 6 servers, two tasks (server flows with the dynamic RTT
 * distribution; client-server flows with RFC 2724 static distributions),
 * the packets spread over the shards by a symmetric address-pair rule,
 * the view synced after every k packets and at interval ends.  At each
 * interval end every view flow must equal the plain engine's flow of the
 * same index, field by field and distribution by distribution; the RTT
 * samples reach on_sample in the same order.  Then garbage collection and
 * the mirrored task controls. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "dist.h"
#include "engine.h"
#include "srl.h"
#include "statdist.h"

#define US  1000ull
#define MS  1000000ull
#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

#define MAX_FLOWS   512
#define N_CLIENTS   40
#define N_SERVERS   6
#define INTERVAL    (5 * SEC)

/* Server flows, the dynamic RTT distribution and two additive static
 * ones (what a key spread over several shards can still merge exactly). */
static const char rules_servers[] =
	"SET 3;\n"
	"if SourceTransType == 17 && DestTransAddress == 53 {\n"
	"  save DestPeerAddress /32;\n"
	"  save ToTurnaroundTime = 60.0.0!0 & 3.0.0!0;\n"
	"  save FromPacketSize = 60.0.0!0 & 1.0.25!1500;\n"
	"  save ToPacketSize = 60.0.0!0 & 1.0.25!1500;\n"
	"  count;\n"
	"}\n"
	"nomatch;\n";

/* Server flows again, with the static distributions that depend on the
 * order of the flow's packets over all shards (the view replays them). */
static const char rules_order[] =
	"SET 7;\n"
	"if SourceTransType == 17 && DestTransAddress == 53 {\n"
	"  save DestPeerAddress /32;\n"
	"  save ToInterarrivalTime = 60.0.0!0 & 2.3.1!1800;\n"
	"  save FromInterarrivalTime = 60.0.0!0 & 2.3.1!1800;\n"
	"  save ToTurnaroundTime = 60.0.0!0 & 2.3.1!1800;\n"
	"  save ToPDURate = 50.1.0!0 & 1.0.1!50;\n"
	"  save FromBitRate = 60.1.0!0 & 2.3.1!10000;\n"
	"  save FromPDURate = 50.1.0!0 & 1.0.1!50;\n"
	"  save ToPacketSize = 60.0.0!0 & 1.0.25!1500;\n"
	"  count;\n"
	"}\n"
	"nomatch;\n";

/* Client-server flows (one shard each: the pair rule keeps them
 * together). */
static const char rules_pairs[] =
	"SET 5;\n"
	"if SourceTransType == 17 && DestTransAddress == 53 {\n"
	"  save SourcePeerAddress /32;\n"
	"  save DestPeerAddress /32;\n"
	"  save ToPacketSize = 60.0.0!0 & 1.0.25!1500;\n"
	"  save ToInterarrivalTime = 60.0.0!0 & 2.3.1!1800;\n"
	"  save ToTurnaroundTime = 60.0.0!0 & 2.3.1!1800;\n"
	"  save ToPDURate = 50.1.0!0 & 1.0.1!50;\n"
	"  save ToBitRate = 60.1.0!0 & 2.3.1!10000;\n"
	"  count;\n"
	"}\n"
	"nomatch;\n";

/* ---- packets ---- */

struct event {
	uint64_t ts;
	uint32_t client, server;        /* IPv4 addresses */
	uint16_t cport, id;
	uint16_t len;                   /* IP total length */
	bool response;
};

#define PKT_MAX 200
#define DNS_OFF 28

/* A raw IPv4 UDP DNS message "a." IN A, padded with zeros to len. */
static void build(const struct event *ev, uint8_t *b)
{
	memset(b, 0, ev->len);
	uint32_t src = ev->response ? ev->server : ev->client;
	uint32_t dst = ev->response ? ev->client : ev->server;
	uint16_t sport = ev->response ? 53 : ev->cport;
	uint16_t dport = ev->response ? ev->cport : 53;
	b[0] = 0x45;
	b[2] = (uint8_t)(ev->len >> 8);
	b[3] = (uint8_t)ev->len;
	b[6] = 0x40;
	b[8] = 64;
	b[9] = 17;
	for (int i = 0; i < 4; i++) {
		b[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		b[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	b[24] = (uint8_t)((ev->len - 20) >> 8);
	b[25] = (uint8_t)(ev->len - 20);
	uint8_t *q = b + DNS_OFF;
	q[0] = (uint8_t)(ev->id >> 8);
	q[1] = (uint8_t)ev->id;
	q[2] = ev->response ? 0x81 : 0x01;
	q[3] = ev->response ? 0x80 : 0x00;
	q[5] = 1;                                   /* QDCOUNT */
	static const uint8_t question[] = { 1, 'a', 0, 0, 1, 0, 1 };
	memcpy(q + 12, question, sizeof question);
}

static uint64_t rng_state;
static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static int by_ts(const void *a_, const void *b_)
{
	const struct event *a = a_, *b = b_;
	return a->ts < b->ts ? -1 : a->ts > b->ts;
}

#define EXCHANGES 3000
#define EVENTS_MAX (EXCHANGES * 3)

/* Exchanges every ~7 ms for ~21 s; server 1 takes 60 % (over 120 RTT
 * samples per 5-s interval), the others fewer.  Timestamps are unique
 * (one engine's order is then the time order the view merges by). */
static size_t make_events(struct event *ev)
{
	size_t n = 0;
	rng_state = 42;
	for (unsigned i = 0; i < EXCHANGES; i++) {
		struct event q = {
			.ts = T0 + i * 7 * MS + rng() % (3 * MS),
			.client = 0x0a000001u + rng() % N_CLIENTS,
			.server = 0xc0000201u + (rng() % 10 < 6 ? 0 : 1 + rng() % (N_SERVERS - 1)),
			.cport = (uint16_t)(40000 + rng() % 1000),
			.id = (uint16_t)rng(),
			.len = (uint16_t)(DNS_OFF + 19 + rng() % 100),
		};
		struct event r = q;
		r.response = true;
		r.ts = q.ts + 200 * US + rng() % (80 * MS);
		r.len = (uint16_t)(DNS_OFF + 19 + rng() % 150);
		unsigned kind = rng() % 100;
		if (kind < 5) {                 /* unmatched: a response alone */
			r.id ^= 0x5555;
			ev[n++] = r;
			continue;
		}
		ev[n++] = q;
		if (kind < 12)                  /* lost: no response */
			continue;
		if (kind < 20) {                /* retransmitted, then answered */
			struct event q2 = q;
			q2.ts = q.ts + 100 * US + rng() % (r.ts - q.ts - 100 * US);
			ev[n++] = q2;
		}
		ev[n++] = r;
		if (kind >= 95) {               /* a duplicate response */
			struct event r2 = r;
			r2.ts = r.ts + 1 * MS + rng() % (2 * MS);
			ev[n++] = r2;
		}
	}
	qsort(ev, n, sizeof *ev, by_ts);
	for (size_t i = 1; i < n; i++)
		if (ev[i].ts <= ev[i - 1].ts)
			ev[i].ts = ev[i - 1].ts + 1;
	return n;
}

/* The test's spreading rule: symmetric in the two addresses. */
static size_t pick(const struct event *ev, size_t n_shards)
{
	uint64_t h = (uint64_t)(ev->client ^ ev->server) * 0x9e3779b97f4a7c15ull;
	return (size_t)((h >> 32) % n_shards);
}

static void feed(struct engine *e, const struct event *ev)
{
	uint8_t b[PKT_MAX];
	build(ev, b);
	struct pkt p = {
		.ts_ns = ev->ts, .caplen = ev->len, .wirelen = ev->len,
		.data = b, .ifindex = 1, .link = PKT_LINK_RAW,
	};
	engine_packet(e, &p);
}

/* ---- what on_sample saw ---- */

struct sample_rec {
	uint64_t ts, rtt;
	unsigned ruleset;
	uint64_t key_hash;
};

struct samples {
	struct sample_rec *r;
	size_t n, cap;
};

static void on_sample(void *arg, const struct flow_table *t, const struct flow *f,
		      uint64_t ts, uint64_t rtt)
{
	struct samples *s = arg;
	const struct flow_key *k = flow_get_key(t, f);
	assert_true(s->n < s->cap);
	s->r[s->n++] = (struct sample_rec){ ts, rtt, k->ruleset, flow_key_hash(k) };
}

/* ---- set-up ---- */

struct rig {
	struct ruleset servers, pairs, order;
	struct diag d;
	struct engine plain, view;
	struct samples sp, sv;
	struct dist *snap_p, *snap_v;      /* previous interval's, per index */
};

static void compile(const char *src, struct ruleset *rs)
{
	struct diag d;
	diag_init(&d, "test");
	assert_int_equal(srl_compile("test", src, strlen(src), rs, &d), 0);
	diag_free(&d);
}

static void config(struct engine_config *c)
{
	engine_config_default(c);
	c->max_flows = MAX_FLOWS;
	c->dist_slots = MAX_FLOWS;
	c->static_dists = 4 * MAX_FLOWS;
}

static void rig_start(struct rig *x, size_t n_shards)
{
	memset(x, 0, sizeof *x);
	diag_init(&x->d, "test");
	compile(rules_servers, &x->servers);
	compile(rules_pairs, &x->pairs);
	compile(rules_order, &x->order);
	struct engine_config c;
	config(&c);
	assert_int_equal(engine_init(&x->plain, &c, &x->d), 0);
	assert_int_equal(engine_init_sharded(&x->view, &c, n_shards, &x->d), 0);
	assert_int_equal(engine_n_shards(&x->view), n_shards);
	assert_int_equal(engine_n_shards(&x->plain), 0);
	for (int i = 0; i < 2; i++) {
		struct engine *e = i ? &x->view : &x->plain;
		assert_int_equal(engine_add_task(e, &x->servers, NULL, 0, &x->d), 0);
		assert_int_equal(engine_add_task(e, &x->pairs, NULL, 0, &x->d), 0);
		assert_int_equal(engine_add_task(e, &x->order, NULL, 0, &x->d), 0);
	}
	for (size_t i = 0; i < n_shards; i++)
		assert_int_equal(engine_shard(&x->view, i)->n_tasks, 3);
	assert_null(engine_shard(&x->view, n_shards));
	x->sp.r = calloc(EVENTS_MAX, sizeof *x->sp.r);
	x->sv.r = calloc(EVENTS_MAX, sizeof *x->sv.r);
	x->sp.cap = x->sv.cap = EVENTS_MAX;
	x->snap_p = calloc(MAX_FLOWS + 1, sizeof *x->snap_p);
	x->snap_v = calloc(MAX_FLOWS + 1, sizeof *x->snap_v);
	assert_non_null(x->sp.r);
	assert_non_null(x->sv.r);
	assert_non_null(x->snap_p);
	assert_non_null(x->snap_v);
	x->plain.on_sample = on_sample;
	x->plain.sample_arg = &x->sp;
	x->view.on_sample = on_sample;
	x->view.sample_arg = &x->sv;
}

static void rig_stop(struct rig *x)
{
	engine_free(&x->plain);
	engine_free(&x->view);
	ruleset_free(&x->servers);
	ruleset_free(&x->pairs);
	ruleset_free(&x->order);
	diag_free(&x->d);
	free(x->sp.r);
	free(x->sv.r);
	free(x->snap_p);
	free(x->snap_v);
}

/* ---- comparison ---- */

static void same_result(const struct dist_result *a, const struct dist_result *b)
{
	assert_int_equal(a->d.type, b->d.type);
	assert_int_equal(a->d.n, b->d.n);
	assert_int_equal(a->d.n_values, b->d.n_values);
	assert_int_equal(a->d.lower, b->d.lower);
	assert_int_equal(a->d.upper, b->d.upper);
	assert_int_equal(a->d.n_counts, b->d.n_counts);
	if (a->d.n_values)
		assert_memory_equal(a->values, b->values, a->d.n_values * sizeof a->values[0]);
	if (a->d.n_counts)
		assert_memory_equal(a->counts, b->counts, a->d.n_counts * sizeof a->counts[0]);
}

struct totals {
	size_t flows, with_dist, big_intervals, small_intervals, statics;
	size_t replayed;        /* order-dependent ones of flows over shards */
};

/* Every flow of the plain engine has its twin in the view at the same
 * index, and the view has nothing else. */
static void compare(struct rig *x, struct totals *tot)
{
	struct engine *p = &x->plain, *v = &x->view;
	struct flow_stats fp, fv;
	flow_table_stats(p->flows, &fp);
	flow_table_stats(v->flows, &fv);
	assert_int_equal(fp.active, fv.active);
	for (uint32_t i = 1; i <= MAX_FLOWS; i++) {
		struct flow *a = flow_by_index(p->flows, i), *b = flow_by_index(v->flows, i);
		if (!a) {
			assert_null(b);
			continue;
		}
		assert_non_null(b);
		tot->flows++;
		assert_true(flow_key_equal(flow_get_key(p->flows, a), flow_get_key(v->flows, b)));
		assert_int_equal(a->first_ns, b->first_ns);
		assert_int_equal(a->last_ns, b->last_ns);
		assert_int_equal(a->to_octets, b->to_octets);
		assert_int_equal(a->to_pdus, b->to_pdus);
		assert_int_equal(a->from_octets, b->from_octets);
		assert_int_equal(a->from_pdus, b->from_pdus);
		assert_int_equal(a->state, b->state);
		assert_memory_equal(&a->dns, &b->dns, sizeof a->dns);

		const struct dist *da = flow_dist_peek(p->flows, a);
		const struct dist *db = flow_dist_peek(v->flows, b);
		assert_int_equal(da != NULL, db != NULL);
		if (da) {
			tot->with_dist++;
			assert_memory_equal(da, db, sizeof *da);
			struct dist_result ra, rb;
			assert_int_equal(dist_interval(&x->snap_p[i], da, 0, &ra), 0);
			assert_int_equal(dist_interval(&x->snap_v[i], db, 0, &rb), 0);
			same_result(&ra, &rb);
			if (ra.d.n > DIST_RING)
				tot->big_intervals++;
			else if (ra.d.n)
				tot->small_intervals++;
			dist_snapshot(da, &x->snap_p[i]);
			dist_snapshot(db, &x->snap_v[i]);
		}
		uint32_t have = engine_static_have(p, a);
		assert_int_equal(have, engine_static_have(v, b));
		for (unsigned k = 0; k < STATDIST_N; k++) {
			if (!(have & (1u << k)))
				continue;
			const struct dist_static *sa = engine_static_dist(p, a, STATDIST_FIRST_ATTR + k);
			const struct dist_static *sb = engine_static_dist(v, b, STATDIST_FIRST_ATTR + k);
			assert_non_null(sb);
			assert_memory_equal(sa, sb, sizeof *sa);
			if (sa->n)
				tot->statics++;
			if (sa->n && flow_get_key(p->flows, a)->ruleset == 7 &&
			    STATDIST_FIRST_ATTR + k != ATTR_TO_PACKET_SIZE)
				tot->replayed++;
		}
	}
}

static void compare_stats(struct rig *x)
{
	const struct engine_stats *a = &x->plain.st, *b = &x->view.st;
	assert_int_equal(a->packets, b->packets);
	assert_int_equal(a->octets, b->octets);
	assert_int_equal(a->counted, b->counted);
	assert_int_equal(a->rtt_samples, b->rtt_samples);
	assert_int_equal(a->last_ns, b->last_ns);
	assert_int_equal(b->rtt_samples_dropped, 0);
	assert_int_equal(b->table_full, 0);
	assert_memory_equal(a->bad, b->bad, sizeof a->bad);
	for (size_t t = 0; t < 3; t++) {
		assert_memory_equal(&x->plain.task[t].pme, &x->view.task[t].pme,
				    sizeof x->plain.task[t].pme);
	}
}

/* Interval end: what difout does (expire, read), then the collection
 * point. */
static void interval_end(struct rig *x, uint64_t end, struct totals *tot)
{
	engine_expire_dns(&x->plain, end);
	engine_expire_dns(&x->view, end);
	compare(x, tot);
	compare_stats(x);
	engine_collect_point(&x->plain, end, end);
	engine_collect_point(&x->view, end, end);
}

/* engine_print_stats text with " peak_pending N" cut out (a view sums its
 * shards' peaks, which one engine's peak need not equal). */
static char *stats_text(const struct engine *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	engine_print_stats(e, f);
	fclose(f);
	char *p;
	while ((p = strstr(buf, " peak_pending "))) {
		char *q = p + strlen(" peak_pending ");
		while (*q >= '0' && *q <= '9')
			q++;
		memmove(p, q, strlen(q) + 1);
	}
	return buf;
}

static void same_print_stats(struct rig *x)
{
	char *a = stats_text(&x->plain), *b = stats_text(&x->view);
	assert_non_null(strstr(a, "dns 3 requests "));
	assert_non_null(strstr(a, "dns 5 requests "));
	assert_non_null(strstr(a, "dns 7 requests "));
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void run(size_t n_shards, size_t sync_every)
{
	struct event *ev = calloc(EVENTS_MAX, sizeof *ev);
	assert_non_null(ev);
	size_t n = make_events(ev);
	struct rig *x = calloc(1, sizeof *x);
	assert_non_null(x);
	rig_start(x, n_shards);
	struct totals tot = { 0 };
	uint64_t end = T0 + INTERVAL;
	size_t per_shard[ENGINE_SHARDS_MAX] = { 0 };
	for (size_t i = 0; i < n; i++) {
		while (ev[i].ts >= end) {
			interval_end(x, end, &tot);
			end += INTERVAL;
		}
		size_t s = pick(&ev[i], n_shards);
		per_shard[s]++;
		feed(&x->plain, &ev[i]);
		feed(engine_shard(&x->view, s), &ev[i]);
		if ((i + 1) % sync_every == 0)
			engine_sync(&x->view);
	}
	interval_end(x, end, &tot);
	engine_finish(&x->plain);
	engine_finish(&x->view);
	compare(x, &tot);
	compare_stats(x);

	/* every shard had work; the comparisons covered every case */
	for (size_t s = 0; s < n_shards; s++)
		assert_true(per_shard[s] > n / (4 * n_shards));
	assert_true(tot.big_intervals > 0);
	assert_true(tot.small_intervals > 0);
	assert_true(tot.statics > 0);
	assert_true(tot.replayed > 0);
	struct dnspair_stats ds;
	uint64_t lost = 0, retransmits = 0, duplicates = 0, unmatched = 0;
	for (uint32_t i = 1; i <= MAX_FLOWS; i++) {
		const struct flow *f = flow_by_index(x->plain.flows, i);
		if (f) {
			lost += f->dns.lost;
			retransmits += f->dns.retransmits;
			duplicates += f->dns.duplicates;
			unmatched += f->dns.unmatched;
		}
	}
	assert_true(lost > 0 && retransmits > 0 && duplicates > 0 && unmatched > 0);
	(void)ds;

	/* the samples, in the same order */
	assert_int_equal(x->sp.n, x->sv.n);
	assert_int_equal(x->sp.n, x->plain.st.rtt_samples);
	for (size_t i = 0; i < x->sp.n; i++) {
		assert_int_equal(x->sp.r[i].ts, x->sv.r[i].ts);
		assert_int_equal(x->sp.r[i].rtt, x->sv.r[i].rtt);
		assert_int_equal(x->sp.r[i].ruleset, x->sv.r[i].ruleset);
		assert_int_equal(x->sp.r[i].key_hash, x->sv.r[i].key_hash);
	}
	same_print_stats(x);
	rig_stop(x);
	free(x);
	free(ev);
}

static void two_shards_sync_each_packet(void **state) { (void)state; run(2, 1); }
static void two_shards_sync_every_7(void **state) { (void)state; run(2, 7); }
static void three_shards_sync_every_64(void **state) { (void)state; run(3, 64); }
static void three_shards_sync_at_interval_ends(void **state) { (void)state; run(3, SIZE_MAX); }

/* ---- garbage collection ---- */

static struct event query(uint64_t ts, uint32_t client, uint32_t server, uint16_t id)
{
	return (struct event){ .ts = ts, .client = client, .server = server,
			       .cport = 40000, .id = id, .len = DNS_OFF + 19 };
}

static struct event answer(uint64_t ts, uint32_t client, uint32_t server, uint16_t id)
{
	struct event e = query(ts, client, server, id);
	e.response = true;
	return e;
}

static size_t shard_flows(struct engine *v, unsigned set)
{
	size_t n = 0;
	for (size_t i = 0; i < engine_n_shards(v); i++)
		n += engine_set_flows(engine_shard(v, i), set);
	return n;
}

/* A view flow recovered at a collection point takes its shards' records
 * (and static distributions) with it; the key's next packet starts a new
 * view flow with its own FirstTime. */
static void gc_takes_shard_records(void **state)
{
	(void)state;
	struct rig *x = calloc(1, sizeof *x);
	assert_non_null(x);
	rig_start(x, 2);
	x->view.cfg.inactivity_ns = 10 * SEC;
	const uint32_t c1 = 0x0a000001u, srv = 0xc0000201u;
	struct event e1 = query(T0, c1, srv, 1), e2 = answer(T0 + 3 * MS, c1, srv, 1);
	struct event e3 = query(T0 + 1 * SEC, c1 + 1, srv, 2);
	while (pick(&e1, 2) == pick(&e3, 2))            /* the server flow spans both */
		e3.client++;
	feed(engine_shard(&x->view, pick(&e1, 2)), &e1);
	feed(engine_shard(&x->view, pick(&e2, 2)), &e2);
	feed(engine_shard(&x->view, pick(&e3, 2)), &e3);
	engine_collect_point(&x->view, T0 + 5 * SEC, T0 + 5 * SEC);
	assert_int_equal(engine_set_flows(&x->view, 3), 1);
	assert_int_equal(engine_set_flows(&x->view, 5), 2);
	assert_int_equal(shard_flows(&x->view, 3), 2);
	assert_int_equal(shard_flows(&x->view, 5), 2);
	struct statdist_stats ss;
	engine_static_stats(&x->view, &ss);
	assert_int_equal(ss.used, 2 + 2 * 5 + 7);       /* sets 3, 5, 7 */
	const struct flow *f = flow_next_active(x->view.flows, 0, 0);
	assert_int_equal(f->first_ns, T0);
	assert_int_equal(f->dns.answered, 1);
	assert_int_equal(f->dns.lost, 0);

	/* 30 s on: c2's request was lost at T0 + 6 s, everything idle and
	 * collected */
	engine_collect_point(&x->view, T0 + 30 * SEC, T0 + 30 * SEC);
	assert_int_equal(engine_set_flows(&x->view, 3), 0);
	assert_int_equal(engine_set_flows(&x->view, 5), 0);
	assert_int_equal(shard_flows(&x->view, 3), 0);
	assert_int_equal(shard_flows(&x->view, 5), 0);
	engine_static_stats(&x->view, &ss);
	assert_int_equal(ss.used, 0);
	for (size_t i = 0; i < 2; i++) {
		engine_static_stats(engine_shard(&x->view, i), &ss);
		assert_int_equal(ss.used, 0);
	}
	struct flow_stats fs;
	flow_table_stats(x->view.flows, &fs);
	assert_int_equal(fs.recovered, 4);

	/* the server's next request: a new flow, counted from zero */
	struct event e4 = query(T0 + 40 * SEC, c1, srv, 3);
	feed(engine_shard(&x->view, pick(&e4, 2)), &e4);
	engine_sync(&x->view);
	f = NULL;
	for (uint32_t i = 1; i <= MAX_FLOWS; i++) {
		const struct flow *g = flow_by_index(x->view.flows, i);
		if (g && flow_get_key(x->view.flows, g)->ruleset == 3)
			f = g;
	}
	assert_non_null(f);
	assert_int_equal(f->first_ns, T0 + 40 * SEC);
	assert_int_equal(f->last_ns, T0 + 40 * SEC);
	assert_int_equal(f->to_pdus, 1);
	assert_int_equal(f->from_pdus, 0);
	assert_int_equal(f->to_octets, DNS_OFF + 19);
	assert_int_equal(f->dns.requests, 1);
	assert_int_equal(f->dns.answered, 0);
	assert_int_equal(f->dns.lost, 0);
	assert_int_equal(flow_dist_peek(x->view.flows, f)->count, 0);
	assert_int_equal(engine_static_dist(&x->view, f, ATTR_TO_PACKET_SIZE)->n, 1);
	assert_int_equal(x->view.st.packets, 4);
	rig_stop(x);
	free(x);
}

/* ---- mirrored control ---- */

static void mirrored_controls(void **state)
{
	(void)state;
	struct rig *x = calloc(1, sizeof *x);
	assert_non_null(x);
	rig_start(x, 3);
	struct engine *v = &x->view;
	const uint32_t srv = 0xc0000201u;
	for (uint32_t c = 0; c < 6; c++) {
		struct event q = query(T0 + c * MS, 0x0a000001u + c, srv, (uint16_t)c);
		feed(engine_shard(v, pick(&q, 3)), &q);
	}
	engine_sync(v);
	assert_int_equal(engine_set_flows(v, 3), 1);
	assert_int_equal(engine_set_flows(v, 5), 6);
	const struct flow *f3 = NULL;
	for (uint32_t i = 1; i <= MAX_FLOWS && !f3; i++) {
		const struct flow *g = flow_by_index(v->flows, i);
		if (g && flow_get_key(v->flows, g)->ruleset == 3)
			f3 = g;
	}
	assert_non_null(f3);
	assert_int_equal(f3->dns.requests, 6);
	assert_int_equal(f3->dns.lost, 0);

	/* stopping the task reaches every shard: the pending requests are
	 * lost, and the view has it at the next sync */
	engine_task_stop(v, 0);
	assert_false(engine_task_active(v, 0));
	for (size_t i = 0; i < 3; i++) {
		assert_false(engine_task_active(engine_shard(v, i), 0));
		assert_true(engine_task_active(engine_shard(v, i), 1));
	}
	engine_sync(v);
	assert_int_equal(f3->dns.lost, 6);

	engine_task_set_high_water(v, 1, 70);
	for (size_t i = 0; i < 3; i++) {
		engine_shard(v, i)->task[1].running_standby = true;
		assert_int_equal(engine_shard(v, i)->task[1].high_water, 70);
	}
	engine_task_return(v, 1);
	for (size_t i = 0; i < 3; i++)
		assert_false(engine_shard(v, i)->task[1].running_standby);

	assert_int_equal(engine_ignore_interface(v, 2, true), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(engine_shard(v, i)->ignored_ifs, 2);
	assert_int_equal(engine_ignore_interface(v, 2, false), 0);
	assert_int_equal(engine_shard(v, 2)->ignored_ifs, 0);

	/* the manager's FloodMark and InactivityTimeout (set in the view's
	 * cfg, meter/mctl) reach the shards at the next sync; a FloodMark
	 * switched off ends their flood mode */
	v->cfg.flood_mark = 80;
	v->cfg.inactivity_ns = 7 * SEC;
	engine_shard(v, 2)->flood_mode = true;
	engine_sync(v);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(engine_shard(v, i)->cfg.flood_mark, 80);
		assert_int_equal(engine_shard(v, i)->cfg.inactivity_ns, 7 * SEC);
	}
	assert_true(engine_shard(v, 2)->flood_mode);
	v->cfg.flood_mark = 0;
	engine_sync(v);
	assert_false(engine_shard(v, 2)->flood_mode);

	/* a set's flows go from the view and from every shard */
	size_t set3_records = shard_flows(v, 3);
	assert_true(set3_records >= 2);
	assert_int_equal(shard_flows(v, 5), 6);
	assert_int_equal(engine_remove_set_flows(v, 5), 6);
	assert_int_equal(engine_set_flows(v, 5), 0);
	assert_int_equal(shard_flows(v, 5), 0);
	assert_int_equal(shard_flows(v, 3), set3_records);
	assert_int_equal(engine_set_flows(v, 3), 1);

	/* a load one shard cannot take changes nothing anywhere */
	engine_shard(v, 1)->cfg.max_pending = 0;      /* no pending table */
	size_t n_tasks = v->n_tasks;
	struct diag d;
	diag_init(&d, "test");
	assert_int_equal(engine_task_set(v, 4, &x->servers, NULL, 0, &d), -1);
	assert_true(d.n > 0);
	assert_non_null(strstr(d.msgs[0].text, "pending"));
	diag_free(&d);
	assert_false(engine_task_active(v, 4));
	assert_int_equal(v->n_tasks, n_tasks);
	for (size_t i = 0; i < 3; i++) {
		assert_false(engine_task_active(engine_shard(v, i), 4));
		assert_int_equal(engine_shard(v, i)->n_tasks, n_tasks);
	}
	/* a slot that keeps its pending table loads everywhere */
	assert_int_equal(engine_task_set(v, 0, &x->servers, NULL, 0, &x->d), 0);
	for (size_t i = 0; i < 3; i++)
		assert_true(engine_task_active(engine_shard(v, i), 0));
	rig_stop(x);
	free(x);
}

static void init_bounds(void **state)
{
	(void)state;
	struct engine e;
	struct engine_config c;
	struct diag d;
	diag_init(&d, "test");
	config(&c);
	assert_int_equal(engine_init_sharded(&e, &c, 1, &d), -1);
	assert_int_equal(engine_init_sharded(&e, &c, ENGINE_SHARDS_MAX + 1, &d), -1);
	assert_int_equal(d.n, 2);
	assert_int_equal(engine_init_sharded(&e, &c, ENGINE_SHARDS_MAX, &d), 0);
	assert_int_equal(engine_n_shards(&e), ENGINE_SHARDS_MAX);
	assert_non_null(engine_shard(&e, ENGINE_SHARDS_MAX - 1));
	assert_true(engine_shard(&e, 0) != engine_shard(&e, 1));
	/* syncing an idle view, or a plain engine, does nothing */
	engine_sync(&e);
	assert_int_equal(e.st.packets, 0);
	engine_free(&e);
	assert_int_equal(engine_init(&e, &c, &d), 0);
	engine_sync(&e);
	assert_null(engine_shard(&e, 0));
	engine_free(&e);
	diag_free(&d);
}

/* A shard keeps ENGINE_SHARD_SAMPLES samples between syncs and counts the
 * rest as dropped; with nobody listening (no on_sample) it keeps none. */
static void sample_buffer_bounds(void **state)
{
	(void)state;
	struct rig *x = calloc(1, sizeof *x);
	assert_non_null(x);
	rig_start(x, 2);
	struct engine *v = &x->view, *s0 = engine_shard(v, 0);
	const uint32_t c = 0x0a000001u, srv = 0xc0000201u;
	v->on_sample = NULL;
	struct event q = query(T0, c, srv, 1), r = answer(T0 + MS, c, srv, 1);
	feed(s0, &q);
	feed(s0, &r);
	v->on_sample = on_sample;
	engine_sync(v);
	assert_int_equal(x->sv.n, 0);
	assert_int_equal(v->st.rtt_samples, 3);      /* three tasks */
	free(x->sv.r);
	x->sv.r = calloc(ENGINE_SHARD_SAMPLES + 8, sizeof *x->sv.r);
	x->sv.cap = ENGINE_SHARD_SAMPLES + 8;
	assert_non_null(x->sv.r);
	/* three samples per exchange (one per task), one exchange past the
	 * buffer: 2 dropped; sets 5 and 7 log 3 events an exchange each (2
	 * packets, 1 RTT) for the replay: 6 × 87382 = 524292, 4 past the log
	 * (this is far more than workers.c lets a shard take between syncs) */
	uint64_t t = T0 + SEC;
	for (unsigned i = 0; i < ENGINE_SHARD_SAMPLES / 3 + 1; i++) {
		q = query(t, c, srv, (uint16_t)i);
		r = answer(t + 10 * US, c, srv, (uint16_t)i);
		feed(s0, &q);
		feed(s0, &r);
		t += 20 * US;
	}
	assert_int_equal(s0->st.rtt_samples_dropped, 2 + 4);
	engine_sync(v);
	assert_int_equal(x->sv.n, ENGINE_SHARD_SAMPLES);
	assert_int_equal(v->st.rtt_samples_dropped, 2 + 4);
	assert_int_equal(v->st.rtt_samples, 3 + ENGINE_SHARD_SAMPLES + 2);
	/* in time order, the two tasks' samples of one response together */
	for (size_t i = 1; i < x->sv.n; i++)
		assert_true(x->sv.r[i].ts >= x->sv.r[i - 1].ts);
	rig_stop(x);
	free(x);
}

/* More flows than the sync's first scratch holds (4096 per shard): it
 * grows, and the view still numbers the flows as one engine does. */
static void many_flows(void **state)
{
	(void)state;
	enum { CLIENTS = 9000 };
	struct diag d;
	diag_init(&d, "test");
	struct ruleset rs;
	compile(rules_pairs, &rs);
	struct engine_config c;
	config(&c);
	c.max_flows = 16384;
	c.static_dists = 16;
	struct engine plain, view;
	assert_int_equal(engine_init(&plain, &c, &d), 0);
	assert_int_equal(engine_init_sharded(&view, &c, 2, &d), 0);
	assert_int_equal(engine_add_task(&plain, &rs, NULL, 0, &d), 0);
	assert_int_equal(engine_add_task(&view, &rs, NULL, 0, &d), 0);
	for (uint32_t i = 0; i < CLIENTS; i++) {
		struct event q = query(T0 + i * US, 0x0a000000u + i, 0xc0000201u, 7);
		feed(&plain, &q);
		feed(engine_shard(&view, pick(&q, 2)), &q);
	}
	engine_sync(&view);
	assert_int_equal(engine_set_flows(&view, 5), CLIENTS);
	for (uint32_t i = 1; i <= CLIENTS; i++) {
		const struct flow *a = flow_by_index(plain.flows, i);
		const struct flow *b = flow_by_index(view.flows, i);
		assert_non_null(b);
		assert_true(flow_key_equal(flow_get_key(plain.flows, a), flow_get_key(view.flows, b)));
		assert_int_equal(b->first_ns, a->first_ns);
		assert_int_equal(b->to_pdus, 1);
		assert_int_equal(b->dns.requests, 1);
	}
	/* static distributions: 16 in the pool, the 17th flow on refused */
	assert_int_equal(view.st.static_refused, plain.st.static_refused);
	engine_free(&plain);
	engine_free(&view);
	ruleset_free(&rs);
	diag_free(&d);
}

/* FloodMark with shards: each shard judges the view's fill estimated as
 * view records at the last sync + n_shards x its own new records, checked
 * n_shards times as often as one engine does, so no flow a shard counted
 * is refused by the view and the flows kept stay within one engine's
 * overshoot (64 packets between checks) of its count. */
static void flood_mark_by_view_fill(void **state)
{
	(void)state;
	enum { CLIENTS = 5000, FLOWS = 1000 };
	struct diag d;
	diag_init(&d, "test");
	struct ruleset rs;
	compile(rules_pairs, &rs);
	struct engine_config c;
	config(&c);
	c.max_flows = FLOWS;
	c.flood_mark = 95;
	for (size_t n = 2; n <= 3; n++) {
		struct engine plain, view;
		assert_int_equal(engine_init(&plain, &c, &d), 0);
		assert_int_equal(engine_init_sharded(&view, &c, n, &d), 0);
		assert_int_equal(engine_add_task(&plain, &rs, NULL, 0, &d), 0);
		assert_int_equal(engine_add_task(&view, &rs, NULL, 0, &d), 0);
		for (uint32_t i = 0; i < CLIENTS; i++) {
			struct event q = query(T0 + i * US, 0x0a000000u + i, 0xc0000201u, 7);
			feed(&plain, &q);
			feed(engine_shard(&view, pick(&q, n)), &q);
			if (i == CLIENTS / 10)
				engine_sync(&view);   /* the estimate restarts from the view */
		}
		engine_sync(&view);
		size_t one = engine_set_flows(&plain, 5), many = engine_set_flows(&view, 5);
		assert_true(plain.flood_mode);
		assert_true(view.flood_mode);
		assert_int_equal(view.st.table_full, 0);
		assert_true(many <= FLOWS);
		assert_true(many + 64 >= one && many <= one + 64);
		/* every packet counted into a view flow or refused as flood */
		assert_int_equal(many + view.st.flood_refused, CLIENTS);
		engine_free(&plain);
		engine_free(&view);
	}
	ruleset_free(&rs);
	diag_free(&d);
}

/* After recoveries a shard reuses records most recently freed first, so
 * its index order is not its creation order: one packet's flows (one per
 * task) must still be numbered in task order, as one engine does. */
static void reused_records_keep_task_order(void **state)
{
	(void)state;
	struct rig *x = calloc(1, sizeof *x);
	assert_non_null(x);
	rig_start(x, 2);
	x->plain.cfg.inactivity_ns = 10 * SEC;
	x->view.cfg.inactivity_ns = 10 * SEC;
	const uint32_t c = 0x0a000001u;
	for (uint32_t i = 0; i < 3; i++) {
		struct event q = query(T0 + i * MS, c, 0xc0000201u + i, (uint16_t)i);
		feed(&x->plain, &q);
		feed(engine_shard(&x->view, pick(&q, 2)), &q);
	}
	for (int k = 0; k < 2; k++) {
		struct engine *e = k ? &x->view : &x->plain;
		engine_collect_point(e, T0 + 30 * SEC, T0 + 30 * SEC);
		assert_null(flow_next_active(e->flows, 0, 0));
	}
	struct event q = query(T0 + 40 * SEC, c, 0xc0000202u, 9);
	feed(&x->plain, &q);
	feed(engine_shard(&x->view, pick(&q, 2)), &q);
	engine_sync(&x->view);
	size_t n = 0;
	for (uint32_t i = 1; i <= MAX_FLOWS; i++) {
		const struct flow *a = flow_by_index(x->plain.flows, i);
		const struct flow *b = flow_by_index(x->view.flows, i);
		assert_int_equal(a != NULL, b != NULL);
		if (!a)
			continue;
		n++;
		assert_true(flow_key_equal(flow_get_key(x->plain.flows, a),
					   flow_get_key(x->view.flows, b)));
	}
	assert_int_equal(n, 3);
	rig_stop(x);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_shards_sync_each_packet),
		cmocka_unit_test(two_shards_sync_every_7),
		cmocka_unit_test(three_shards_sync_every_64),
		cmocka_unit_test(three_shards_sync_at_interval_ends),
		cmocka_unit_test(gc_takes_shard_records),
		cmocka_unit_test(mirrored_controls),
		cmocka_unit_test(init_bounds),
		cmocka_unit_test(sample_buffer_bounds),
		cmocka_unit_test(many_flows),
		cmocka_unit_test(reused_records_keep_task_order),
		cmocka_unit_test(flood_mark_by_view_fill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
