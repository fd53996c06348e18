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

#include "rulecheck.h"
#include "rulesfile.h"

static void usage(FILE *out)
{
	fputs("usage: srlc [-o OUT.rules] FILE.srl    compile (to stdout without -o)\n"
	      "       srlc --check FILE.srl           check only; exit 0 if no error\n"
	      "       srlc --dump FILE                list the rule table of a .srl or rules file\n"
	      "       srlc -h | --help                this text\n", out);
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
		rc = ruleset_validate(&rs, &d);
	diag_print(&d, stderr);
	int status = d.errors ? 1 : 0;
	if (status == 0 && mode == DUMP) {
		ruleset_dump(&rs, stdout);
	} else if (status == 0 && mode == COMPILE) {
		FILE *out = out_path ? fopen(out_path, "w") : stdout;
		if (!out) {
			perror(out_path);
			status = 1;
		} else {
			if (rulesfile_write(&rs, out) != 0) {
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
