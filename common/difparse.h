/*
 * difparse.h — streaming .dif parser (doc/dif-format.md), for ntm's files
 * and NeTraMet/NeMaC-era ones.
 *
 * Input is fed in chunks of any size and handled one line at a time; only
 * the interval being read is held in memory, so a year of daily files never
 * has to fit.  Each complete interval is delivered once, with its records,
 * through the `interval` callback; the pointers it carries are valid only
 * during the call.  Problems are reported through `error` as
 * "file:line: message"; a bad flow record is skipped (and counted in the
 * interval), an incomplete interval (ntm file without #Enddata) is reported
 * and not delivered, and parsing goes on with the next line.
 */
#ifndef NTM_DIFPARSE_H
#define NTM_DIFPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dif.h"

#define DIFP_LINE_MAX (1u << 20)   /* longer lines are errors */

/* The "##" line. */
struct difp_header {
	const char *program;     /* "ntm", "NeTraMet", ... */
	const char *version;     /* "0.1", "v3.2.", ... ("" if none) */
	const char *options;     /* text between version and meter ("" if none) */
	const char *meter;       /* ntm files; "" for others */
	const char *start_text;  /* text after "starting at" ("" if none) */
	bool has_start;          /* start_text began with an ISO 8601 time */
	int64_t start;           /* seconds since the epoch */
	unsigned line;
};

/* One #Format column: a known attribute, an unknown name (attr 0, kept as
 * text), or a separator. */
struct difp_column {
	uint16_t attr;
	bool is_sep;
	bool inner;              /* separator between two attributes: records
				  * carry its words (doc §4) */
	const char *name;        /* the name as written, or the separator text */
};

struct difp_format {
	size_t n;
	const struct difp_column *cols;
	size_t n_attrs;          /* non-separator columns = values per record */
	unsigned line;
};

struct difp_interval {
	bool has_epoch;          /* ntm form: start/end in UTC */
	int64_t start, end;
	bool has_uptime;         /* "Flows from T1 to T2" */
	uint32_t from_uptime, to_uptime;
	const char *time_text;   /* everything after "#Time:" as written */
	const char *meter;       /* "" if not given */
	unsigned line;           /* line of the #Time: record */
	size_t n_records;
	const struct dif_record *records;  /* values in format order */
	unsigned bad_records;    /* lines skipped with an error */
	const struct difp_header *header;  /* NULL if the file had none */
	const struct difp_format *format;
};

/* Callbacks; any may be NULL.  A non-zero return from header/interval
 * stops the parse: difp_feed/difp_finish return that value. */
struct difp_ops {
	int (*header)(void *ctx, const struct difp_header *h);
	int (*format)(void *ctx, const struct difp_format *f);
	int (*interval)(void *ctx, const struct difp_interval *iv);
	void (*error)(void *ctx, const char *msg);
};

struct difp;

/* `name` is used in messages (copied).  NULL when out of memory. */
struct difp *difp_new(const char *name, const struct difp_ops *ops, void *ctx);
void difp_free(struct difp *p);
/* Feed the next `len` bytes.  Returns 0, a callback's non-zero value, or
 * -1 with errno ENOMEM. */
int difp_feed(struct difp *p, const char *data, size_t len);
/* End of input: a last line without '\n' is parsed, the open interval is
 * closed (delivered, or reported incomplete).  Same returns as difp_feed. */
int difp_finish(struct difp *p);
/* Errors reported so far. */
unsigned difp_errors(const struct difp *p);

/* A whole file, read in chunks: returns the number of errors reported, or
 * -1 (errno) when it cannot be opened or read.  A callback that stops the
 * parse ends it early (the callback's ctx knows why). */
int difp_parse_file(const char *path, const struct difp_ops *ops, void *ctx);

/* True for NeTraMet 5.1b4–5.1b6, whose type-6 upper limits are corrupted
 * (a constant 7000 = 700 ms): their binned distributions are unusable. */
bool difp_bad_type6_upper(const struct difp_header *h);

/*
 * Parse one distribution token (doc §5) into d, with its arrays in
 * values[DIF_DIST_MAX_VALUES] / counts[DIF_DIST_MAX_COUNTS].  Returns 0, or
 * -1 with *why set.
 */
int difp_parse_dist(const char *tok, size_t len, struct dif_dist *d,
		    uint32_t *values, uint64_t *counts, const char **why);

#endif
