/*
 * pkgdump — decode one flow package (RFC 2720 flowPackageData, as
 * `snmpget -Ov -Ox` prints it) read with a given selector, and print the
 * flow's values as one .dif record: the same collector and writer a reader
 * uses (pkg_decode -> coll -> dif_write_record), so the line can be
 * compared with the offline .dif record of the flow.
 *
 *   pkgdump ATTR[,ATTR...] < HEX
 *
 * The input may start with "Hex-STRING:"; every other non-hex character is
 * ignored.  Exit 0, or 1 with the reason on stderr.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "dif.h"
#include "pkg.h"
#include "rule.h"

#define PKGDUMP_MAX 65536

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The hex digits of stdin after an optional "Hex-STRING:" label. */
static size_t read_hex(uint8_t *buf, size_t cap)
{
	static char text[PKGDUMP_MAX * 4];
	size_t n = fread(text, 1, sizeof(text) - 1, stdin), len = 0;
	const char *p = text, *label;
	int hi = -1;

	text[n] = '\0';
	if ((label = strstr(text, "Hex-STRING:")) != NULL)
		p = label + strlen("Hex-STRING:");
	for (; *p && len < cap; p++) {
		int v = hexval((unsigned char)*p);
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			buf[len++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	static uint8_t buf[PKGDUMP_MAX];
	uint16_t attrs[PKG_ATTRS_MAX];
	struct format_item items[PKG_ATTRS_MAX];
	struct dif_format fmt;
	struct pkg_decoded dec;
	const struct dif_record *recs;
	const char *why = NULL;
	struct coll *c;
	size_t n = 0, len, n_recs;
	char *s, *save = NULL;

	if (argc != 2) {
		fprintf(stderr, "usage: pkgdump ATTR[,ATTR...] < HEX\n");
		return 1;
	}
	for (s = strtok_r(argv[1], ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long a = strtoul(s, &end, 10);
		if (*end || a == 0 || a >= 65536 || n == PKG_ATTRS_MAX) {
			fprintf(stderr, "pkgdump: bad attribute list\n");
			return 1;
		}
		attrs[n] = (uint16_t)a;
		items[n].attr = (uint16_t)a;
		items[n].sep = NULL;
		n++;
	}
	len = read_hex(buf, sizeof(buf));
	if (pkg_decoded_init(&dec) != 0) {
		fprintf(stderr, "pkgdump: out of memory\n");
		return 1;
	}
	if (pkg_decode(buf, len, attrs, n, &dec, &why) != 0) {
		fprintf(stderr, "pkgdump: %s\n", why ? why : "cannot decode");
		pkg_decoded_fini(&dec);
		return 1;
	}
	fmt.n = n;
	fmt.items = items;
	if (!(c = coll_create(&fmt))) {
		fprintf(stderr, "pkgdump: out of memory\n");
		pkg_decoded_fini(&dec);
		return 1;
	}
	coll_begin(c);
	/* one reading: its interval is everything since the flow began */
	if (coll_add(c, 1, 1, 0, dec.v) != 0 ||
	    !(recs = coll_records(c, &n_recs)) || n_recs != 1 ||
	    dif_write_record(stdout, &fmt, &recs[0]) != 0) {
		fprintf(stderr, "pkgdump: cannot write the record\n");
		coll_free(c);
		pkg_decoded_fini(&dec);
		return 1;
	}
	coll_free(c);
	pkg_decoded_fini(&dec);
	return 0;
}
