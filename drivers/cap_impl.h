/*
 * cap_impl.h — what the capture back ends share behind cap.h: the source
 * object with its operations table, a buffered file reader that lets
 * packets point straight into its buffer, and byte-order readers.
 * Private to drivers/.
 */
#ifndef NTM_CAP_IMPL_H
#define NTM_CAP_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cap.h"

struct cap_ops {
	const char *name;
	int (*next_batch)(struct cap *c, struct pkt *pkts, unsigned max);
	/* Fill what only the back end knows (drops of live sources). */
	void (*stats)(struct cap *c, struct cap_stats *st);
	void (*close)(struct cap *c);
};

#define CAP_ERR_MAX 256

/* Every back end embeds this as its first member. */
struct cap {
	const struct cap_ops *ops;
	bool live;
	struct cap_stats st;       /* counters kept by the back end */
	char err[CAP_ERR_MAX];
};

void cap_seterr(struct cap *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cap_fmterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- buffered reader over a file descriptor ---- */

struct cap_rbuf {
	int fd;
	uint8_t *buf;              /* malloc'd, or a window of the mapped file */
	size_t cap;                /* allocated (mapped) bytes */
	bool mapped;               /* buf is a window of the file (cap_rbuf_fill) */
	size_t start, end;         /* unread bytes are buf[start, end) */
	uint64_t off;              /* file offset of buf[start] */
	uint64_t size;             /* file size, 0 if unknown */
	bool eof;                  /* read() returned 0 */
	int errnum;                /* errno of a failed read, 0 if too large */
	const char *path;
};

enum cap_rb_status {
	CAP_RB_OK = 0,             /* the bytes are there */
	CAP_RB_EOF,                /* end of file with nothing left */
	CAP_RB_SHORT,              /* end of file inside the wanted bytes */
	CAP_RB_FULL,               /* needs a move: retry with may_move */
	CAP_RB_ERR                 /* read error or record too large */
};

int cap_rbuf_open(struct cap_rbuf *rb, const char *path, char *err,
                  size_t errlen);
/* cap_rbuf_need()'s slow path: read (and move) until n bytes are there. */
enum cap_rb_status cap_rbuf_fill(struct cap_rbuf *rb, size_t n, bool may_move);
/*
 * Make n bytes available at cap_rbuf_ptr().  May move the unread bytes to
 * the front of the buffer (invalidating pointers into it) only when may_move
 * is set: back ends set it for the first record of a batch.  Inline: asked
 * once or twice per record, it almost always finds the bytes there.
 */
static inline enum cap_rb_status cap_rbuf_need(struct cap_rbuf *rb, size_t n,
                                               bool may_move)
{
	if (rb->end - rb->start >= n)
		return CAP_RB_OK;
	return cap_rbuf_fill(rb, n, may_move);
}
static inline const uint8_t *cap_rbuf_ptr(const struct cap_rbuf *rb)
{
	return rb->buf + rb->start;
}
static inline size_t cap_rbuf_avail(const struct cap_rbuf *rb)
{
	return rb->end - rb->start;
}
static inline void cap_rbuf_skip(struct cap_rbuf *rb, size_t n)
{
	rb->start += n;
	rb->off += n;
}
/* A file's progress for cap_stats(): bytes consumed and file size. */
static inline void cap_rbuf_progress(const struct cap_rbuf *rb, struct cap_stats *st)
{
	st->pos = rb->off;
	st->size = rb->size;
}

void cap_rbuf_close(struct cap_rbuf *rb);

/* Report a reader status other than OK/FULL as an error on c; returns -1.
 * what names the record kind ("pcap record"). */
int cap_rbuf_fail(struct cap *c, const struct cap_rbuf *rb,
                  enum cap_rb_status s, const char *what);

/* ---- back-end constructors (they take over the reader) ---- */

struct cap *cap_pcapfile_open(struct cap_rbuf *rb, char *err, size_t errlen);
struct cap *cap_pcapng_open(struct cap_rbuf *rb, char *err, size_t errlen);
struct cap *cap_erf_open(struct cap_rbuf *rb, char *err, size_t errlen);
struct cap *cap_pcap_live_open(const char *ifname, const struct cap_options *o,
                               char *err, size_t errlen);
/* AF_PACKET TPACKET_V3 (cap_afpacket.c) and DPDK (cap_dpdk.c; without DPDK
 * at build time it refuses with an error naming what is missing). */
struct cap *cap_afpacket_open(const char *ifname, const struct cap_options *o,
                              char *err, size_t errlen);
struct cap *cap_dpdk_open(const char *ifname, const struct cap_options *o,
                          char *err, size_t errlen);
/* Endace DAG (cap_dag.c): refuses, naming what this build lacks. */
struct cap *cap_dag_open(const char *ifname, const struct cap_options *o,
                         char *err, size_t errlen);

/* Does the buffer start like an ERF trace?  (ERF has no file header.) */
bool cap_erf_probe(const uint8_t *p, size_t n);

/* ---- byte order ---- */

static inline uint16_t cap_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t cap_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t cap_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}
static inline uint32_t cap_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}
static inline uint64_t cap_le64(const uint8_t *p)
{
	return (uint64_t)cap_le32(p + 4) << 32 | cap_le32(p);
}
/* Read in the file's byte order (swap = the file is big-endian). */
static inline uint16_t cap_rd16(const uint8_t *p, bool be)
{
	return be ? cap_be16(p) : cap_le16(p);
}
static inline uint32_t cap_rd32(const uint8_t *p, bool be)
{
	return be ? cap_be32(p) : cap_le32(p);
}

#define CAP_NS_PER_SEC 1000000000ull

#endif
