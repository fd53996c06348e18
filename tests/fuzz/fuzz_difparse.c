/*
 * fuzz_difparse — the streaming .dif parser on arbitrary bytes.  The first
 * input byte picks the feeding chunk size (line splitting across chunks is
 * part of what is tested); the rest is the file.  Every distribution the
 * parser delivers must be valid, give a percentile, and survive a
 * format -> parse round trip unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "difparse.h"

static void check_dist(const struct dif_dist *d)
{
	if (!dif_dist_valid(d))
		abort();
	double m;
	if (d->n && dif_dist_percentile(d, 0.5, &m) < 0)
		abort();
	static char tok[8192];
	int len = dif_dist_format(d, tok, sizeof tok);
	if (len < 0)
		abort();
	struct dif_dist back;
	static uint32_t v[DIF_DIST_MAX_VALUES];
	static uint64_t c[DIF_DIST_MAX_COUNTS];
	const char *why;
	if (difp_parse_dist(tok, (size_t)len, &back, v, c, &why) != 0)
		abort();
	if (back.type != d->type || back.n != d->n || back.lower != d->lower ||
	    back.upper != d->upper || back.scale != d->scale ||
	    back.n_values != d->n_values || back.n_counts != d->n_counts ||
	    (d->n_values && memcmp(v, d->values, d->n_values * sizeof v[0])) ||
	    (d->n_counts && memcmp(c, d->counts, d->n_counts * sizeof c[0])))
		abort();
}

static int on_interval(void *ctx, const struct difp_interval *iv)
{
	(void)ctx;
	for (size_t r = 0; r < iv->n_records; r++) {
		const struct dif_record *rec = &iv->records[r];
		if (iv->format && rec->n != iv->format->n_attrs)
			abort();
		for (size_t i = 0; i < rec->n; i++)
			if (rec->v[i].kind == DIF_V_DIST)
				check_dist(rec->v[i].dist);
	}
	return 0;
}

static void on_error(void *ctx, const char *msg)
{
	(void)ctx;
	if (!msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = data[0] ? data[0] : 4096;
	data++;
	size--;
	static const struct difp_ops ops = {
		.interval = on_interval, .error = on_error
	};
	struct difp *p = difp_new("fuzz.dif", &ops, NULL);
	if (!p)
		return 0;
	const char *text = (const char *)data;
	for (size_t off = 0; off < size; off += chunk)
		if (difp_feed(p, text + off, size - off < chunk ? size - off : chunk))
			break;
	difp_finish(p);
	difp_free(p);
	return 0;
}
