/* statdist.c — RFC 2724 static distributions per flow (see statdist.h). */
#include "statdist.h"

#include <stdlib.h>
#include <string.h>

#define NS_PER_US 1000ull
#define NS_PER_S  1000000000ull
#define RATE_FIRST_SLOT (ATTR_TO_BIT_RATE - STATDIST_FIRST_ATTR)   /* 6 */
#define BITS_PER_OCTET 8u

enum { DIR_TO = 0, DIR_FROM = 1 };

/* Per flow index. */
struct sd_flow {
	const struct statdist_rules *rules;    /* NULL = nothing requested */
	uint64_t last_ns[2];                   /* latest To / From packet */
	uint64_t rate_next[STATDIST_RATES];    /* end of the open interval, 0 = not started */
	uint64_t rate_base[STATDIST_RATES];    /* counter at its start */
	uint32_t entry[STATDIST_N];            /* pool entry + 1, 0 = none */
	uint16_t have, refused;
	uint8_t seen;                          /* 1 << DIR_TO | 1 << DIR_FROM */
	uint8_t last_dir;
};

struct statdist_pool {
	struct sd_flow *flow;          /* [index - 1] */
	size_t n_flows;
	struct dist_static *dist;
	uint32_t *free_list;           /* stack of free entries */
	size_t n_dists, n_free;
	uint64_t refused;
};

/* ---- rules ---- */

static bool is_push(unsigned op)
{
	return op == RULE_PUSH_PKT_TO || op == RULE_PUSH_PKT_TO_ACT ||
	       op == RULE_PUSH_RULE_TO || op == RULE_PUSH_RULE_TO_ACT ||
	       op == RULE_COUNT || op == RULE_COUNT_PKT;
}

static bool is_rate(unsigned attr)
{
	return attr >= ATTR_TO_BIT_RATE && attr <= ATTR_FROM_PDU_RATE;
}

int statdist_rules_init(struct statdist_rules *r, const struct ruleset *rs,
			struct diag *d)
{
	memset(r, 0, sizeof *r);
	uint8_t seen_mask[STATDIST_N][DIST_RULE_BYTES];
	uint8_t seen_value[STATDIST_N][DIST_RULE_BYTES];
	uint32_t seen_rule[STATDIST_N] = {0};
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct rule *ru = &rs->rules[i];
		if (!statdist_is_attr(ru->attr) || !is_push(ru->op))
			continue;
		unsigned k = statdist_slot(ru->attr);
		uint32_t num = (uint32_t)i + 1;
		uint8_t mask[DIST_RULE_BYTES] = {0}, value[DIST_RULE_BYTES] = {0};
		size_t len = ru->len < DIST_RULE_BYTES ? ru->len : DIST_RULE_BYTES;
		memcpy(mask, ru->mask, len);
		memcpy(value, ru->value, len);
		const char *name = attr_by_num(ru->attr)->name;   /* 66..75 are known */
		if (seen_rule[k]) {
			if (memcmp(mask, seen_mask[k], sizeof mask) ||
			    memcmp(value, seen_value[k], sizeof value)) {
				diag_error(d, 0, 0, "rule %u: %s requested with other parameters than rule %u "
					   "(a flow has one distribution per attribute)",
					   num, name, seen_rule[k]);
				return -1;
			}
			continue;
		}
		seen_rule[k] = num;
		memcpy(seen_mask[k], mask, sizeof mask);
		memcpy(seen_value[k], value, sizeof value);
		if (mask[0] == STATDIST_DYNAMIC) {
			if (ru->attr != ATTR_TO_TURNAROUND_TIME) {
				diag_error(d, 0, 0, "rule %u: transform 3 (ntm dynamic) is for "
					   "ToTurnaroundTime only, not %s", num, name);
				return -1;
			}
			r->dynamic_rtt = true;
			continue;
		}
		const char *why = NULL;
		if (dist_static_spec_init(&r->spec[k], mask, value, &why)) {
			diag_error(d, 0, 0, "rule %u: %s: %s", num, name, why);
			return -1;
		}
		if (is_rate(ru->attr) && r->spec[k].param1 == 0) {
			diag_error(d, 0, 0, "rule %u: %s: rate interval (value byte 2, seconds) is 0",
				   num, name);
			return -1;
		}
		r->present |= (uint16_t)statdist_bit(ru->attr);
		r->rule[k] = num;
	}
	return 0;
}

