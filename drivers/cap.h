/*
 * cap.h — capture drivers: the one small interface every packet source sits
 * behind (trace files of any supported format, live interfaces).
 *
 * A source hands on batches of struct pkt (meter/packet.h).  The bytes a
 * batch points at stay valid until the next cap_next_batch() or cap_close()
 * on the same source; nothing is allocated per packet.
 *
 * Files: the format is recognised from the first bytes — pcap (µs and ns
 * magics, either byte order), pcapng (any number of sections and
 * interfaces, per-interface link type and timestamp resolution) and ERF
 * (Endace Extensible Record Format, no Endace library needed).
 * Interfaces are numbered from 1: pcap files have interface 1, pcapng
 * interfaces are numbered in file order (the IDB index + 1; later sections
 * continue the numbering), ERF records use their 2-bit interface field + 1.
 */
#ifndef NTM_CAP_H
#define NTM_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct cap;

/* Default and upper bound of bytes kept per packet on live sources. */
#define CAP_SNAPLEN_DEFAULT 262144u
/* Largest single record accepted from a file (pcapng blocks included). */
#define CAP_RECORD_MAX (16u * 1024u * 1024u)

/*
 * Options of a live source.  Zero means "the driver's default" for every
 * field, so `struct cap_options o = {0}` is valid.  Fields a driver cannot
 * honour are ignored, except filter, which is refused when unsupported.
 */
struct cap_options {
	uint32_t snaplen;          /* bytes kept per packet */
	bool promisc;              /* promiscuous mode */
	bool immediate;            /* deliver packets as they arrive (no batching
	                              delay in the kernel) */
	uint32_t buffer_size;      /* kernel / ring buffer, bytes */
	uint32_t timeout_ms;       /* longest wait in cap_next_batch() */
	const char *filter;        /* BPF filter expression (pcap syntax) */
	uint16_t ifindex;          /* interface number of this source's
	                              packets (0: 1); a meter reading several
	                              interfaces gives each its own */
	/* For multi-queue drivers (AF_PACKET fanout, DPDK RX queues). */
	uint16_t queue;            /* RX queue / fanout member handled here */
	uint16_t n_queues;         /* workers sharing the interface */
	uint16_t fanout_group;     /* AF_PACKET fanout group id */
	const char *dpdk_args;     /* DPDK EAL arguments, split on spaces
	                              (--driver dpdk; the first open of a
	                              process initialises EAL with them) */
};

struct cap_stats {
	uint64_t packets;          /* packets handed on */
	uint64_t bytes;            /* wire bytes of those packets */
	uint64_t drops;            /* lost before us: kernel/NIC (pcap_stats),
	                              ERF loss counters, pcapng ISB if_drop */
	uint64_t bad;              /* malformed records counted and skipped */
	uint64_t pos;              /* file bytes consumed (0 for live) */
	uint64_t size;             /* file size, 0 if unknown (pipe, live) */
};

/* Open a trace file ("-" reads standard input).  NULL with err filled on
 * failure. */
struct cap *cap_open_file(const char *path, char *err, size_t errlen);

/* Open a live interface with the named driver ("pcap"). */
struct cap *cap_open_live(const char *driver, const char *ifname,
                          const struct cap_options *o, char *err,
                          size_t errlen);

/*
 * Fill up to max packets.  Returns the count; 0 at end of file (for live
 * sources: nothing arrived within the timeout); -1 on error, described by
 * cap_error().  A truncated file yields every complete packet before the
 * cut, then -1.
 */
int cap_next_batch(struct cap *c, struct pkt *pkts, unsigned max);

void cap_stats(struct cap *c, struct cap_stats *st);

/* Text of the last error from cap_next_batch(). */
const char *cap_error(const struct cap *c);

/* The format or driver name: "pcap", "pcapng", "erf", "pcap-live". */
const char *cap_format(const struct cap *c);

bool cap_is_live(const struct cap *c);

void cap_close(struct cap *c);

#endif
