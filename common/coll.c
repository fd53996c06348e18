/* coll.c — cumulative readings to interval records (see coll.h). */
#include "coll.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"

/* RFC 2724 distribution attributes 66..75, one slot each. */
#define STATIC_FIRST ATTR_TO_PACKET_SIZE
#define STATIC_N     (ATTR_FROM_PDU_RATE - ATTR_TO_PACKET_SIZE + 1)

static bool is_static_attr(unsigned attr)
{
	return attr >= STATIC_FIRST && attr < STATIC_FIRST + STATIC_N;
}

/* What is remembered of one flow between readings. */
struct coll_flow {
	uint64_t first_id;            /* tells a reused index apart */
	bool used;
	struct dist *prev;            /* turnaround distribution last read */
	struct dist_static *sprev;    /* [attr - STATIC_FIRST], NULL until needed */
	uint16_t sprev_have;          /* bit per slot valid in sprev */
};

/* The flows of one ruleset, by flow index - 1. */
struct coll_set {
	uint32_t set;
	unsigned nbins;
	struct coll_flow *flows;
	size_t n_flows;
};

struct coll {
	struct dif_format fmt;
	struct format_item *items;
	size_t n_attrs;
	uint16_t *attrs;              /* attribute of each value slot */

	struct coll_set *sets;
	size_t n_sets;

	/* the interval's records; values are pointed at in coll_records */
	struct dif_record *recs;
	struct dif_value *vals;
	size_t n_recs, cap_recs;
	/* distribution results, individually allocated so records can point
	 * at them while the array grows */
	struct dist_result **dres;
	size_t n_dres, cap_dres;
};

void coll_value_uint(struct coll_value *v, unsigned attr, uint64_t x,
		     unsigned width)
{
	memset(v, 0, sizeof *v);
	v->attr = (uint16_t)attr;
	v->kind = COLL_BYTES;
	v->width = (uint8_t)width;
	for (unsigned i = width; i-- > 0; x >>= 8)
		v->bytes[i] = (uint8_t)x;
}

struct coll *coll_create(const struct dif_format *fmt)
{
	struct coll *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->items = calloc(fmt->n ? fmt->n : 1, sizeof *c->items);
	c->attrs = calloc(fmt->n ? fmt->n : 1, sizeof *c->attrs);
	if (!c->items || !c->attrs)
		goto fail;
	for (size_t i = 0; i < fmt->n; i++) {
		c->items[i].attr = fmt->items[i].attr;
		if (fmt->items[i].sep && !(c->items[i].sep = strdup(fmt->items[i].sep)))
			goto fail;
		if (fmt->items[i].attr)
			c->attrs[c->n_attrs++] = fmt->items[i].attr;
	}
	c->fmt.n = fmt->n;
	c->fmt.items = c->items;
	return c;
fail:
	coll_free(c);
	return NULL;
}

static void flow_reset(struct coll_flow *f)
{
	free(f->prev);
	f->prev = NULL;
	f->sprev_have = 0;          /* sprev's storage is kept for reuse */
}

static void set_free_flows(struct coll_set *s)
{
	for (size_t i = 0; i < s->n_flows; i++) {
		free(s->flows[i].prev);
		free(s->flows[i].sprev);
	}
	free(s->flows);
	s->flows = NULL;
	s->n_flows = 0;
}

void coll_free(struct coll *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->items && i < c->fmt.n; i++)
		free(c->items[i].sep);
	free(c->items);
	free(c->attrs);
	for (size_t i = 0; i < c->n_sets; i++)
		set_free_flows(&c->sets[i]);
	free(c->sets);
	free(c->recs);
	free(c->vals);
	for (size_t i = 0; i < c->cap_dres; i++)
		free(c->dres[i]);
	free(c->dres);
	free(c);
}

size_t coll_n_attrs(const struct coll *c)
{
	return c->n_attrs;
}

unsigned coll_attr(const struct coll *c, size_t i)
{
	return i < c->n_attrs ? c->attrs[i] : 0;
}

static struct coll_set *find_set(const struct coll *c, uint32_t set)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (c->sets[i].set == set)
			return &c->sets[i];
	return NULL;
}

static struct coll_set *get_set(struct coll *c, uint32_t set)
{
	struct coll_set *s = find_set(c, set);
	if (s)
		return s;
	struct coll_set *p = realloc(c->sets, (c->n_sets + 1) * sizeof *p);
	if (!p)
		return NULL;
	c->sets = p;
	s = &c->sets[c->n_sets++];
	memset(s, 0, sizeof *s);
	s->set = set;
	s->nbins = DIF_DIST_DEFAULT_BINS;
	return s;
}

int coll_set_nbins(struct coll *c, uint32_t set, unsigned nbins)
{
	if (nbins > DIST_MAX_NBINS) {
		errno = EINVAL;
		return -1;
	}
	struct coll_set *s = get_set(c, set);
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	s->nbins = nbins ? nbins : DIF_DIST_DEFAULT_BINS;
	return 0;
}

void coll_begin(struct coll *c)
{
	c->n_recs = 0;
	c->n_dres = 0;
}

/* The state of flow `index` of s, grown to hold it. */
static struct coll_flow *get_flow(struct coll_set *s, uint32_t index)
{
	if (index == 0)
		return NULL;
	if (index > s->n_flows) {
		size_t n = s->n_flows ? s->n_flows : 64;
		while (n < index)
			n *= 2;
		struct coll_flow *p = realloc(s->flows, n * sizeof *p);
		if (!p)
			return NULL;
		memset(p + s->n_flows, 0, (n - s->n_flows) * sizeof *p);
		s->flows = p;
		s->n_flows = n;
	}
	return &s->flows[index - 1];
}

