/*
 * test_cap — the capture file readers: pcap (µs, ns, both byte orders),
 * pcapng (two interfaces with different link types and resolutions,
 * statistics, both byte orders), ERF (extension headers, padding, types 2,
 * 22, 23, pad and unsupported records, loss counters), truncation, garbage,
 * batches across buffer moves.  Every file is written byte by byte here,
 * into a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "cap.h"

static char tmpdir[256];
static char errbuf[256];

/* ---------- building files ---------- */

struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static void b_put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}
static void b_u8(struct bytes *b, uint8_t v) { b_put(b, &v, 1); }
static void b_le16(struct bytes *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	b_put(b, x, 2);
}
static void b_le32(struct bytes *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	                 (uint8_t)(v >> 24) };
	b_put(b, x, 4);
}
static void b_be16(struct bytes *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	b_put(b, x, 2);
}
static void b_be32(struct bytes *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	                 (uint8_t)(v >> 8), (uint8_t)v };
	b_put(b, x, 4);
}
static void b_le64(struct bytes *b, uint64_t v)
{
	b_le32(b, (uint32_t)v);
	b_le32(b, (uint32_t)(v >> 32));
}
static void b_zero(struct bytes *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b_u8(b, 0);
}
/* n bytes counting up from start: the payload every test checks */
static void b_seq(struct bytes *b, uint8_t start, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b_u8(b, (uint8_t)(start + i));
}
static void assert_seq(const uint8_t *p, uint8_t start, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], (uint8_t)(start + i));
}