/* ---- pool ---- */

struct statdist_pool *statdist_pool_create(size_t max_flows, size_t n_dists)
{
	if (n_dists > UINT32_MAX - 1 || max_flows > UINT32_MAX)
		return NULL;
	struct statdist_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->flow = calloc(max_flows ? max_flows : 1, sizeof *p->flow);
	p->dist = calloc(n_dists ? n_dists : 1, sizeof *p->dist);
	p->free_list = calloc(n_dists ? n_dists : 1, sizeof *p->free_list);
	if (!p->flow || !p->dist || !p->free_list) {
		statdist_pool_free(p);
		return NULL;
	}
	p->n_flows = max_flows;
	p->n_dists = n_dists;
	/* lowest entries first */
	for (size_t i = 0; i < n_dists; i++)
		p->free_list[i] = (uint32_t)(n_dists - i);
	p->n_free = n_dists;
	return p;
}

void statdist_pool_free(struct statdist_pool *p)
{
	if (!p)
		return;
	free(p->flow);
	free(p->dist);
	free(p->free_list);
	free(p);
}

static struct sd_flow *flow_at(const struct statdist_pool *p, uint32_t index)
{
	return index >= 1 && index <= p->n_flows ? &p->flow[index - 1] : NULL;
}

uint32_t statdist_request(struct statdist_pool *p, uint32_t index,
			  const struct statdist_rules *r, uint32_t m)
{
	struct sd_flow *s = flow_at(p, index);
	if (!s)
		return 0;
	if (!s->rules)
		s->rules = r;
	/* only what the flow's own rules describe */
	uint32_t want = m & s->rules->present & ~(uint32_t)(s->have | s->refused);
	uint32_t refused = 0;
	while (want) {
		unsigned k = (unsigned)__builtin_ctz(want);
		want &= want - 1;
		if (!p->n_free) {
			refused |= 1u << k;
			p->refused++;
			continue;
		}
		uint32_t e = p->free_list[--p->n_free];
		dist_static_init(&p->dist[e - 1]);
		s->entry[k] = e;
		s->have |= (uint16_t)(1u << k);
	}
	s->refused |= (uint16_t)refused;
	return refused;
}

static void add(struct statdist_pool *p, struct sd_flow *s, unsigned k, uint64_t v)
{
	if (s->have & (1u << k))
		dist_static_add(&s->rules->spec[k], &p->dist[s->entry[k] - 1], v);
}

static uint64_t elapsed_us(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (to_ns - from_ns) / NS_PER_US : 0;
}

/* The counter a rate distribution (slot k >= RATE_FIRST_SLOT) follows. */
static uint64_t rate_counter(const struct flow *f, unsigned k)
{
	switch (k + STATDIST_FIRST_ATTR) {
	case ATTR_TO_BIT_RATE:   return f->to_octets;
	case ATTR_FROM_BIT_RATE: return f->from_octets;
	case ATTR_TO_PDU_RATE:   return f->to_pdus;
	default:                 return f->from_pdus;
	}
}

/* What this packet added to that counter. */
static uint64_t rate_share(unsigned k, unsigned dir, uint32_t octets)
{
	unsigned attr = k + STATDIST_FIRST_ATTR;
	unsigned rdir = (attr == ATTR_TO_BIT_RATE || attr == ATTR_TO_PDU_RATE) ? DIR_TO : DIR_FROM;
	if (rdir != dir)
		return 0;
	return (attr == ATTR_TO_BIT_RATE || attr == ATTR_FROM_BIT_RATE) ? octets : 1;
}

