/*
 * cap.c — the capture interface: format detection, dispatch to the back
 * ends, and the buffered reader the file back ends share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cap_impl.h"

/* Reader buffer: large enough that reads are few and a batch of small
 * packets rarely has to stop early for a buffer move. */
#define CAP_RBUF_SIZE (4u * 1024u * 1024u)
/*
 * A regular file is read through windows of it mapped with MAP_POPULATE
 * instead: read(2) copying a trace held in the page cache cost ~12 % of
 * `ntm-meter --read` (the mapping's page tables cost about a quarter of
 * that), and a mapping faulted page by page cost more than the copy.  A
 * window at a time keeps the mapped (resident) part of a long trace small.
 */
#define CAP_MAP_WINDOW (16u * 1024u * 1024u)

/* Bytes looked at to recognise a format. */
#define CAP_PROBE_BYTES 4096u

void cap_fmterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void cap_seterr(struct cap *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

/* Map the window of the file from offset `from` (rounded down to a page),
 * at least `need` bytes from `from` unless the file ends first, in place
 * of the current one; -1 (errno set) if mmap fails. */
static int map_window(struct cap_rbuf *rb, uint64_t from, size_t need)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t base = from / page * page;
	uint64_t want = from - base + need > CAP_MAP_WINDOW ? from - base + need
							     : CAP_MAP_WINDOW;
	size_t len = (size_t)(rb->size - base < want ? rb->size - base : want);
	void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, rb->fd, (off_t)base);
	if (m == MAP_FAILED)
		return -1;
	if (rb->mapped)
		munmap(rb->buf, rb->cap);
	rb->buf = m;
	rb->cap = len;
	rb->mapped = true;
	/* the bytes from `from` on are unread; end is the window's end */
	rb->start = (size_t)(from - base);
	rb->end = len;
	rb->eof = base + len >= rb->size;
	return 0;
}

