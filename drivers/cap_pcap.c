/*
 * cap_pcap.c — live capture through libpcap: BPF filter, immediate mode,
 * buffer size, nanosecond timestamps where the platform offers them, and
 * kernel drops from pcap_stats().  (Trace files are read by cap_pcapfile.c
 * and cap_pcapng.c, which keep pcapng interface numbers and ns precision.)
 *
 * A batch is one pcap_dispatch(): the packets are copied into an arena
 * allocated at open, because libpcap reuses its buffer on the next call
 * while our contract keeps a whole batch valid.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cap_impl.h"

#define LIVE_TIMEOUT_MS_DEFAULT 100u
#define LIVE_ARENA_MIN (4u * 1024u * 1024u)

struct live {
	struct cap c;              /* first */
	pcap_t *p;
	uint8_t *arena;
	size_t arena_size, arena_used;
	uint32_t snaplen;
	uint32_t frac_to_ns;       /* 1 if pcap gives ns, 1000 if µs */
	uint16_t link;
	uint16_t ifindex;
	int fd;                    /* selectable descriptor (non-blocking) */
	int timeout_ms;
	/* the batch being filled by the callback */
	struct pkt *pkts;
	unsigned n;
};

static void live_cb(u_char *user, const struct pcap_pkthdr *h,
                    const u_char *bytes)
{
	struct live *l = (struct live *)user;
	struct pkt *p = &l->pkts[l->n++];
	uint32_t caplen = h->caplen;

	if (caplen > l->snaplen)
		caplen = l->snaplen;
	memcpy(l->arena + l->arena_used, bytes, caplen);
	p->data = l->arena + l->arena_used;
	l->arena_used += caplen;
	p->ts_ns = (uint64_t)h->ts.tv_sec * CAP_NS_PER_SEC +
	           (uint64_t)h->ts.tv_usec * l->frac_to_ns;
	p->caplen = caplen;
	p->wirelen = h->len;
	p->ifindex = l->ifindex;
	p->link = l->link;
	l->c.st.packets++;
	l->c.st.bytes += h->len;
	/* Stop before a packet could overflow the arena; the rest waits in
	 * the kernel ring for the next batch. */
	if (l->arena_size - l->arena_used < l->snaplen)
		pcap_breakloop(l->p);
}

/* One pcap_dispatch into the arena; the count, or -1. */
static int live_dispatch(struct live *l, unsigned max)
{
	int r = pcap_dispatch(l->p, max > (unsigned)INT32_MAX ? INT32_MAX : (int)max,
	                      live_cb, (u_char *)l);
	if (r == PCAP_ERROR) {
		cap_seterr(&l->c, "%s", pcap_geterr(l->p));
		return -1;
	}
	return (int)l->n;          /* includes PCAP_ERROR_BREAK */
}

/*
 * Linux libpcap's ring ignores the read timeout while nothing arrives
 * (pcap_dispatch would block until the next packet), so the handle is
 * non-blocking and an empty ring is waited for with poll(): the caller's
 * loop gets control back after timeout_ms either way.
 */
static int live_next(struct cap *c, struct pkt *pkts, unsigned max)
{
	struct live *l = (struct live *)c;

	l->pkts = pkts;
	l->n = 0;
	l->arena_used = 0;
	int r = live_dispatch(l, max);
	if (r != 0 || l->fd < 0)
		return r;
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	int pr = poll(&pfd, 1, l->timeout_ms);
	if (pr < 0) {
		if (errno == EINTR)
			return 0;
		cap_seterr(c, "poll: %s", strerror(errno));
		return -1;
	}
	return pr == 0 ? 0 : live_dispatch(l, max);
}

static void live_stats(struct cap *c, struct cap_stats *st)
{
	struct live *l = (struct live *)c;
	struct pcap_stat ps;

	if (pcap_stats(l->p, &ps) == 0)
		st->drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
}

static void live_close(struct cap *c)
{
	struct live *l = (struct live *)c;

	if (l->p != NULL)
		pcap_close(l->p);
	free(l->arena);
	free(l);
}

static const struct cap_ops live_ops = {
	.name = "pcap-live",
	.next_batch = live_next,
	.stats = live_stats,
	.close = live_close,
};

static int live_setup(struct live *l, const char *ifname,
                      const struct cap_options *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	int r;

	l->p = pcap_create(ifname, ebuf);
	if (l->p == NULL) {
		cap_fmterr(err, errlen, "%s: %s", ifname, ebuf);
		return -1;
	}
	pcap_set_snaplen(l->p, (int)l->snaplen);
	pcap_set_promisc(l->p, o->promisc);
	l->timeout_ms = (int)(o->timeout_ms ? o->timeout_ms : LIVE_TIMEOUT_MS_DEFAULT);
	pcap_set_timeout(l->p, l->timeout_ms);
	if (o->immediate)
		pcap_set_immediate_mode(l->p, 1);
	if (o->buffer_size)
		pcap_set_buffer_size(l->p, (int)o->buffer_size);
	/* ns timestamps when offered; otherwise µs */
	l->frac_to_ns = pcap_set_tstamp_precision(l->p, PCAP_TSTAMP_PRECISION_NANO) == 0 ? 1 : 1000;
	r = pcap_activate(l->p);
	if (r < 0) {
		cap_fmterr(err, errlen, "%s: %s", ifname,
		           r == PCAP_ERROR ? pcap_geterr(l->p) : pcap_statustostr(r));
		return -1;
	}
	l->frac_to_ns = pcap_get_tstamp_precision(l->p) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
	l->link = (uint16_t)pcap_datalink(l->p);
	l->snaplen = (uint32_t)pcap_snapshot(l->p);
	l->fd = pcap_get_selectable_fd(l->p);
	if (l->fd >= 0 && pcap_setnonblock(l->p, 1, ebuf) < 0) {
		cap_fmterr(err, errlen, "%s: %s", ifname, ebuf);
		return -1;
	}
	if (o->filter != NULL && *o->filter != '\0') {
		struct bpf_program prog;

		if (pcap_compile(l->p, &prog, o->filter, 1,
		                 PCAP_NETMASK_UNKNOWN) < 0) {
			cap_fmterr(err, errlen, "filter '%s': %s", o->filter,
			           pcap_geterr(l->p));
			return -1;
		}
		r = pcap_setfilter(l->p, &prog);
		pcap_freecode(&prog);
		if (r < 0) {
			cap_fmterr(err, errlen, "filter '%s': %s", o->filter,
			           pcap_geterr(l->p));
			return -1;
		}
	}
	return 0;
}

struct cap *cap_pcap_live_open(const char *ifname, const struct cap_options *o,
                               char *err, size_t errlen)
{
	struct live *l = calloc(1, sizeof *l);

	if (l == NULL) {
		cap_fmterr(err, errlen, "out of memory");
		return NULL;
	}
	l->c.ops = &live_ops;
	l->c.live = true;
	l->ifindex = o->ifindex ? o->ifindex : 1;
	l->fd = -1;
	l->snaplen = o->snaplen && o->snaplen < CAP_SNAPLEN_DEFAULT ?
	             o->snaplen : CAP_SNAPLEN_DEFAULT;
	if (live_setup(l, ifname, o, err, errlen) < 0) {
		live_close(&l->c);
		return NULL;
	}
	l->arena_size = LIVE_ARENA_MIN > 2u * l->snaplen ? LIVE_ARENA_MIN : 2u * l->snaplen;
	l->arena = malloc(l->arena_size);
	if (l->arena == NULL) {
		cap_fmterr(err, errlen, "out of memory");
		live_close(&l->c);
		return NULL;
	}
	return &l->c;
}