static void rate_packet(struct statdist_pool *p, struct sd_flow *s, unsigned k,
			const struct flow *f, unsigned dir, uint32_t octets,
			uint64_t ts_ns)
{
	unsigned ri = k - RATE_FIRST_SLOT;
	const struct dist_static_spec *spec = &s->rules->spec[k];
	uint64_t len = (uint64_t)spec->param1 * NS_PER_S;
	uint64_t before = rate_counter(f, k) - rate_share(k, dir, octets);
	if (!s->rate_next[ri]) {          /* the first interval opens here */
		s->rate_next[ri] = ts_ns + len;
		s->rate_base[ri] = before;
		return;
	}
	if (ts_ns < s->rate_next[ri])
		return;
	uint64_t delta = before - s->rate_base[ri];
	bool bits = k + STATDIST_FIRST_ATTR == ATTR_TO_BIT_RATE ||
		    k + STATDIST_FIRST_ATTR == ATTR_FROM_BIT_RATE;
	uint64_t rate = (bits ? delta * BITS_PER_OCTET : delta) / spec->param1;
	struct dist_static *d = &p->dist[s->entry[k] - 1];
	dist_static_add(spec, d, rate);
	/* whole intervals with no packet at all: rate 0 each */
	uint64_t empty = (ts_ns - s->rate_next[ri]) / len;
	if (empty) {
		d->counts[dist_static_bucket(spec, 0)] += empty;
		d->n += empty;
	}
	s->rate_next[ri] += (empty + 1) * len;
	s->rate_base[ri] = before;
}

void statdist_packet(struct statdist_pool *p, uint32_t index,
		     const struct flow *f, bool reverse, uint32_t octets,
		     uint64_t ts_ns, bool dns)
{
	struct sd_flow *s = flow_at(p, index);
	if (!s || !s->have)
		return;
	unsigned dir = reverse ? DIR_FROM : DIR_TO, other = dir ^ 1u;
	unsigned off = dir;   /* To attributes are even slots, From odd */
	add(p, s, statdist_slot(ATTR_TO_PACKET_SIZE) + off, octets);
	if (s->seen & (1u << dir))
		add(p, s, statdist_slot(ATTR_TO_INTERARRIVAL_TIME) + off,
		    elapsed_us(s->last_ns[dir], ts_ns));
	/* a From packet after a To packet: ToTurnaroundTime (slot of the
	 * other direction's attribute) */
	if (!dns && (s->seen & (1u << other)) && s->last_dir == other)
		add(p, s, statdist_slot(ATTR_TO_TURNAROUND_TIME) + other,
		    elapsed_us(s->last_ns[other], ts_ns));
	for (unsigned k = RATE_FIRST_SLOT; k < STATDIST_N; k++)
		if (s->have & (1u << k))
			rate_packet(p, s, k, f, dir, octets, ts_ns);
	if (ts_ns > s->last_ns[dir] || !(s->seen & (1u << dir)))
		s->last_ns[dir] = ts_ns;
	s->seen |= (uint8_t)(1u << dir);
	s->last_dir = (uint8_t)dir;
}

void statdist_dns_rtt(struct statdist_pool *p, uint32_t index, uint64_t rtt_us)
{
	struct sd_flow *s = flow_at(p, index);
	if (s)
		add(p, s, statdist_slot(ATTR_TO_TURNAROUND_TIME), rtt_us);
}

void statdist_release(struct statdist_pool *p, uint32_t index)
{
	struct sd_flow *s = flow_at(p, index);
	if (!s)
		return;
	for (unsigned k = 0; k < STATDIST_N; k++)
		if (s->have & (1u << k))
			p->free_list[p->n_free++] = s->entry[k];
	memset(s, 0, sizeof *s);
}

uint32_t statdist_have(const struct statdist_pool *p, uint32_t index)
{
	const struct sd_flow *s = flow_at(p, index);
	return s ? s->have : 0;
}

const struct statdist_rules *statdist_rules_of(const struct statdist_pool *p,
					       uint32_t index)
{
	const struct sd_flow *s = flow_at(p, index);
	return s ? s->rules : NULL;
}

const struct dist_static *statdist_get(const struct statdist_pool *p,
				       uint32_t index, unsigned attr)
{
	const struct sd_flow *s = flow_at(p, index);
	if (!s || !statdist_is_attr(attr) || !(s->have & statdist_bit(attr)))
		return NULL;
	return &p->dist[s->entry[statdist_slot(attr)] - 1];
}

void statdist_stats(const struct statdist_pool *p, struct statdist_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!p)
		return;
	out->slots = p->n_dists;
	out->used = p->n_dists - p->n_free;
	out->refused = p->refused;
}