static struct dist_result *next_dres(struct coll *c)
{
	if (c->n_dres == c->cap_dres) {
		size_t cap = c->cap_dres ? c->cap_dres * 2 : 16;
		struct dist_result **p = realloc(c->dres, cap * sizeof *p);
		if (!p)
			return NULL;
		memset(p + c->cap_dres, 0, (cap - c->cap_dres) * sizeof *p);
		c->dres = p;
		c->cap_dres = cap;
	}
	if (!c->dres[c->n_dres] && !(c->dres[c->n_dres] = malloc(sizeof **c->dres)))
		return NULL;
	return c->dres[c->n_dres++];
}

/* The interval of a turnaround distribution; remember this reading. */
static int interval_dist(struct coll *c, const struct coll_set *s,
			 struct coll_flow *f, const struct dist *cur,
			 struct dif_value *out)
{
	struct dist_result *r = next_dres(c);
	if (!r) {
		errno = ENOMEM;
		return -1;
	}
	if (dist_interval(f->prev, cur, s->nbins, r) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (!f->prev && !(f->prev = malloc(sizeof *f->prev))) {
		errno = ENOMEM;
		return -1;
	}
	dist_snapshot(cur, f->prev);
	out->kind = DIF_V_DIST;
	out->dist = &r->d;
	return 0;
}

/* The interval of an RFC 2724 distribution; remember this reading. */
static int interval_static(struct coll *c, struct coll_flow *f,
			   const struct coll_value *v, struct dif_value *out)
{
	struct dist_result *r = next_dres(c);
	if (!r) {
		errno = ENOMEM;
		return -1;
	}
	if (!f->sprev && !(f->sprev = calloc(STATIC_N, sizeof *f->sprev))) {
		errno = ENOMEM;
		return -1;
	}
	unsigned k = v->attr - STATIC_FIRST;
	uint16_t bit = (uint16_t)(1u << k);
	const struct dist_static *prev = f->sprev_have & bit ? &f->sprev[k] : NULL;
	if (dist_static_interval(v->spec, prev, v->sdist, r) != 0) {
		errno = EINVAL;
		return -1;
	}
	f->sprev[k] = *v->sdist;
	f->sprev_have |= bit;
	out->kind = DIF_V_DIST;
	out->dist = &r->d;
	return 0;
}

static int grow_records(struct coll *c)
{
	if (c->n_recs < c->cap_recs)
		return 0;
	size_t cap = c->cap_recs ? c->cap_recs * 2 : 256;
	struct dif_record *r = realloc(c->recs, cap * sizeof *r);
	if (!r)
		return -1;
	c->recs = r;
	size_t per = c->n_attrs ? c->n_attrs : 1;
	struct dif_value *v = realloc(c->vals, cap * per * sizeof *v);
	if (!v)
		return -1;
	c->vals = v;
	c->cap_recs = cap;
	return 0;
}

int coll_add(struct coll *c, uint32_t set, uint32_t index, uint64_t first_id,
	     const struct coll_value *vals)
{
	struct coll_set *s = get_set(c, set);
	struct coll_flow *f = s ? get_flow(s, index) : NULL;
	if (!f || grow_records(c)) {
		errno = ENOMEM;
		return -1;
	}
	if (!f->used || f->first_id != first_id) {
		flow_reset(f);
		f->used = true;
		f->first_id = first_id;
	}
	struct dif_value *out = &c->vals[c->n_recs * c->n_attrs];
	for (size_t i = 0; i < c->n_attrs; i++) {
		const struct coll_value *v = &vals[i];
		struct dif_value *o = &out[i];
		memset(o, 0, sizeof *o);
		o->attr = c->attrs[i];
		o->kind = DIF_V_NONE;
		switch (v->kind) {
		case COLL_BYTES:
			o->kind = DIF_V_BYTES;
			o->width = v->width;
			memcpy(o->bytes, v->bytes, v->width);
			break;
		case COLL_DIST:
			if (interval_dist(c, s, f, v->dist, o))
				return -1;
			break;
		case COLL_STATIC:
			if (!is_static_attr(v->attr) || !v->spec || !v->sdist) {
				errno = EINVAL;
				return -1;
			}
			if (interval_static(c, f, v, o))
				return -1;
			break;
		default:
			break;
		}
	}
	c->recs[c->n_recs].n = c->n_attrs;
	c->recs[c->n_recs].v = NULL;     /* pointed at in coll_records */
	c->n_recs++;
	return 0;
}

void coll_forget(struct coll *c, uint32_t set, uint32_t index)
{
	struct coll_set *s = find_set(c, set);
	if (s && index >= 1 && index <= s->n_flows) {
		flow_reset(&s->flows[index - 1]);
		s->flows[index - 1].used = false;
	}
}

void coll_forget_set(struct coll *c, uint32_t set)
{
	struct coll_set *s = find_set(c, set);
	if (s)
		set_free_flows(s);
}

const struct dif_record *coll_records(const struct coll *c, size_t *n)
{
	/* vals may have moved while records were added */
	for (size_t i = 0; i < c->n_recs; i++)
		c->recs[i].v = &c->vals[i * c->n_attrs];
	*n = c->n_recs;
	return c->recs;
}
