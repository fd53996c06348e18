/*
 * diag.h — diagnostics collected while reading SRL or rules files, printed
 * by main() as "FILE:LINE:COL: error: message" (GCC style, so editors jump
 * to them).  Library code never prints.
 */
#ifndef NTM_DIAG_H
#define NTM_DIAG_H

#include <stdio.h>

enum diag_level { DIAG_WARNING, DIAG_ERROR };

struct diag_msg {
	unsigned line, col;             /* 1-based; 0 = whole file */
	enum diag_level level;
	char text[240];
};

struct diag {
	const char *file;               /* name shown in messages */
	struct diag_msg *msgs;
	size_t n, cap;
	unsigned errors, warnings;
	unsigned max_errors;            /* stop recording after this many (0 = 100) */
};

void diag_init(struct diag *d, const char *file);
void diag_free(struct diag *d);
void diag_error(struct diag *d, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_warning(struct diag *d, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Copy the messages of `from` (about file `path`) into `to`, each as
 * "PATH:LINE:COL: text" (or "PATH: text" for whole-file messages). */
void diag_forward(struct diag *to, const char *path, const struct diag *from);
/* Sorted by position, one line each. */
void diag_print(const struct diag *d, FILE *out);

#endif