static const char *write_file(const char *name, const struct bytes *b,
                              size_t n)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	if (n > 0)
		assert_int_equal(fwrite(b->p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return path;
}

static struct cap *open_ok(const char *path)
{
	struct cap *c = cap_open_file(path, errbuf, sizeof errbuf);

	if (c == NULL)
		fail_msg("open %s: %s", path, errbuf);
	return c;
}

/* ---------- pcap ---------- */

/* A pcap with three records; be selects the byte order, ns the magic. */
static void pcap_file(struct bytes *b, bool be, bool ns, uint32_t link)
{
	void (*w16)(struct bytes *, uint16_t) = be ? b_be16 : b_le16;
	void (*w32)(struct bytes *, uint32_t) = be ? b_be32 : b_le32;

	w32(b, ns ? 0xa1b23c4du : 0xa1b2c3d4u);
	w16(b, 2);
	w16(b, 4);
	w32(b, 0);
	w32(b, 0);
	w32(b, 65535);
	w32(b, link);
	/* 1: 10 bytes */
	w32(b, 1700000000);
	w32(b, ns ? 123456789u : 123456u);
	w32(b, 10);
	w32(b, 10);
	b_seq(b, 1, 10);
	/* 2: 6 of 60 bytes, in the next second */
	w32(b, 1700000001);
	w32(b, ns ? 999999999u : 999999u);
	w32(b, 6);
	w32(b, 60);
	b_seq(b, 100, 6);
	/* 3: empty packet */
	w32(b, 1700000002);
	w32(b, 0);
	w32(b, 0);
	w32(b, 0);
}

static void check_pcap(bool be, bool ns, uint32_t link, const char *name)
{
	struct bytes b = { 0 };
	struct pkt p[8];
	struct cap_stats st;
	struct cap *c;

	pcap_file(&b, be, ns, link);
	c = open_ok(write_file(name, &b, b.n));
	assert_string_equal(cap_format(c), "pcap");
	assert_false(cap_is_live(c));
	assert_int_equal(cap_next_batch(c, p, 8), 3);
	assert_int_equal(p[0].ts_ns, ns ? 1700000000123456789ull : 1700000000123456000ull);
	assert_int_equal(p[0].caplen, 10);
	assert_int_equal(p[0].wirelen, 10);
	assert_int_equal(p[0].ifindex, 1);
	assert_int_equal(p[0].link, link);
	assert_seq(p[0].data, 1, 10);
	assert_int_equal(p[1].ts_ns, ns ? 1700000001999999999ull : 1700000001999999000ull);
	assert_int_equal(p[1].caplen, 6);
	assert_int_equal(p[1].wirelen, 60);
	assert_int_equal(p[1].ifindex, 1);
	assert_seq(p[1].data, 100, 6);
	assert_int_equal(p[2].ts_ns, 1700000002000000000ull);
	assert_int_equal(p[2].caplen, 0);
	assert_int_equal(p[2].wirelen, 0);
	assert_int_equal(cap_next_batch(c, p, 8), 0);
	assert_int_equal(cap_next_batch(c, p, 8), 0);
	cap_stats(c, &st);
	assert_int_equal(st.packets, 3);
	assert_int_equal(st.bytes, 70);
	assert_int_equal(st.drops, 0);
	assert_int_equal(st.bad, 0);
	assert_int_equal(st.pos, b.n);
	assert_int_equal(st.size, b.n);
	cap_close(c);
	free(b.p);
}

static void pcap_us_le(void **state)
{
	(void)state;
	check_pcap(false, false, PKT_LINK_ETHERNET, "us_le.pcap");
}

static void pcap_ns_le(void **state)
{
	(void)state;
	check_pcap(false, true, PKT_LINK_RAW, "ns_le.pcap");
}

static void pcap_us_be(void **state)
{
	(void)state;
	check_pcap(true, false, PKT_LINK_LINUX_SLL, "us_be.pcap");
}

static void pcap_ns_be(void **state)
{
	(void)state;
	check_pcap(true, true, PKT_LINK_ETHERNET, "ns_be.pcap");
}

/* Batches smaller than the file: 2, then 1, then end. */
static void pcap_small_batches(void **state)
{
	struct bytes b = { 0 };
	struct pkt p[2];
	struct cap *c;

	(void)state;
	pcap_file(&b, false, false, 1);
	c = open_ok(write_file("batches.pcap", &b, b.n));
	assert_int_equal(cap_next_batch(c, p, 2), 2);
	assert_int_equal(p[1].wirelen, 60);
	assert_int_equal(cap_next_batch(c, p, 2), 1);
	assert_int_equal(p[0].ts_ns, 1700000002000000000ull);
	assert_int_equal(cap_next_batch(c, p, 2), 0);
	cap_close(c);
	free(b.p);
}

/* Cut inside the third record's header, then inside the second's data:
 * the complete packets come first, then a clean error. */
static void pcap_truncated(void **state)
{
	struct bytes b = { 0 };
	struct pkt p[8];
	struct cap *c;
	const size_t hdr = 24, rec1 = 16 + 10, rec2 = 16 + 6;

	(void)state;
	pcap_file(&b, false, false, 1);
	c = open_ok(write_file("cut1.pcap", &b, hdr + rec1 + rec2 + 7));
	assert_int_equal(cap_next_batch(c, p, 8), 2);
	assert_seq(p[1].data, 100, 6);
	assert_int_equal(cap_next_batch(c, p, 8), -1);
	assert_non_null(strstr(cap_error(c), "truncated"));
	assert_non_null(strstr(cap_error(c), "offset 72"));
	cap_close(c);

	c = open_ok(write_file("cut2.pcap", &b, hdr + rec1 + 16 + 3));
	assert_int_equal(cap_next_batch(c, p, 8), 1);
	assert_seq(p[0].data, 1, 10);
	assert_int_equal(cap_next_batch(c, p, 8), -1);
	assert_non_null(strstr(cap_error(c), "truncated pcap record"));
	cap_close(c);

	/* a file header cut short is refused at open */
	assert_null(cap_open_file(write_file("cut3.pcap", &b, 20), errbuf,
	                          sizeof errbuf));
	assert_non_null(strstr(errbuf, "truncated pcap file header"));
	free(b.p);
}

static void pcap_corrupt_length(void **state)
{
	struct bytes b = { 0 };
	struct pkt p[8];
	struct cap *c;

	(void)state;
	pcap_file(&b, false, false, 1);
	/* record 2's incl_len := 0x7fffffff */
	b.p[24 + 26 + 8] = 0xff;
	b.p[24 + 26 + 9] = 0xff;
	b.p[24 + 26 + 10] = 0xff;
	b.p[24 + 26 + 11] = 0x7f;
	c = open_ok(write_file("corrupt.pcap", &b, b.n));
	assert_int_equal(cap_next_batch(c, p, 8), 1);
	assert_int_equal(cap_next_batch(c, p, 8), -1);
	assert_non_null(strstr(cap_error(c), "corrupt pcap record at offset 50"));
	cap_close(c);
	free(b.p);
}

/* Read a pcap written by pcap_large_file() and check every record. */
static void check_large(const char *path, unsigned n_recs, unsigned len, unsigned big)
{
	static struct pkt p[64];
	struct cap *c = open_ok(path);
	unsigned seen = 0;
	int n;

	while ((n = cap_next_batch(c, p, 64)) > 0) {
		for (int i = 0; i < n; i++, seen++) {
			unsigned want = seen % (n_recs / 2) == n_recs / 4 ? big : len;

			assert_int_equal(p[i].ts_ns, (1700000000ull + seen) * 1000000000ull);
			assert_int_equal(p[i].caplen, want);
			assert_seq(p[i].data, (uint8_t)seen, want);
		}
	}
	assert_int_equal(n, 0);
	assert_int_equal(seen, n_recs);
	cap_close(c);
}

/* Many records spanning several buffer refills and moves (read(2) from a
 * FIFO) or several mapped windows (a regular file), and two records of
 * CAP_RECORD_MAX, larger than the initial buffer and than a window: every
 * packet of a batch must still hold its bytes when the batch is returned. */
static void pcap_large_file(void **state)
{
	enum { N = 30000, LEN = 1000, BIG = CAP_RECORD_MAX };
	struct bytes b = { 0 };
	const char *path;

	(void)state;
	b_le32(&b, 0xa1b2c3d4u);
	b_le16(&b, 2);
	b_le16(&b, 4);
	b_zero(&b, 8);
	b_le32(&b, BIG);
	b_le32(&b, 1);
	for (unsigned i = 0; i < N; i++) {
		unsigned len = i % (N / 2) == N / 4 ? BIG : LEN;

		b_le32(&b, 1700000000 + i);
		b_le32(&b, 0);
		b_le32(&b, len);
		b_le32(&b, len);
		b_seq(&b, (uint8_t)i, len);
	}
	path = write_file("large.pcap", &b, b.n);
	check_large(path, N, LEN, BIG);

	/* the same bytes through a FIFO: read(2) into the buffer */
	char fifo[4096];
	snprintf(fifo, sizeof fifo, "%s.fifo", path);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = fopen(fifo, "wb");
		size_t w = f ? fwrite(b.p, 1, b.n, f) : 0;
		_exit(f && w == b.n && fclose(f) == 0 ? 0 : 1);
	}
	check_large(fifo, N, LEN, BIG);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(fifo);
	free(b.p);
}

