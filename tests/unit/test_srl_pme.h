/*
 * test_srl_pme.h — shared by the SRL compiler's unit tests (test code only):
 * compiling test inputs, and a small reference PME that follows RFC 2722's
 * execution loop (ref/srl-rtfm.md B.5, B.6) literally, so that generated
 * tables can be run on made-up packets.  Not the meter's PME (meter/pme.c);
 * deliberately simple and slow.
 */
#ifndef TEST_SRL_PME_H
#define TEST_SRL_PME_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "diag.h"
#include "rule.h"
#include "srl.h"

#define TP_ATTRS   128     /* attribute numbers a fake packet can carry */
#define TP_BYTES   16
#define TP_QUEUE   64
#define TP_STEPS   10000

/* A packet as the PME sees it: one value per attribute number. */
struct tpkt {
	uint8_t v[TP_ATTRS][TP_BYTES];
};

struct titem {
	uint16_t attr;
	uint8_t len;
	uint8_t mask[RULE_ADDR_MAX], value[RULE_ADDR_MAX];
};

enum tres { T_IGNORE, T_NOMATCH, T_COUNT, T_ERROR };

struct tkey {
	struct titem q[TP_QUEUE];
	size_t n;
};

static inline void tp_int(struct tpkt *p, unsigned attr, unsigned long v)
{
	const struct attr_info *ai = attr_by_num(attr);
	unsigned w = ai ? ai->width : 1;
	for (unsigned i = 0; i < w; i++)
		p->v[attr][w - 1 - i] = (uint8_t)(v >> (8 * i));
}

static inline void tp_ip(struct tpkt *p, unsigned attr, const char *text)
{
	memset(p->v[attr], 0, TP_BYTES);
	if (inet_pton(AF_INET, text, p->v[attr]) != 1)
		inet_pton(AF_INET6, text, p->v[attr]);
}

/* IPv4 TCP/UDP packet src:sport -> dst:dport */
static inline struct tpkt tp_ipv4(const char *src, unsigned sport, const char *dst,
				  unsigned dport, unsigned proto)
{
	struct tpkt p;
	memset(&p, 0, sizeof p);
	tp_int(&p, ATTR_SOURCE_PEER_TYPE, 1);
	tp_int(&p, ATTR_DEST_PEER_TYPE, 1);
	tp_ip(&p, ATTR_SOURCE_PEER_ADDRESS, src);
	tp_ip(&p, ATTR_DEST_PEER_ADDRESS, dst);
	tp_int(&p, ATTR_SOURCE_TRANS_TYPE, proto);
	tp_int(&p, ATTR_DEST_TRANS_TYPE, proto);
	tp_int(&p, ATTR_SOURCE_TRANS_ADDRESS, sport);
	tp_int(&p, ATTR_DEST_TRANS_ADDRESS, dport);
	return p;
}

static inline void tp_swap(struct tpkt *p)
{
	for (unsigned a = 0; a < TP_ATTRS; a++) {
		const struct attr_info *ai = attr_by_num(a);
		if (!ai || !(ai->flags & ATTR_F_SRC) || (ai->flags & ATTR_F_CLASS))
			continue;
		unsigned b = attr_swap(a);
		if (b >= TP_ATTRS || b == a)
			continue;
		uint8_t t[TP_BYTES];
		memcpy(t, p->v[a], TP_BYTES);
		memcpy(p->v[a], p->v[b], TP_BYTES);
		memcpy(p->v[b], t, TP_BYTES);
	}
}

static inline bool t_is_class(unsigned a)
{
	return a >= ATTR_SOURCE_CLASS && a <= ATTR_FLOW_KIND;
}

/* Current value of a Class/Kind variable: its latest push, else 0. */
static inline uint8_t t_class_value(const struct tkey *k, unsigned a)
{
	for (size_t i = k->n; i-- > 0;)
		if (k->q[i].attr == a)
			return k->q[i].value[0];
	return 0;
}

static inline void t_push(struct tkey *k, unsigned attr, uint8_t len,
			  const uint8_t *mask, const uint8_t *value)
{
	if (k->n >= TP_QUEUE)
		return;
	struct titem *it = &k->q[k->n++];
	memset(it, 0, sizeof *it);
	it->attr = (uint16_t)attr;
	it->len = len;
	memcpy(it->mask, mask, len);
	memcpy(it->value, value, len);
}