int cap_rbuf_open(struct cap_rbuf *rb, const char *path, char *err,
                  size_t errlen)
{
	struct stat sb;

	memset(rb, 0, sizeof *rb);
	rb->path = path;
	if (strcmp(path, "-") == 0) {
		rb->fd = STDIN_FILENO;
	} else {
		rb->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (rb->fd < 0) {
			cap_fmterr(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (fstat(rb->fd, &sb) == 0 && S_ISREG(sb.st_mode))
		rb->size = (uint64_t)sb.st_size;
	if (rb->size > 0 && map_window(rb, 0, 0) == 0)
		return 0;
	rb->buf = malloc(CAP_RBUF_SIZE);
	if (rb->buf == NULL) {
		cap_fmterr(err, errlen, "%s: out of memory", path);
		cap_rbuf_close(rb);
		return -1;
	}
	rb->cap = CAP_RBUF_SIZE;
	return 0;
}

void cap_rbuf_close(struct cap_rbuf *rb)
{
	if (rb->fd > STDIN_FILENO)
		close(rb->fd);
	rb->fd = -1;
	if (rb->mapped)
		munmap(rb->buf, rb->cap);
	else
		free(rb->buf);
	rb->buf = NULL;
	rb->mapped = false;
}

enum cap_rb_status cap_rbuf_fill(struct cap_rbuf *rb, size_t n, bool may_move)
{
	size_t avail = rb->end - rb->start;

	if (avail >= n)
		return CAP_RB_OK;
	if (n > (size_t)CAP_RECORD_MAX + 64) {
		rb->errnum = 0;
		return CAP_RB_ERR;
	}
	if (rb->mapped) {
		if (rb->eof)
			return avail == 0 ? CAP_RB_EOF : CAP_RB_SHORT;
		if (!may_move)
			return CAP_RB_FULL;
		/* the next window, from the first unread byte (the file may
		 * have grown: a window never passes the size seen at open) */
		if (map_window(rb, rb->off, n)) {
			rb->errnum = errno;
			return CAP_RB_ERR;
		}
		return rb->end - rb->start >= n ? CAP_RB_OK :
		       rb->end == rb->start ? CAP_RB_EOF : CAP_RB_SHORT;
	}
	if (rb->start + n > rb->cap) {
		if (!may_move)
			return CAP_RB_FULL;
		if (n > rb->cap) {
			size_t ncap = rb->cap * 2 > n ? rb->cap * 2 : n;
			uint8_t *nb = malloc(ncap);

			if (nb == NULL) {
				rb->errnum = ENOMEM;
				return CAP_RB_ERR;
			}
			memcpy(nb, rb->buf + rb->start, avail);
			free(rb->buf);
			rb->buf = nb;
			rb->cap = ncap;
		} else {
			memmove(rb->buf, rb->buf + rb->start, avail);
		}
		rb->start = 0;
		rb->end = avail;
	}
	while (rb->end - rb->start < n) {
		ssize_t r;

		if (rb->eof)
			return rb->end == rb->start ? CAP_RB_EOF : CAP_RB_SHORT;
		r = read(rb->fd, rb->buf + rb->end, rb->cap - rb->end);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rb->errnum = errno;
			return CAP_RB_ERR;
		}
		if (r == 0)
			rb->eof = true;
		rb->end += (size_t)r;
	}
	return CAP_RB_OK;
}

int cap_rbuf_fail(struct cap *c, const struct cap_rbuf *rb,
                  enum cap_rb_status s, const char *what)
{
	switch (s) {
	case CAP_RB_SHORT:
		cap_seterr(c, "%s: truncated %s at offset %llu (%zu bytes left)",
		           rb->path, what, (unsigned long long)rb->off,
		           cap_rbuf_avail(rb));
		break;
	case CAP_RB_ERR:
		if (rb->errnum != 0)
			cap_seterr(c, "%s: read error at offset %llu: %s",
			           rb->path, (unsigned long long)rb->off,
			           strerror(rb->errnum));
		else
			cap_seterr(c, "%s: %s at offset %llu larger than %u bytes",
			           rb->path, what, (unsigned long long)rb->off,
			           CAP_RECORD_MAX);
		break;
	default:
		cap_seterr(c, "%s: unexpected reader state %d", rb->path, (int)s);
		break;
	}
	return -1;
}

/* pcap file magics as the first four bytes appear on disk. */
static const uint8_t magic_pcap_us_le[4] = { 0xd4, 0xc3, 0xb2, 0xa1 };
static const uint8_t magic_pcap_us_be[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
static const uint8_t magic_pcap_ns_le[4] = { 0x4d, 0x3c, 0xb2, 0xa1 };
static const uint8_t magic_pcap_ns_be[4] = { 0xa1, 0xb2, 0x3c, 0x4d };
static const uint8_t magic_pcapng_shb[4] = { 0x0a, 0x0d, 0x0d, 0x0a };

static bool starts(const uint8_t *p, const uint8_t m[4])
{
	return memcmp(p, m, 4) == 0;
}

struct cap *cap_open_file(const char *path, char *err, size_t errlen)
{
	struct cap_rbuf rb;
	enum cap_rb_status s;
	const uint8_t *p;
	size_t n;

	if (path == NULL) {
		cap_fmterr(err, errlen, "no trace file named");
		return NULL;
	}
	if (cap_rbuf_open(&rb, path, err, errlen) < 0)
		return NULL;
	s = cap_rbuf_need(&rb, CAP_PROBE_BYTES, true);
	if (s == CAP_RB_ERR) {
		cap_fmterr(err, errlen, "%s: %s", path, strerror(rb.errnum));
		cap_rbuf_close(&rb);
		return NULL;
	}
	p = cap_rbuf_ptr(&rb);
	n = cap_rbuf_avail(&rb);
	if (n == 0) {
		cap_fmterr(err, errlen, "%s: empty file", path);
	} else if (n >= 4 && (starts(p, magic_pcap_us_le) ||
	                      starts(p, magic_pcap_us_be) ||
	                      starts(p, magic_pcap_ns_le) ||
	                      starts(p, magic_pcap_ns_be))) {
		return cap_pcapfile_open(&rb, err, errlen);
	} else if (n >= 4 && starts(p, magic_pcapng_shb)) {
		return cap_pcapng_open(&rb, err, errlen);
	} else if (cap_erf_probe(p, n)) {
		return cap_erf_open(&rb, err, errlen);
	} else {
		cap_fmterr(err, errlen,
		           "%s: not a packet trace (no pcap, pcapng or ERF header)",
		           path);
	}
	cap_rbuf_close(&rb);
	return NULL;
}

struct cap *cap_open_live(const char *driver, const char *ifname,
                          const struct cap_options *o, char *err,
                          size_t errlen)
{
	static const struct cap_options defaults;

	if (ifname == NULL || *ifname == '\0') {
		cap_fmterr(err, errlen, "no interface named");
		return NULL;
	}
	if (o == NULL)
		o = &defaults;
	if (driver == NULL || strcmp(driver, "pcap") == 0)
		return cap_pcap_live_open(ifname, o, err, errlen);
	if (strcmp(driver, "afpacket") == 0)
		return cap_afpacket_open(ifname, o, err, errlen);
	if (strcmp(driver, "dpdk") == 0)
		return cap_dpdk_open(ifname, o, err, errlen);
	if (strcmp(driver, "dag") == 0)
		return cap_dag_open(ifname, o, err, errlen);
	cap_fmterr(err, errlen, "unknown capture driver '%s' "
	           "(drivers: pcap, afpacket, dpdk, dag)", driver);
	return NULL;
}

int cap_next_batch(struct cap *c, struct pkt *pkts, unsigned max)
{
	if (max == 0)
		return 0;
	return c->ops->next_batch(c, pkts, max);
}

void cap_stats(struct cap *c, struct cap_stats *st)
{
	*st = c->st;
	if (c->ops->stats != NULL)
		c->ops->stats(c, st);
}

const char *cap_error(const struct cap *c)
{
	return c->err;
}

const char *cap_format(const struct cap *c)
{
	return c->ops->name;
}

bool cap_is_live(const struct cap *c)
{
	return c->live;
}

void cap_close(struct cap *c)
{
	if (c != NULL)
		c->ops->close(c);
}
