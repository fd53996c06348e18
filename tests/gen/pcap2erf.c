/*
 * pcap2erf — rewrite a trace (anything cap_open_file reads, Ethernet link)
 * as an ERF file of type-2 records, for tests of the ERF reader against the
 * pcap reader and against tshark.  (editcap -F erf would do, but Wireshark
 * 4.0 refuses every record with "record type that can't be saved".)
 *   pcap2erf [-x] [-p N] [-l N] IN OUT
 *   -x    a Host ID extension header on every other record
 *   -p N  a padding record (type 48) after every N-th record
 *   -l N  loss counter 1 on every N-th record
 * Records that were not snapped are padded to a multiple of 8 bytes, as
 * DAG cards write them; snapped ones are not, so that the padding cannot be
 * mistaken for data.  Timestamps: ns -> 32.32 fixed point, truncated, as
 * Wireshark writes them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap.h"

#define ERF_TYPE_ETH 2
#define ERF_TYPE_PAD 48
#define ERF_EXT_MORE 0x80
#define ERF_FLAG_VLEN 0x04
#define ERF_EXT_HOST_ID 0x0e
#define ERF_HDR_LEN 16
#define ERF_RLEN_MAX 65535u
#define BATCH 256

static void put_hdr(uint8_t *h, uint64_t ts, uint8_t type, uint8_t flags,
                    uint16_t rlen, uint16_t lctr, uint16_t wlen)
{
	for (int i = 0; i < 8; i++)
		h[i] = (uint8_t)(ts >> (8 * i));
	h[8] = type;
	h[9] = flags;
	h[10] = (uint8_t)(rlen >> 8);
	h[11] = (uint8_t)rlen;
	h[12] = (uint8_t)(lctr >> 8);
	h[13] = (uint8_t)lctr;
	h[14] = (uint8_t)(wlen >> 8);
	h[15] = (uint8_t)wlen;
}

int main(int argc, char **argv)
{
	static struct pkt pkts[BATCH];
	static const uint8_t zeros[ERF_HDR_LEN + 8];
	unsigned pad_every = 0, loss_every = 0;
	bool ext = false;
	uint64_t nrec = 0;
	char err[256];
	struct cap *c;
	FILE *out;
	int opt, n;

	while ((opt = getopt(argc, argv, "xp:l:")) != -1) {
		switch (opt) {
		case 'x': ext = true; break;
		case 'p': pad_every = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l': loss_every = (unsigned)strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (optind + 2 != argc)
		goto usage;
	c = cap_open_file(argv[optind], err, sizeof err);
	if (c == NULL) {
		fprintf(stderr, "pcap2erf: %s\n", err);
		return 1;
	}
	out = fopen(argv[optind + 1], "wb");
	if (out == NULL) {
		perror(argv[optind + 1]);
		return 1;
	}
	while ((n = cap_next_batch(c, pkts, BATCH)) > 0) {
		for (int i = 0; i < n; i++) {
			const struct pkt *p = &pkts[i];
			bool with_ext = ext && nrec % 2 == 0;
			size_t framing = ERF_HDR_LEN + (with_ext ? 8 : 0) + 2;
			size_t rlen = framing + p->caplen, padded = rlen;
			uint64_t sec = p->ts_ns / 1000000000u;
			uint64_t frac = ((p->ts_ns % 1000000000u) << 32) / 1000000000u;
			uint8_t h[ERF_HDR_LEN], e[8] = { ERF_EXT_HOST_ID, 1, 0, 0, 0, 0, 0, 42 };

			nrec++;
			if (p->link != 1 || p->wirelen > ERF_RLEN_MAX) {
				fprintf(stderr, "pcap2erf: packet %" PRIu64 ": not an "
				        "Ethernet frame ERF can hold\n", nrec);
				return 1;
			}
			if (p->caplen == p->wirelen)
				padded = (rlen + 7) & ~(size_t)7;
			if (padded > ERF_RLEN_MAX) {
				fprintf(stderr, "pcap2erf: packet %" PRIu64 " too long\n", nrec);
				return 1;
			}
			put_hdr(h, sec << 32 | frac,
			        (uint8_t)(ERF_TYPE_ETH | (with_ext ? ERF_EXT_MORE : 0)),
			        ERF_FLAG_VLEN, (uint16_t)padded,
			        (uint16_t)(loss_every && nrec % loss_every == 0),
			        (uint16_t)p->wirelen);
			fwrite(h, 1, sizeof h, out);
			if (with_ext)
				fwrite(e, 1, sizeof e, out);
			fwrite(zeros, 1, 2, out);
			fwrite(p->data, 1, p->caplen, out);
			fwrite(zeros, 1, padded - rlen, out);
			if (pad_every && nrec % pad_every == 0) {
				put_hdr(h, sec << 32 | frac, ERF_TYPE_PAD, 0,
				        ERF_HDR_LEN + 8, 0, 0);
				fwrite(h, 1, sizeof h, out);
				fwrite(zeros, 1, 8, out);
			}
		}
	}
	if (n < 0) {
		fprintf(stderr, "pcap2erf: %s\n", cap_error(c));
		return 1;
	}
	cap_close(c);
	if (fclose(out) != 0) {
		perror(argv[optind + 1]);
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: pcap2erf [-x] [-p N] [-l N] IN OUT\n");
	return 2;
}