/* ---------- pcapng ---------- */

static void ng_block_end(struct bytes *b, size_t start, bool be)
{
	uint32_t len = (uint32_t)(b->n - start + 4);

	(be ? b_be32 : b_le32)(b, len);
	/* patch the leading length */
	if (be) {
		b->p[start + 4] = (uint8_t)(len >> 24);
		b->p[start + 5] = (uint8_t)(len >> 16);
		b->p[start + 6] = (uint8_t)(len >> 8);
		b->p[start + 7] = (uint8_t)len;
	} else {
		b->p[start + 4] = (uint8_t)len;
		b->p[start + 5] = (uint8_t)(len >> 8);
		b->p[start + 6] = (uint8_t)(len >> 16);
		b->p[start + 7] = (uint8_t)(len >> 24);
	}
}

/* Section: IDB 0 Ethernet µs; IDB 1 raw IP with if_tsresol 10^-9;
 * EPB on 1, EPB on 0 (snapped), ISB for 0 with if_drop 7, SPB. */
static void ng_section(struct bytes *b, bool be)
{
	void (*w16)(struct bytes *, uint16_t) = be ? b_be16 : b_le16;
	void (*w32)(struct bytes *, uint32_t) = be ? b_be32 : b_le32;
	uint64_t ts;
	size_t s;

	s = b->n;                  /* SHB */
	b_be32(b, 0x0a0d0d0a);
	w32(b, 0);
	w32(b, 0x1a2b3c4d);
	w16(b, 1);
	w16(b, 0);
	w32(b, 0xffffffff);
	w32(b, 0xffffffff);
	ng_block_end(b, s, be);

	s = b->n;                  /* IDB 0 */
	w32(b, 1);
	w32(b, 0);
	w16(b, PKT_LINK_ETHERNET);
	w16(b, 0);
	w32(b, 0);
	ng_block_end(b, s, be);

	s = b->n;                  /* IDB 1, if_tsresol = 9 */
	w32(b, 1);
	w32(b, 0);
	w16(b, PKT_LINK_RAW);
	w16(b, 0);
	w32(b, 96);
	w16(b, 9);
	w16(b, 1);
	b_u8(b, 9);
	b_zero(b, 3);
	w16(b, 0);
	w16(b, 0);
	ng_block_end(b, s, be);

	s = b->n;                  /* EPB on interface 1, ns units */
	ts = 1700000000123456789ull;
	w32(b, 6);
	w32(b, 0);
	w32(b, 1);
	w32(b, (uint32_t)(ts >> 32));
	w32(b, (uint32_t)ts);
	w32(b, 5);
	w32(b, 5);
	b_seq(b, 50, 5);
	b_zero(b, 3);
	ng_block_end(b, s, be);

	s = b->n;                  /* EPB on interface 0, µs units, snapped */
	ts = 1700000001000002ull;
	w32(b, 6);
	w32(b, 0);
	w32(b, 0);
	w32(b, (uint32_t)(ts >> 32));
	w32(b, (uint32_t)ts);
	w32(b, 8);
	w32(b, 1514);
	b_seq(b, 7, 8);
	ng_block_end(b, s, be);

	s = b->n;                  /* ISB for interface 0: isb_ifdrop 7 */
	w32(b, 5);
	w32(b, 0);
	w32(b, 0);
	w32(b, 0);
	w32(b, 0);
	w16(b, 5);
	w16(b, 8);
	if (be) {
		b_be32(b, 0);
		b_be32(b, 7);
	} else {
		b_le64(b, 7);
	}
	w16(b, 0);
	w16(b, 0);
	ng_block_end(b, s, be);

	s = b->n;                  /* SPB: interface 0, 12 of 12 bytes */
	w32(b, 3);
	w32(b, 0);
	w32(b, 12);
	b_seq(b, 200, 12);
	ng_block_end(b, s, be);

	s = b->n;                  /* EPB naming an interface that is not there */
	w32(b, 6);
	w32(b, 0);
	w32(b, 2);
	w32(b, 0);
	w32(b, 0);
	w32(b, 0);
	w32(b, 0);
	ng_block_end(b, s, be);
}

