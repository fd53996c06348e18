/* diag.c — collected diagnostics (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d, const char *file)
{
	memset(d, 0, sizeof *d);
	d->file = file;
}

void diag_free(struct diag *d)
{
	free(d->msgs);
	d->msgs = NULL;
	d->n = d->cap = 0;
}

static void add(struct diag *d, enum diag_level level, unsigned line,
		unsigned col, const char *fmt, va_list ap)
{
	unsigned limit = d->max_errors ? d->max_errors : 100;
	if (level == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	/* Counting goes on past the limit so the exit status stays right;
	 * only the stored text is bounded (a fuzzed file can hold millions). */
	if (d->n >= limit)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag_msg *m = realloc(d->msgs, cap * sizeof *m);
		if (!m)
			return;
		d->msgs = m;
		d->cap = cap;
	}
	struct diag_msg *m = &d->msgs[d->n++];
	m->line = line;
	m->col = col;
	m->level = level;
	vsnprintf(m->text, sizeof m->text, fmt, ap);
}

void diag_error(struct diag *d, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, DIAG_ERROR, line, col, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, DIAG_WARNING, line, col, fmt, ap);
	va_end(ap);
}

static int by_position(const void *a, const void *b)
{
	const struct diag_msg *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

void diag_print(const struct diag *d, FILE *out)
{
	if (d->n == 0)
		return;
	struct diag_msg *sorted = malloc(d->n * sizeof *sorted);
	if (!sorted)
		return;
	memcpy(sorted, d->msgs, d->n * sizeof *sorted);
	/* stable enough: qsort on equal positions keeps no order, but two
	 * messages at one position are rare and both are printed */
	qsort(sorted, d->n, sizeof *sorted, by_position);
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_msg *m = &sorted[i];
		const char *lv = m->level == DIAG_ERROR ? "error" : "warning";
		if (m->line)
			fprintf(out, "%s:%u:%u: %s: %s\n", d->file, m->line, m->col, lv, m->text);
		else
			fprintf(out, "%s: %s: %s\n", d->file, lv, m->text);
	}
	free(sorted);
}

void diag_forward(struct diag *to, const char *path, const struct diag *from)
{
	for (size_t m = 0; m < from->n; m++) {
		const struct diag_msg *dm = &from->msgs[m];
		char where[32] = "";
		if (dm->line)
			snprintf(where, sizeof where, ":%u:%u", dm->line, dm->col);
		if (dm->level == DIAG_ERROR)
			diag_error(to, 0, 0, "%s%s: %s", path, where, dm->text);
		else
			diag_warning(to, 0, 0, "%s%s: %s", path, where, dm->text);
	}
}
