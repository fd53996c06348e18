/*
 * fuzz_rulesfile — arbitrary bytes as a NeMaC rules file.  Whatever
 * rulesfile_read() accepts is validated and written back, and the written
 * text must read back as the same table (the writer's contract).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "rule.h"
#include "rulecheck.h"
#include "rulesfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset rs, back;
	struct diag d;
	diag_init(&d, "fuzz");
	if (rulesfile_read((const char *)data, size, &rs, &d) == 0) {
		struct ruleset_bounds b;
		ruleset_validate_bounds(&rs, &d, &b);

		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		if (m) {
			int rc = rulesfile_write(&rs, m);
			fclose(m);
			if (rc == 0) {
				struct diag d2;
				diag_init(&d2, "again");
				if (rulesfile_read(text, len, &back, &d2) != 0 ||
				    !ruleset_equal(&rs, &back))
					abort();    /* the writer broke its promise */
				ruleset_free(&back);
				diag_free(&d2);
			}
			free(text);
		}
		FILE *null = fopen("/dev/null", "w");
		if (null) {
			ruleset_dump(&rs, null);
			fclose(null);
		}
	}
	ruleset_free(&rs);
	diag_free(&d);
	return 0;
}
