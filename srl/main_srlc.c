/*
 * srlc — the SRL compiler.
 *
 *   srlc [-o OUT.rules] FILE.srl   compile; the rules file goes to OUT or stdout
 *   srlc --check FILE.srl          compile, report, write nothing
 *   srlc --dump FILE               list the table of FILE (.srl or rules file)
 *
 * Diagnostics go to stderr as FILE:LINE:COL: error|warning: text.
 * Exit status: 0 success, 1 any error, 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "rule.h"
#include "srl.h"

#if defined(__has_include)
#if __has_include("rulesfile.h")
#include "rulesfile.h"
#define HAVE_RULESFILE 1
#endif
#if __has_include("rulecheck.h") && !defined(SRLC_NO_RULECHECK)
#include "rulecheck.h"
#define HAVE_RULECHECK 1
#endif
#endif

static void usage(FILE *out)
{
	fputs("usage: srlc [-o OUT.rules] FILE.srl    compile (to stdout without -o)\n"
	      "       srlc --check FILE.srl           check only; exit 0 if no error\n"
	      "       srlc --dump FILE                list the rule table of a .srl or rules file\n"
	      "       srlc -h | --help                this text\n", out);
}

#ifndef HAVE_RULESFILE
/* Minimal listing until common/rulesfile.h exists. */
static void list_rules(const struct ruleset *rs, FILE *out)
{
	fprintf(out, "SET %u\nRULES\n", (unsigned)rs->set);
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct rule *r = &rs->rules[i];
		fprintf(out, "%4zu  attr %u  mask ", i + 1, r->attr);
		for (unsigned k = 0; k < r->len; k++)
			fprintf(out, "%02x", r->mask[k]);
		fprintf(out, "  value ");
		for (unsigned k = 0; k < r->len; k++)
			fprintf(out, "%02x", r->value[k]);
		fprintf(out, "  %s, %u\n", rule_op_name(r->op), (unsigned)r->param);
	}
}
#endif

static int write_rules(const struct ruleset *rs, FILE *out)
{
#ifdef HAVE_RULESFILE
	return rulesfile_write(rs, out);
#else
	list_rules(rs, out);
	return ferror(out) ? -1 : 0;
#endif
}

static void dump(const struct ruleset *rs, FILE *out)
{
#ifdef HAVE_RULESFILE
	ruleset_dump(rs, out);
#else
	list_rules(rs, out);
#endif
}

static int validate(const struct ruleset *rs, struct diag *d)
{
#ifdef HAVE_RULECHECK
	return ruleset_validate(rs, d);
#else
	(void)rs;
	(void)d;
	return 0;
#endif
}

int main(int argc, char **argv)
{
	enum { COMPILE, CHECK, DUMP } mode = COMPILE;
	const char *out_path = NULL, *in_path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--check")) {
			mode = CHECK;
		} else if (!strcmp(a, "--dump")) {
			mode = DUMP;
		} else if (!strcmp(a, "-o")) {
			if (++i >= argc) {
				fputs("srlc: -o needs a file name\n", stderr);
				usage(stderr);
				return 2;
			}
			out_path = argv[i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "srlc: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (in_path) {
			fputs("srlc: one input file only\n", stderr);
			usage(stderr);
			return 2;
		} else {
			in_path = a;
		}
	}
	if (!in_path) {
		usage(stderr);
		return 2;
	}

	struct diag d;
	diag_init(&d, in_path);
	struct ruleset rs;
	int rc = mode == DUMP ? srl_load_ruleset(in_path, &rs, &d)
			      : srl_compile_file(in_path, &rs, &d);
	if (rc == 0)
		rc = validate(&rs, &d);
	if (d.n)        /* diag_print copies from a NULL array when empty */
		diag_print(&d, stderr);
	int status = d.errors ? 1 : 0;
	if (status == 0 && mode == DUMP) {
		dump(&rs, stdout);
	} else if (status == 0 && mode == COMPILE) {
		FILE *out = out_path ? fopen(out_path, "w") : stdout;
		if (!out) {
			perror(out_path);
			status = 1;
		} else {
			if (write_rules(&rs, out) != 0) {
				fprintf(stderr, "srlc: cannot write %s\n",
					out_path ? out_path : "stdout");
				status = 1;
			}
			if (out != stdout && fclose(out) != 0) {
				perror(out_path);
				status = 1;
			}
			if (status && out_path)
				remove(out_path);
		}
	}
	ruleset_free(&rs);
	diag_free(&d);
	return status;
}