static void check_ng_section(const struct pkt *p, unsigned if_base)
{
	assert_int_equal(p[0].ts_ns, 1700000000123456789ull);
	assert_int_equal(p[0].caplen, 5);
	assert_int_equal(p[0].wirelen, 5);
	assert_int_equal(p[0].ifindex, if_base + 2);
	assert_int_equal(p[0].link, PKT_LINK_RAW);
	assert_seq(p[0].data, 50, 5);
	assert_int_equal(p[1].ts_ns, 1700000001000002000ull);
	assert_int_equal(p[1].caplen, 8);
	assert_int_equal(p[1].wirelen, 1514);
	assert_int_equal(p[1].ifindex, if_base + 1);
	assert_int_equal(p[1].link, PKT_LINK_ETHERNET);
	assert_seq(p[1].data, 7, 8);
	assert_int_equal(p[2].ts_ns, 0);
	assert_int_equal(p[2].caplen, 12);
	assert_int_equal(p[2].wirelen, 12);
	assert_int_equal(p[2].ifindex, if_base + 1);
	assert_int_equal(p[2].link, PKT_LINK_ETHERNET);
	assert_seq(p[2].data, 200, 12);
}

/* Two sections, little- then big-endian: the second section's interfaces
 * are numbered 3 and 4. */