/* One matching pass (RFC 2722 §4.4 / digest B.6). */
static inline enum tres t_run(const struct ruleset *rs, const struct tpkt *p,
			      bool stod, struct tkey *k)
{
	uint16_t var[6] = { 0 };
	size_t stack[32];
	size_t sp = 0, r = 1;
	bool test = true;
	k->n = 0;
	for (unsigned steps = 0; steps < TP_STEPS; steps++) {
		if (r < 1 || r > rs->n_rules)
			return T_NOMATCH;          /* fell off the end */
		const struct rule *R = &rs->rules[r - 1];
		unsigned a = R->attr;
		if (a >= ATTR_V1 && a <= ATTR_V5)
			a = var[a - ATTR_V1 + 1];
		uint8_t pv[RULE_ADDR_MAX] = { 0 };
		if (a == ATTR_MATCHING_STOD)
			pv[0] = stod;
		else if (t_is_class(a))
			pv[0] = t_class_value(k, a);
		else if (a < TP_ATTRS)
			memcpy(pv, p->v[a], TP_BYTES);
		if (test && a != ATTR_NULL) {
			bool ok = true;
			for (unsigned i = 0; i < R->len; i++)
				if ((pv[i] & R->mask[i]) != R->value[i])
					ok = false;
			if (!ok) {
				r++;
				continue;
			}
		}
		test = rule_op_sets_test(R->op);
		uint8_t masked[RULE_ADDR_MAX];
		for (unsigned i = 0; i < RULE_ADDR_MAX; i++)
			masked[i] = pv[i] & R->mask[i];
		switch (R->op) {
		case RULE_IGNORE:
			return T_IGNORE;
		case RULE_NOMATCH:
			return T_NOMATCH;
		case RULE_COUNT:
			if (a != ATTR_NULL)
				t_push(k, a, R->len, R->mask, R->value);
			return T_COUNT;
		case RULE_COUNT_PKT:
			t_push(k, a, R->len, R->mask, masked);
			return T_COUNT;
		case RULE_RETURN:
			if (sp == 0)
				return T_ERROR;
			r = stack[--sp] + R->param;
			continue;
		case RULE_GOSUB: case RULE_GOSUB_ACT:
			if (sp == 32)
				return T_ERROR;
			stack[sp++] = r;
			break;
		case RULE_ASSIGN: case RULE_ASSIGN_ACT:
			if (R->attr < ATTR_V1 || R->attr > ATTR_V5)
				return T_ERROR;
			var[R->attr - ATTR_V1 + 1] = (uint16_t)(R->value[0] << 8 | R->value[1]);
			break;
		case RULE_GOTO: case RULE_GOTO_ACT:
			break;
		case RULE_PUSH_RULE_TO: case RULE_PUSH_RULE_TO_ACT:
			t_push(k, a, R->len, R->mask, R->value);
			break;
		case RULE_PUSH_PKT_TO: case RULE_PUSH_PKT_TO_ACT: {
			const struct attr_info *ai = attr_by_num(a);
			/* a distribution's mask/value are its parameters */
			if (ai && ai->type == ATTR_T_DIST)
				t_push(k, a, R->len, R->mask, R->value);
			else
				t_push(k, a, R->len, R->mask, masked);
			break;
		}
		case RULE_POP_TO: case RULE_POP_TO_ACT:
			if (k->n)
				k->n--;
			break;
		default:
			return T_ERROR;
		}
		r = R->param;
	}
	return T_ERROR;
}

/* RFC 2722 §4.3: wire order, then (after NoMatch) the ends swapped. */
enum tdir { D_IGNORED, D_FORWARD, D_REVERSE, D_ERROR };

static inline enum tdir t_match(const struct ruleset *rs, const struct tpkt *p0,
				struct tkey *k)
{
	struct tpkt p = *p0;
	enum tres r = t_run(rs, &p, true, k);
	if (r == T_COUNT)
		return D_FORWARD;
	if (r == T_ERROR)
		return D_ERROR;
	if (r == T_IGNORE)
		return D_IGNORED;
	tp_swap(&p);
	r = t_run(rs, &p, false, k);
	if (r == T_COUNT)
		return D_REVERSE;
	return r == T_ERROR ? D_ERROR : D_IGNORED;
}

/* The flow key's item for `attr` (the last push wins), or NULL. */
static inline const struct titem *t_key_get(const struct tkey *k, unsigned attr)
{
	for (size_t i = k->n; i-- > 0;)
		if (k->q[i].attr == attr)
			return &k->q[i];
	return NULL;
}

/* Distinct attributes in the key. */
static inline size_t t_key_attrs(const struct tkey *k)
{
	size_t n = 0;
	for (size_t i = 0; i < k->n; i++)
		if (t_key_get(k, k->q[i].attr) == &k->q[i])
			n++;
	return n;
}

/* ---- compiling test inputs ---------------------------------------------- */

static inline char *t_read(const char *rel)
{
	char path[512];
	const char *root = getenv("NTM_ROOT");
	snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *copy = malloc(n + 1);
	if (copy)
		memcpy(copy, buf, n + 1);
	return copy;
}

/* Compile text; prints diagnostics to stderr (test logs) and returns rc. */
static inline int t_compile(const char *text, struct ruleset *rs, struct diag *d)
{
	diag_init(d, "test.srl");
	int rc = srl_compile("test.srl", text, strlen(text), rs, d);
	if (d->n)
		diag_print(d, stderr);
	return rc;
}

static inline int t_compile_file(const char *rel, struct ruleset *rs)
{
	struct diag d;
	char *text = t_read(rel);
	if (!text) {
		fprintf(stderr, "cannot read %s\n", rel);
		ruleset_init(rs);
		return -1;
	}
	int rc = t_compile(text, rs, &d);
	diag_free(&d);
	free(text);
	return rc;
}

#endif
