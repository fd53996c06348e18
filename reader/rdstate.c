/* rdstate.c — ntm-reader's per-meter state file (see rdstate.h).
 *
 * Text, one item per line, so an operator can read it:
 *   ntm-reader-state 1
 *   start_ns N / last_uptime N / last_ns N / set N / reader N
 *   pkg SET INDEX FIRST_ID HEXBYTES        (one per remembered flow)
 *   end
 * The closing "end" tells a complete file from a truncated one.
 */
#include "rdstate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC     "ntm-reader-state"
#define VERSION   1
#define HEX       "0123456789abcdef"

void rdstate_init(struct rdstate *s)
{
	memset(s, 0, sizeof *s);
}

void rdstate_clear(struct rdstate *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->pkgs[i].bytes);
	s->n = 0;
}

void rdstate_free(struct rdstate *s)
{
	rdstate_clear(s);
	free(s->pkgs);
	rdstate_init(s);
}

static int cmp_key(uint32_t set, uint32_t index, const struct rdstate_pkg *p)
{
	if (set != p->set)
		return set < p->set ? -1 : 1;
	if (index != p->index)
		return index < p->index ? -1 : 1;
	return 0;
}

/* Position of (set, index), or where it would go; *found says which. */
static size_t find(const struct rdstate *s, uint32_t set, uint32_t index,
		   int *found)
{
	/* readings arrive in index order: try the end first */
	if (!s->n || cmp_key(set, index, &s->pkgs[s->n - 1]) > 0) {
		*found = 0;
		return s->n;
	}
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(set, index, &s->pkgs[mid]);
		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = 0;
	return lo;
}

int rdstate_put(struct rdstate *s, uint32_t set, uint32_t index,
		uint64_t first_id, const uint8_t *bytes, size_t len)
{
	if (!len || len > RDSTATE_PKG_MAX) {
		errno = EINVAL;
		return -1;
	}
	uint8_t *copy = malloc(len);
	if (!copy)
		return -1;
	memcpy(copy, bytes, len);
	int found;
	size_t at = find(s, set, index, &found);
	if (found) {
		free(s->pkgs[at].bytes);
	} else {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct rdstate_pkg *p = realloc(s->pkgs, cap * sizeof *p);
			if (!p) {
				free(copy);
				return -1;
			}
			s->pkgs = p;
			s->cap = cap;
		}
		memmove(&s->pkgs[at + 1], &s->pkgs[at], (s->n - at) * sizeof *s->pkgs);
		s->n++;
	}
	s->pkgs[at] = (struct rdstate_pkg){ .set = set, .index = index,
		.first_id = first_id, .len = len, .bytes = copy };
	return 0;
}

void rdstate_drop(struct rdstate *s, uint32_t set, uint32_t index)
{
	int found;
	size_t at = find(s, set, index, &found);
	if (!found)
		return;
	free(s->pkgs[at].bytes);
	memmove(&s->pkgs[at], &s->pkgs[at + 1], (s->n - at - 1) * sizeof *s->pkgs);
	s->n--;
}

void rdstate_drop_set(struct rdstate *s, uint32_t set)
{
	size_t w = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->pkgs[i].set == set)
			free(s->pkgs[i].bytes);
		else
			s->pkgs[w++] = s->pkgs[i];
	}
	s->n = w;
}

int rdstate_save(const char *path, const struct rdstate *s)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, MAGIC " %d\nstart_ns %" PRIu64 "\nlast_uptime %" PRIu32
		"\nlast_ns %" PRIu64 "\nset %" PRIu32 "\nreader %" PRIu32 "\n",
		VERSION, s->start_ns, s->last_uptime, s->last_ns, s->set, s->reader);
	for (size_t i = 0; i < s->n; i++) {
		const struct rdstate_pkg *p = &s->pkgs[i];
		fprintf(f, "pkg %" PRIu32 " %" PRIu32 " %" PRIu64 " ", p->set,
			p->index, p->first_id);
		for (size_t j = 0; j < p->len; j++) {
			putc(HEX[p->bytes[j] >> 4], f);
			putc(HEX[p->bytes[j] & 15], f);
		}
		putc('\n', f);
	}
	fputs("end\n", f);
	int err = 0;
	if (fflush(f) || fsync(fileno(f)))
		err = errno;
	if (fclose(f) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (err) {
		unlink(tmp);
		errno = err;
		return -1;
	}
	return 0;
}

static int hexval(int c)
{
	const char *p = c ? strchr(HEX, c) : NULL;
	return p ? (int)(p - HEX) : -1;
}

/* "KEY N" into *out. */
static int scalar(const char *line, const char *key, uint64_t max, uint64_t *out)
{
	size_t kl = strlen(key);
	if (strncmp(line, key, kl) || line[kl] != ' ')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(line + kl + 1, &end, 10);
	if (errno || end == line + kl + 1 || *end || v > max || line[kl + 1] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_pkg(struct rdstate *s, char *line)
{
	unsigned long long set, index, first;
	int off = 0;
	if (sscanf(line, "pkg %llu %llu %llu %n", &set, &index, &first, &off) != 3 || !off ||
	    set > UINT32_MAX || index > UINT32_MAX)
		return -1;
	const char *hex = line + off;
	size_t hl = strlen(hex);
	if (!hl || hl % 2 || hl / 2 > RDSTATE_PKG_MAX)
		return -1;
	uint8_t *b = malloc(hl / 2);
	if (!b)
		return -1;
	for (size_t i = 0; i < hl / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	int rc = rdstate_put(s, (uint32_t)set, (uint32_t)index, first, b, hl / 2);
	free(b);
	return rc;
}

int rdstate_load(const char *path, struct rdstate *s, const char **why)
{
	rdstate_free(s);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 1;
		*why = strerror(errno);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int done = 0;
	*why = NULL;
	while (!*why && !done && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		uint64_t v;
		switch (lineno) {
		case 1:
			if (strcmp(line, MAGIC " 1"))
				*why = "not an ntm-reader state file (version 1)";
			break;
		case 2:
			if (scalar(line, "start_ns", UINT64_MAX, &s->start_ns))
				*why = "bad start_ns line";
			break;
		case 3:
			if (scalar(line, "last_uptime", UINT32_MAX, &v))
				*why = "bad last_uptime line";
			s->last_uptime = (uint32_t)v;
			break;
		case 4:
			if (scalar(line, "last_ns", UINT64_MAX, &s->last_ns))
				*why = "bad last_ns line";
			break;
		case 5:
			if (scalar(line, "set", UINT32_MAX, &v))
				*why = "bad set line";
			s->set = (uint32_t)v;
			break;
		case 6:
			if (scalar(line, "reader", UINT32_MAX, &v))
				*why = "bad reader line";
			s->reader = (uint32_t)v;
			break;
		default:
			if (!strcmp(line, "end"))
				done = 1;
			else if (parse_pkg(s, line))
				*why = errno == ENOMEM ? "out of memory" : "bad pkg line";
		}
	}
	free(line);
	int rerr = ferror(f);
	fclose(f);
	if (!*why && rerr)
		*why = "read error";
	if (!*why && !done)
		*why = "truncated (no end line)";
	if (*why) {
		rdstate_free(s);
		errno = EINVAL;
		return -1;
	}
	return 0;
}