static void pcapng_two_sections(void **state)
{
	struct bytes b = { 0 };
	struct pkt p[16];
	struct cap_stats st;
	struct cap *c;

	(void)state;
	ng_section(&b, false);
	ng_section(&b, true);
	c = open_ok(write_file("two.pcapng", &b, b.n));
	assert_string_equal(cap_format(c), "pcapng");
	assert_int_equal(cap_next_batch(c, p, 16), 6);
	check_ng_section(p, 0);
	check_ng_section(p + 3, 2);
	assert_int_equal(cap_next_batch(c, p, 16), 0);
	cap_stats(c, &st);
	assert_int_equal(st.packets, 6);
	assert_int_equal(st.bytes, 2 * (5 + 1514 + 12));
	assert_int_equal(st.drops, 14);
	assert_int_equal(st.bad, 2);
	assert_int_equal(st.pos, b.n);
	cap_close(c);
	free(b.p);
}

static void pcapng_truncated(void **state)
{
	struct bytes b = { 0 };
	struct pkt p[16];
	struct cap *c;

	(void)state;
	ng_section(&b, false);
	/* SHB 28 + IDB 20 + IDB 32 + EPB 40 + 10 bytes of the next EPB */
	c = open_ok(write_file("cut.pcapng", &b, 28 + 20 + 32 + 40 + 10));
	assert_int_equal(cap_next_batch(c, p, 16), 1);
	assert_int_equal(p[0].ifindex, 2);
	assert_seq(p[0].data, 50, 5);
	assert_int_equal(cap_next_batch(c, p, 16), -1);
	assert_non_null(strstr(cap_error(c), "truncated pcapng block at offset 120"));
	cap_close(c);
	free(b.p);
}

/* if_tsresol 2^-20 and if_tsoffset -1 s: 1700000000 + 2^19/2^20 s - 1 s;
 * 3/2^20 s = 2.861 µs rounds to 2861 ns. */
static void pcapng_binary_resolution(void **state)
{
	struct bytes b = { 0 };
	struct pkt p[4];
	struct cap *c;
	uint64_t ts;
	size_t s;

	(void)state;
	s = b.n;
	b_be32(&b, 0x0a0d0d0a);
	b_le32(&b, 0);
	b_le32(&b, 0x1a2b3c4d);
	b_le16(&b, 1);
	b_le16(&b, 0);
	b_le64(&b, ~0ull);
	ng_block_end(&b, s, false);
	s = b.n;
	b_le32(&b, 1);
	b_le32(&b, 0);
	b_le16(&b, PKT_LINK_ETHERNET);
	b_le16(&b, 0);
	b_le32(&b, 0);
	b_le16(&b, 9);             /* if_tsresol: 2^-20 */
	b_le16(&b, 1);
	b_u8(&b, 0x80 | 20);
	b_zero(&b, 3);
	b_le16(&b, 14);            /* if_tsoffset: -1 s */
	b_le16(&b, 8);
	b_le64(&b, (uint64_t)-1);
	b_le32(&b, 0);
	ng_block_end(&b, s, false);
	for (uint64_t frac = 1u << 19; frac != 0; frac = frac == 3 ? 0 : 3) {
		s = b.n;
		ts = (1700000000ull << 20) | frac;
		b_le32(&b, 6);
		b_le32(&b, 0);
		b_le32(&b, 0);
		b_le32(&b, (uint32_t)(ts >> 32));
		b_le32(&b, (uint32_t)ts);
		b_le32(&b, 4);
		b_le32(&b, 4);
		b_seq(&b, 1, 4);
		ng_block_end(&b, s, false);
	}
	c = open_ok(write_file("pow2.pcapng", &b, b.n));
	assert_int_equal(cap_next_batch(c, p, 4), 2);
	assert_int_equal(p[0].ts_ns, 1699999999500000000ull);
	assert_int_equal(p[1].ts_ns, 1699999999000002861ull);
	assert_int_equal(p[1].ifindex, 1);
	assert_int_equal(cap_next_batch(c, p, 4), 0);
	cap_close(c);
	free(b.p);
}

