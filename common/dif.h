/*
 * dif.h — the .dif flow data file (doc/dif-format.md): the writer shared by
 * the offline meter and ntm-reader, and the distribution arithmetic shared by
 * writers and readers (type-6 bin edges, RFC 2724 bucket bounds, percentiles).
 *
 * The writer takes plain data, not meter structures: a record is a list of
 * (attribute number, width, big-endian bytes) values in #Format order, and a
 * distribution is a struct dif_dist.  Functions return 0, or -1 with errno
 * set (EINVAL for data that cannot be written, else the I/O error).
 */
#ifndef NTM_DIF_H
#define NTM_DIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rule.h"

#define DIF_PROGRAM          "ntm"
#define DIF_VALUE_MAX        RULE_ADDR_MAX  /* widest attribute value, bytes */
#define DIF_DIST_MAX_VALUES  255   /* type 5 values a token may carry */
#define DIF_DIST_MAX_COUNTS  256   /* 255 buckets + the overflow bucket */
#define DIF_DIST_DEFAULT_BINS 60   /* type-6 bins when the rule gives none */

/* Distribution token types (doc/dif-format.md §5). */
enum dif_dist_type {
	DIF_DIST_LINEAR = 1,   /* RFC 2724 static, linear buckets */
	DIF_DIST_LOG    = 2,   /* RFC 2724 static, logarithmic buckets */
	DIF_DIST_EXACT  = 5,   /* every value of the interval, µs */
	DIF_DIST_BINNED = 6    /* log-spaced bins between computed limits */
};

/*
 * One interval's distribution.  Type 5: values[0..n_values) in arrival
 * order, n == n_values.  Type 6: lower/upper in µs, counts[0..n_counts) the
 * bins.  Types 1/2: scale, lower/upper the rule's unscaled limit fields,
 * counts = buckets then overflow.  n is always the number of samples.
 */
struct dif_dist {
	uint8_t type;          /* enum dif_dist_type */
	uint8_t scale;         /* types 1/2: limits × 10^scale */
	uint64_t n;
	uint32_t lower, upper;
	uint32_t n_values;
	const uint32_t *values;
	uint32_t n_counts;
	const uint64_t *counts;
};

/* What a value slot holds. */
enum dif_value_kind {
	DIF_V_NONE,    /* "-": the meter had no value */
	DIF_V_BYTES,   /* bytes[0..width) */
	DIF_V_DIST,    /* dist */
	DIF_V_TEXT     /* parser only: a column it could not interpret */
};

struct dif_value {
	uint16_t attr;                 /* attribute number (attr.h) */
	uint8_t kind;                  /* enum dif_value_kind */
	uint8_t width;                 /* bytes used, DIF_V_BYTES */
	uint8_t bytes[DIF_VALUE_MAX];  /* big-endian / network order */
	const struct dif_dist *dist;   /* DIF_V_DIST */
	const char *text;              /* parser: the token as read; writer ignores */
};

/* One flow: one value per attribute item of the format (separators have
 * none), in format order. */
struct dif_record {
	size_t n;
	const struct dif_value *v;
};

/* The #Format columns: struct format_item as in a ruleset (attr, or a
 * separator when attr == 0). */
struct dif_format {
	size_t n;
	const struct format_item *items;
};

struct dif_header {
	const char *program;     /* NULL = DIF_PROGRAM */
	const char *version;
	const char *options;     /* command line; may be NULL or empty */
	const char *meter;       /* blanks are written as '_' */
	int64_t start;           /* seconds since the epoch */
	const struct dif_format *format;
};

struct dif_interval {
	int64_t start, end;      /* seconds since the epoch */
	uint32_t from_uptime;    /* centiseconds, "Flows from T1 to T2" */
	uint32_t to_uptime;
	const char *meter;
};

/* The columns written when a ruleset has no FORMAT (NeMaC's usual set:
 * ruleset, index, FirstTime, peer type and addresses, PDUs, octets). */
extern const uint16_t dif_default_attrs[];
extern const size_t dif_n_default_attrs;

/* Number of attribute (non-separator) items of a format. */
size_t dif_format_attrs(const struct dif_format *f);

/* The "##" line and the "#Format:" line. */
int dif_write_header(FILE *out, const struct dif_header *h);
/* "#Time: ..." opening an interval. */
int dif_write_interval_start(FILE *out, const struct dif_interval *iv);
/* One flow record; r->v[i] must carry the i-th attribute of the format. */
int dif_write_record(FILE *out, const struct dif_format *f,
		     const struct dif_record *r);
/* "#Enddata: <records>" closing the interval. */
int dif_write_interval_end(FILE *out, size_t records);

/*
 * Append one whole interval to the file at `path` so that no reader ever
 * sees half of it: formatted in memory, then one write(2) with O_APPEND; a
 * file that does not exist (or is empty) is created with the header by
 * writing a temporary file beside it and renaming it into place.
 */
int dif_append_interval(const char *path, const struct dif_header *h,
			const struct dif_interval *iv,
			const struct dif_record *recs, size_t n_recs);

/* Is the distribution consistent (counts sum to n, sizes and limits in
 * range, parameters describe a distribution)?  Only such are written. */
bool dif_dist_valid(const struct dif_dist *d);

/* Render one distribution token into buf (NUL-terminated); returns its
 * length, or -1 (errno EINVAL bad dist, ENOSPC buffer too small). */
int dif_dist_format(const struct dif_dist *d, char *buf, size_t cap);

/* Time as written in headers: "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with NUL). */
#define DIF_ISO_LEN 32
void dif_iso8601(int64_t epoch, char buf[DIF_ISO_LEN]);
/* Parse that form (exactly); returns 0 and the epoch, or -1. */
int dif_parse_iso8601(const char *s, size_t len, int64_t *epoch);

/*
 * Type-6 bin edge e_i (0 <= i <= nbins) in µs: e_0 = lower, e_nbins =
 * upper + 1, log-spaced in between from max(lower, 1) (doc §5.1).
 */
double dif_dist_edge(uint32_t lower, uint32_t upper, unsigned nbins,
		     unsigned i);

/*
 * RFC 2724 bucket upper bound b_i (0 <= i < buckets) in measurement units:
 * transform 1 linear, 2 logarithmic; limits × 10^scale (doc §5.3).  Returns
 * -1.0 for parameters that describe no distribution (unknown transform,
 * buckets == 0, i >= buckets, lower > upper, log with lower == 0, scale > 9).
 */
double dif_dist_static_bound(unsigned transform, unsigned scale,
			     unsigned lower, unsigned upper,
			     unsigned buckets, unsigned i);

/*
 * Percentile p (0..1) of a distribution (doc §5.2): exact for type 5,
 * interpolated within the bin for types 6, 1 and 2.  Returns 0 with *out
 * set; 1 when the percentile lies in the overflow bucket (*out is then its
 * lower bound); -1 (errno EINVAL) for an empty or malformed distribution.
 */
int dif_dist_percentile(const struct dif_dist *d, double p, double *out);

#endif
