/* srl.c — the compiler's entry points: passes in order, file loading. */
#include "srl.h"
#include "srl_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "rulesfile.h"

int srl_compile(const char *name, const char *text, size_t len,
		struct ruleset *out, struct diag *d)
{
	(void)name;     /* d->file carries the name shown in messages */
	ruleset_init(out);
	unsigned errors0 = d->errors;
	jmp_buf oom;
	struct srl_arena a = { .oom = &oom };
	/* volatile: examined after a longjmp */
	volatile int rc = -1;
	if (setjmp(oom) == 0) {
		struct srl_toks toks = { 0 };
		struct srl_program p = { 0 };
		srl_lex(text, len, 1, 1, &toks, &a, d);
		srl_parse(&toks, &p, &a, d);
		/* the checks run on a tree with holes too, to report more */
		srl_sema(&p, &a, d);
		if (d->errors == errors0)
			srl_gen(&p, out, d);
		rc = d->errors == errors0 ? 0 : -1;
	} else {
		diag_error(d, 0, 0, "out of memory");
	}
	srl_arena_free(&a);
	if (rc != 0)
		ruleset_free(out);
	return rc;
}

int srl_compile_file(const char *path, struct ruleset *out, struct diag *d)
{
	ruleset_init(out);
	char *buf;
	size_t len;
	switch (fileio_read_all(path, 0, &buf, &len)) {
	case FILEIO_OK:
		break;
	case FILEIO_OPEN:
		diag_error(d, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	case FILEIO_READ:
		diag_error(d, 0, 0, "read error");
		return -1;
	default:
		diag_error(d, 0, 0, "out of memory");
		return -1;
	}
	int rc = srl_compile(path, buf, len, out, d);
	free(buf);
	return rc;
}

static bool ends_with_srl(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && strcasecmp(path + n - 4, ".srl") == 0;
}

int srl_load_ruleset(const char *path, struct ruleset *out, struct diag *d)
{
	if (ends_with_srl(path))
		return srl_compile_file(path, out, d);
	return ruleset_read_file(path, out, d);
}