/* ---------- ERF ---------- */

static void erf_hdr(struct bytes *b, uint64_t ts, uint8_t type, uint8_t flags,
                    uint16_t rlen, uint16_t lctr, uint16_t wlen)
{
	b_le64(b, ts);
	b_u8(b, type);
	b_u8(b, flags);
	b_be16(b, rlen);
	b_be16(b, lctr);
	b_be16(b, wlen);
}

static void erf_file(struct bytes *b)
{
	/* 1: Ethernet with two extension headers, port B, varying length;
	 *    22 of 60 bytes; .5 s */
	erf_hdr(b, (1700000000ull << 32) | 0x80000000u, 2 | 0x80, 0x05,
	        16 + 16 + 2 + 22, 3, 60);
	b_be32(b, 0x81000000u);    /* ext header, "more" bit set */
	b_be32(b, 0);
	b_be32(b, 0x01000000u);    /* last ext header */
	b_be32(b, 0);
	b_zero(b, 2);              /* Ethernet pad */
	b_seq(b, 10, 22);
	/* 2: IPv4, port A, 20 bytes padded to 40: caplen is wlen;
	 *    fraction 3/2^32 s = 0.698 ns -> 1 ns */
	erf_hdr(b, (1700000001ull << 32) | 3u, 22, 0x04, 40, 2, 20);
	b_seq(b, 0x45, 20);
	b_zero(b, 4);
	/* 3: padding record */
	erf_hdr(b, 0, 48, 0, 24, 0, 0);
	b_zero(b, 8);
	/* 4: a type we do not decode (HDLC/PoS): counted as bad */
	erf_hdr(b, (1700000001ull << 32), 1, 0, 24, 0, 8);
	b_zero(b, 8);
	/* 5: IPv6, port D; fraction 0xffffffff rounds up into the next
	 *    second */
	erf_hdr(b, (1700000002ull << 32) | 0xffffffffu, 23, 0x07, 56, 0, 40);
	b_seq(b, 0x60, 40);
	/* 6: extension chain longer than the record: bad */
	erf_hdr(b, 0, 2 | 0x80, 0, 24, 0, 8);
	b_be32(b, 0x80000000u);
	b_be32(b, 0);
}

