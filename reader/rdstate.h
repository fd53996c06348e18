/*
 * rdstate.h — what ntm-reader must remember across its own restarts, per
 * meter (DIR/<meter>/.ntm-reader.state): the meter's start time (to tell a
 * meter restart apart), the uptime and meter time of the last written
 * collection (the next one's TimeFilter and interval start), our row
 * indexes, and the last package read of every flow that carries a
 * distribution (so the next interval's distribution is the difference from
 * it, exactly as if the reader had never stopped).
 *
 * The same structure is the reader's live memory of those packages.
 */
#ifndef NTM_RDSTATE_H
#define NTM_RDSTATE_H

#include <stddef.h>
#include <stdint.h>

#define RDSTATE_FILE     ".ntm-reader.state"
#define RDSTATE_PKG_MAX  65535u       /* largest package kept */

struct rdstate_pkg {
	uint32_t set, index;          /* the flow (sorted by these) */
	uint64_t first_id;            /* FirstTime: tells reuse apart */
	size_t len;
	uint8_t *bytes;               /* BER SEQUENCE as read */
};

struct rdstate {
	uint64_t start_ns;            /* ntmMeterStartNs; 0 = unknown */
	uint32_t last_uptime;         /* LastTime of the last written collection, cs */
	uint64_t last_ns;             /* meter time of it, ns since the epoch */
	uint32_t set;                 /* our ruleset's index on the meter */
	uint32_t reader;              /* our flowReaderInfoTable row */
	struct rdstate_pkg *pkgs;
	size_t n, cap;
};

void rdstate_init(struct rdstate *s);
void rdstate_free(struct rdstate *s);

/* Remember the package of flow (set, index), replacing an older one.
 * 0, or -1 (ENOMEM, or EINVAL when len is 0 or above RDSTATE_PKG_MAX). */
int rdstate_put(struct rdstate *s, uint32_t set, uint32_t index,
		uint64_t first_id, const uint8_t *bytes, size_t len);
/* Forget one flow / every flow of a ruleset / every flow. */
void rdstate_drop(struct rdstate *s, uint32_t set, uint32_t index);
void rdstate_drop_set(struct rdstate *s, uint32_t set);
void rdstate_clear(struct rdstate *s);

/* Write to path atomically (temporary file beside it, fsync, rename).
 * 0, or -1 with errno. */
int rdstate_save(const char *path, const struct rdstate *s);

/*
 * Read path into s (rdstate_init'ed; replaced).  0; 1 when the file does
 * not exist; -1 when it cannot be read (errno) or is malformed (*why set,
 * errno EINVAL) — s is then left empty.
 */
int rdstate_load(const char *path, struct rdstate *s, const char **why);

#endif