static void erf_records(void **state)
{
	struct bytes b = { 0 };
	struct pkt p[8];
	struct cap_stats st;
	struct cap *c;

	(void)state;
	erf_file(&b);
	c = open_ok(write_file("t.erf", &b, b.n));
	assert_string_equal(cap_format(c), "erf");
	assert_int_equal(cap_next_batch(c, p, 8), 3);
	assert_int_equal(p[0].ts_ns, 1700000000500000000ull);
	assert_int_equal(p[0].caplen, 22);
	assert_int_equal(p[0].wirelen, 60);
	assert_int_equal(p[0].ifindex, 2);
	assert_int_equal(p[0].link, PKT_LINK_ETHERNET);
	assert_seq(p[0].data, 10, 22);
	assert_int_equal(p[1].ts_ns, 1700000001000000001ull);
	assert_int_equal(p[1].caplen, 20);
	assert_int_equal(p[1].wirelen, 20);
	assert_int_equal(p[1].ifindex, 1);
	assert_int_equal(p[1].link, PKT_LINK_IPV4);
	assert_seq(p[1].data, 0x45, 20);
	assert_int_equal(p[2].ts_ns, 1700000003000000000ull);
	assert_int_equal(p[2].caplen, 40);
	assert_int_equal(p[2].wirelen, 40);
	assert_int_equal(p[2].ifindex, 4);
	assert_int_equal(p[2].link, PKT_LINK_IPV6);
	assert_seq(p[2].data, 0x60, 40);
	assert_int_equal(cap_next_batch(c, p, 8), 0);
	cap_stats(c, &st);
	assert_int_equal(st.packets, 3);
	assert_int_equal(st.bytes, 120);
	assert_int_equal(st.drops, 5);
	assert_int_equal(st.bad, 2);
	assert_int_equal(st.pos, b.n);
	assert_int_equal(st.size, b.n);
	cap_close(c);
	free(b.p);
}

static void erf_truncated(void **state)
{
	struct bytes b = { 0 };
	struct pkt p[8];
	struct cap *c;

	(void)state;
	erf_file(&b);
	/* record 1 (56) + half of record 2 */
	c = open_ok(write_file("cut.erf", &b, 56 + 30));
	assert_int_equal(cap_next_batch(c, p, 8), 1);
	assert_seq(p[0].data, 10, 22);
	assert_int_equal(cap_next_batch(c, p, 8), -1);
	assert_non_null(strstr(cap_error(c), "truncated ERF record at offset 56"));
	cap_close(c);

	/* rlen below the header size cannot be skipped: an error (after
	 * four good records, which is what recognising ERF looks at) */
	b.n = 0;
	for (int i = 0; i < 4; i++) {
		erf_hdr(&b, 1ull << 32, 2, 0, 40, 0, 22);
		b_zero(&b, 24);
	}
	erf_hdr(&b, 1ull << 32, 2, 0, 8, 0, 22);
	c = open_ok(write_file("short.erf", &b, b.n));
	assert_int_equal(cap_next_batch(c, p, 8), 4);
	assert_int_equal(p[3].caplen, 22);
	assert_int_equal(cap_next_batch(c, p, 8), -1);
	assert_non_null(strstr(cap_error(c), "corrupt ERF record at offset 160"));
	cap_close(c);
	free(b.p);
}

/* ---------- refusals ---------- */

static void garbage_and_missing(void **state)
{
	struct bytes b = { 0 };
	const char *text = "This is not a packet trace, just some text.\n";

	(void)state;
	b_put(&b, text, strlen(text));
	assert_null(cap_open_file(write_file("garbage.txt", &b, b.n), errbuf,
	                          sizeof errbuf));
	assert_non_null(strstr(errbuf, "not a packet trace"));

	assert_null(cap_open_file(write_file("empty", &b, 0), errbuf,
	                          sizeof errbuf));
	assert_non_null(strstr(errbuf, "empty file"));

	snprintf((char *)errbuf, sizeof errbuf, "x");
	assert_null(cap_open_file("/nonexistent/dir/x.pcap", errbuf, sizeof errbuf));
	assert_non_null(strstr(errbuf, "No such file"));

	/* pcapng magic with a broken byte-order magic */
	b.n = 0;
	b_be32(&b, 0x0a0d0d0a);
	b_le32(&b, 28);
	b_le32(&b, 0x11223344);
	b_zero(&b, 16);
	assert_null(cap_open_file(write_file("bad.pcapng", &b, b.n), errbuf,
	                          sizeof errbuf));
	assert_non_null(strstr(errbuf, "pcapng"));
	free(b.p);
}

static void live_refusals(void **state)
{
	struct cap_options o = { 0 };

	(void)state;
	assert_null(cap_open_live("dpdk-nonesuch", "eth0", &o, errbuf, sizeof errbuf));
	assert_non_null(strstr(errbuf, "dpdk-nonesuch"));
	assert_null(cap_open_live("pcap", "", &o, errbuf, sizeof errbuf));
	assert_non_null(strstr(errbuf, "no interface"));
	assert_null(cap_open_live("pcap", "ntm-no-such-if0", &o, errbuf,
	                          sizeof errbuf));
	assert_non_null(strstr(errbuf, "ntm-no-such-if0"));
}

/* Live capture on the loopback interface, when we may capture at all: a
 * UDP datagram sent to ourselves comes back through the BPF filter with an
 * ns timestamp; other traffic does not. */
static void live_loopback(void **state)
{
	struct cap_options o = { 0 };
	struct sockaddr_in to = { 0 };
	static const char msg[] = "ntm-test_cap";
	struct pkt p[16];
	struct cap_stats st;
	struct cap *c;
	int fd, got = 0;

	(void)state;
	o.snaplen = 128;
	o.immediate = true;
	o.timeout_ms = 50;
	o.filter = "udp and dst port 53535";
	o.ifindex = 3;
	c = cap_open_live("pcap", "lo", &o, errbuf, sizeof errbuf);
	if (c == NULL) {
		print_message("cannot capture on lo (%s): skipped\n", errbuf);
		skip();
	}
	assert_true(cap_is_live(c));
	assert_string_equal(cap_format(c), "pcap-live");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	to.sin_family = AF_INET;
	to.sin_port = htons(53535);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* one datagram to the filtered port, one elsewhere */
	assert_int_equal(sendto(fd, msg, sizeof msg, 0, (struct sockaddr *)&to,
	                        sizeof to), (ssize_t)sizeof msg);
	to.sin_port = htons(53536);
	assert_int_equal(sendto(fd, msg, sizeof msg, 0, (struct sockaddr *)&to,
	                        sizeof to), (ssize_t)sizeof msg);
	close(fd);
	for (int tries = 0; tries < 40 && got == 0; tries++) {
		got = cap_next_batch(c, p, 16);
		assert_true(got >= 0);
	}
	assert_int_equal(got, 1);
	assert_int_equal(p[0].link, PKT_LINK_ETHERNET);
	assert_int_equal(p[0].ifindex, 3);
	/* Ethernet 14 + IPv4 20 + UDP 8 + message */
	assert_int_equal(p[0].wirelen, 14 + 20 + 8 + sizeof msg);
	assert_int_equal(p[0].caplen, p[0].wirelen);
	assert_memory_equal(p[0].data + 42, msg, sizeof msg);
	assert_true(p[0].ts_ns > 1600000000ull * 1000000000ull);
	cap_stats(c, &st);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.bytes, p[0].wirelen);
	cap_close(c);

	o.filter = "udp and and port";
	assert_null(cap_open_live("pcap", "lo", &o, errbuf, sizeof errbuf));
	assert_non_null(strstr(errbuf, "filter 'udp and and port'"));
}

/* ---------- fixture ---------- */

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_cap.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcap_us_le),
		cmocka_unit_test(pcap_ns_le),
		cmocka_unit_test(pcap_us_be),
		cmocka_unit_test(pcap_ns_be),
		cmocka_unit_test(pcap_small_batches),
		cmocka_unit_test(pcap_truncated),
		cmocka_unit_test(pcap_corrupt_length),
		cmocka_unit_test(pcap_large_file),
		cmocka_unit_test(pcapng_two_sections),
		cmocka_unit_test(pcapng_truncated),
		cmocka_unit_test(pcapng_binary_resolution),
		cmocka_unit_test(erf_records),
		cmocka_unit_test(erf_truncated),
		cmocka_unit_test(garbage_and_missing),
		cmocka_unit_test(live_refusals),
		cmocka_unit_test(live_loopback),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
