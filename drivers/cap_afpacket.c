/*
 * cap_afpacket.c — live capture through an AF_PACKET socket with a
 * TPACKET_V3 receive ring (Linux), one socket per worker joined in a
 * PACKET_FANOUT group when several workers share an interface.
 *
 * The ring is mmap'd: the kernel fills whole blocks of packets and hands a
 * block over by setting TP_STATUS_USER in its descriptor.  A batch walks
 * the blocks user space owns and points straight into them; blocks are
 * given back (TP_STATUS_KERNEL) at the start of the next batch, which is
 * the cap.h lifetime contract.  No copy, no syscall while blocks are ready;
 * poll() only when the ring is empty.
 *
 * Decisions:
 * - Both directions are kept (a meter on a mirror port or veth sees
 *   everything the interface carries), except on loopback, where every
 *   packet would otherwise appear twice (outgoing and incoming), as
 *   libpcap also avoids.
 * - Fanout spreads packets by a symmetric hash of the IP address pair,
 *   computed by our own classic BPF program (PACKET_FANOUT_CBPF), not by
 *   the kernel's PACKET_FANOUT_HASH.  The kernel's flow hash is symmetric
 *   for TCP/UDP but hashes an IPv4 fragment by its addresses only, first
 *   fragment included: a fragmented DNS response, whose first fragment
 *   holds the DNS header, then reaches another worker than its query
 *   about half the time (tests/integration/afpacket.sh measures it).
 *   PACKET_FANOUT_FLAG_DEFRAG would fix that by handing on reassembled
 *   datagrams instead of the fragments on the wire (and swallowing
 *   incomplete ones), so packet counts would depend on the worker count.
 *   Hashing addresses only keeps every fragment, both directions and every
 *   port of a host pair together; the price is coarser balance when a few
 *   host pairs carry most of the traffic.  Non-IP frames go to worker 0.
 * - The kernel moves the outermost VLAN tag out of the frame before any
 *   packet socket sees it; it is put back in place (there is room in front
 *   of the frame) so the bytes equal what a file capture holds.  A BPF
 *   filter, however, runs in the kernel on the untagged frame — as with
 *   tcpdump on a live Linux interface, `udp port 53` also matches DNS in
 *   one 802.1Q tag.
 * - The snaplen is applied by the socket filter's return value (the kernel
 *   has no other per-socket snaplen); the block size is chosen so a
 *   snaplen-sized packet always fits in one block.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cap_impl.h"

#define AFP_RING_DEFAULT (4u * 1024u * 1024u)
/* Smallest block: a power of two that holds many small packets. */
#define AFP_BLOCK_MIN (64u * 1024u)
/* Room a packet needs in a block beyond its bytes: block descriptor,
 * tpacket3_hdr, sockaddr_ll, reserve and alignment. */
#define AFP_BLOCK_OVERHEAD 512u
/* TPACKET_V3 ignores frames, but the kernel still checks their geometry. */
#define AFP_FRAME_SIZE 2048u
#define AFP_TIMEOUT_MS_DEFAULT 100u
/* Block retire timeout with immediate delivery.  At low rates every
 * retired block holds the few packets of one timeout, so the ring's slack
 * is blocks x timeout: 8 ms keeps a busy reader (an interval's sync, an
 * SNMP walk) from dropping at a trickle, at 8 ms of added latency at most
 * (timestamps are the kernel's, so RTTs do not see it). */
#define AFP_TOV_IMMEDIATE_MS 8u
/* Blocks the default ring holds at least, whatever the snaplen makes a
 * block's size. */
#define AFP_BLOCKS_DEFAULT 64u
#define AFP_VLAN_HLEN 4u
#define AFP_MAC_ADDRS_LEN 12u      /* destination + source MAC */
#define AFP_ETH_P_8021Q 0x8100u
#define AFP_FANOUT_GROUP_MASK 0xffffu

struct afp {
	struct cap c;              /* first */
	int fd;
	uint8_t *ring;
	size_t ring_size;
	uint32_t block_size, block_nr;
	uint32_t timeout_ms;
	uint32_t snaplen;
	uint16_t ifindex;          /* meter interface number */
	uint16_t link;             /* enum pkt_link */
	bool skip_outgoing;        /* loopback without PACKET_IGNORE_OUTGOING */
	/* ring walk */
	uint32_t blk;              /* block being read, or next to read */
	bool open;                 /* blk is ours and being read */
	uint32_t left;             /* packets of blk not handed on yet */
	const uint8_t *next;       /* next tpacket3_hdr in blk */
	uint32_t n_done;           /* read blocks before blk, returned at the
	                              next batch */
	uint32_t done_max;         /* blocks one batch may hold */
	/* PACKET_STATISTICS resets on read: the total is kept here.  Its
	 * tp_freeze_q_cnt counts ring-full episodes, not packets, so only
	 * tp_drops is a loss. */
	uint64_t drops;
	char ifname[IF_NAMESIZE];
};

static struct tpacket_block_desc *afp_block(const struct afp *a, uint32_t i)
{
	return (struct tpacket_block_desc *)(a->ring + (size_t)i * a->block_size);
}

static bool afp_block_ready(const struct tpacket_block_desc *bd)
{
	return (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
	        TP_STATUS_USER) != 0;
}

static uint32_t afp_next_block(const struct afp *a, uint32_t i)
{
	return i + 1 == a->block_nr ? 0 : i + 1;
}

/* The open block is read to its end: it is returned with the batch's
 * other blocks when the next batch starts. */
static void afp_finish_block(struct afp *a)
{
	a->open = false;
	a->n_done++;
	a->blk = afp_next_block(a, a->blk);
}

/* Give the blocks read by the previous batch back to the kernel. */
static void afp_release(struct afp *a)
{
	uint32_t i;

	if (a->open && a->left == 0)
		afp_finish_block(a);
	i = (a->blk + a->block_nr - a->n_done) % a->block_nr;
	for (; a->n_done > 0; a->n_done--, i = afp_next_block(a, i))
		__atomic_store_n(&afp_block(a, i)->hdr.bh1.block_status,
		                 TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

/* Wait for the kernel to hand over a block: 1 when something may be
 * ready, 0 on timeout (or a signal), -1 on error. */
static int afp_wait(struct afp *a)
{
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
	int r = poll(&pfd, 1, (int)a->timeout_ms);

	if (r < 0) {
		if (errno == EINTR)
			return 0;
		cap_seterr(&a->c, "%s: poll: %s", a->ifname, strerror(errno));
		return -1;
	}
	if (r == 0)
		return 0;
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
		int e = 0;
		socklen_t len = sizeof e;

		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		if (e == ENETDOWN)
			cap_seterr(&a->c, "%s: the interface went down", a->ifname);
		else
			cap_seterr(&a->c, "%s: %s", a->ifname,
			           e ? strerror(e) : "socket hung up");
		return -1;
	}
	return 1;
}

/* The kernel took the outermost VLAN tag out of the frame; put it back in
 * the room in front of it (PACKET_RESERVE guarantees the room). */
static void afp_put_vlan(const struct afp *a, const struct tpacket3_hdr *h,
                         struct pkt *p)
{
	uint8_t *mac = (uint8_t *)p->data;
	uint8_t *tagged = mac - AFP_VLAN_HLEN;
	uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ?
	                h->hv1.tp_vlan_tpid : AFP_ETH_P_8021Q;
	uint16_t tci = (uint16_t)h->hv1.tp_vlan_tci;

	memmove(tagged, mac, AFP_MAC_ADDRS_LEN);
	tagged[AFP_MAC_ADDRS_LEN] = (uint8_t)(tpid >> 8);
	tagged[AFP_MAC_ADDRS_LEN + 1] = (uint8_t)tpid;
	tagged[AFP_MAC_ADDRS_LEN + 2] = (uint8_t)(tci >> 8);
	tagged[AFP_MAC_ADDRS_LEN + 3] = (uint8_t)tci;
	p->data = tagged;
	p->caplen += AFP_VLAN_HLEN;
	if (p->caplen > a->snaplen)
		p->caplen = a->snaplen;
	p->wirelen += AFP_VLAN_HLEN;
}

static bool afp_outgoing(const struct tpacket3_hdr *h)
{
	const struct sockaddr_ll *sll = (const struct sockaddr_ll *)
		((const uint8_t *)h + TPACKET_ALIGN(sizeof *h));

	return sll->sll_pkttype == PACKET_OUTGOING;
}

static int afp_next(struct cap *c, struct pkt *pkts, unsigned max)
{
	struct afp *a = (struct afp *)c;
	unsigned n = 0;
	bool waited = false;
	uint64_t bytes = 0;

	afp_release(a);
	while (n < max) {
		const struct tpacket3_hdr *h;
		struct pkt *p;

		if (a->left == 0) {
			struct tpacket_block_desc *bd;

			if (a->open) {
				afp_finish_block(a);
				if (a->n_done >= a->done_max)
					break;
			}
			bd = afp_block(a, a->blk);
			if (!afp_block_ready(bd)) {
				int r;

				if (n > 0 || waited)
					break;
				r = afp_wait(a);
				if (r <= 0)
					return r;
				waited = true;
				continue;
			}
			a->open = true;
			a->left = bd->hdr.bh1.num_pkts;
			a->next = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
			continue;
		}
		h = (const struct tpacket3_hdr *)a->next;
		if (--a->left > 0)
			a->next += h->tp_next_offset;
		if (a->skip_outgoing && afp_outgoing(h))
			continue;
		p = &pkts[n++];
		p->ts_ns = (uint64_t)h->tp_sec * CAP_NS_PER_SEC + h->tp_nsec;
		p->data = (const uint8_t *)h + h->tp_mac;
		p->caplen = h->tp_snaplen;
		p->wirelen = h->tp_len;
		p->ifindex = a->ifindex;
		p->link = a->link;
		if ((h->tp_status & TP_STATUS_VLAN_VALID) &&
		    a->link == PKT_LINK_ETHERNET && p->caplen >= AFP_MAC_ADDRS_LEN)
			afp_put_vlan(a, h, p);
		bytes += p->wirelen;
	}
	a->c.st.packets += n;
	a->c.st.bytes += bytes;
	return (int)n;
}

static void afp_stats(struct cap *c, struct cap_stats *st)
{
	struct afp *a = (struct afp *)c;
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof ks;

	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
		a->drops += ks.tp_drops;
	st->drops = a->drops;
}

static void afp_close(struct cap *c)
{
	struct afp *a = (struct afp *)c;

	if (a->ring != NULL)
		munmap(a->ring, a->ring_size);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

static const struct cap_ops afp_ops = {
	.name = "afpacket",
	.next_batch = afp_next,
	.stats = afp_stats,
	.close = afp_close,
};

static int afp_socket_error(const char *ifname, char *err, size_t errlen)
{
	if (errno == EPERM || errno == EACCES)
		cap_fmterr(err, errlen, "%s: opening a packet socket needs "
		           "CAP_NET_RAW (run as root or grant the capability)",
		           ifname);
	else if (errno == EAFNOSUPPORT)
		cap_fmterr(err, errlen, "%s: this kernel has no AF_PACKET "
		           "sockets", ifname);
	else
		cap_fmterr(err, errlen, "%s: packet socket: %s", ifname,
		           strerror(errno));
	return -1;
}

/* Kernel interface index and our link type from the device's ARP type. */
static int afp_interface(struct afp *a, const char *ifname, int *kindex,
                         char *err, size_t errlen)
{
	struct ifreq ifr;

	if (strlen(ifname) >= sizeof ifr.ifr_name) {
		cap_fmterr(err, errlen, "%s: interface name too long", ifname);
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(a->fd, SIOCGIFINDEX, &ifr) < 0) {
		if (errno == ENODEV)
			cap_fmterr(err, errlen, "%s: no such interface", ifname);
		else
			cap_fmterr(err, errlen, "%s: %s", ifname, strerror(errno));
		return -1;
	}
	*kindex = ifr.ifr_ifindex;
	if (ioctl(a->fd, SIOCGIFHWADDR, &ifr) < 0) {
		cap_fmterr(err, errlen, "%s: link type: %s", ifname,
		           strerror(errno));
		return -1;
	}
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:      /* a 14-byte Ethernet header of zeros */
		a->link = PKT_LINK_ETHERNET;
		break;
	case ARPHRD_NONE:          /* tun, WireGuard: IP from the first byte */
	case ARPHRD_PPP:
#ifdef ARPHRD_RAWIP
	case ARPHRD_RAWIP:
#endif
		a->link = PKT_LINK_RAW;
		break;
	default:
		cap_fmterr(err, errlen, "%s: link type ARPHRD %u is not "
		           "supported by the afpacket driver (try --driver pcap)",
		           ifname, (unsigned)ifr.ifr_hwaddr.sa_family);
		return -1;
	}
	if (ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK) {
		int one = 1;

		a->skip_outgoing = setsockopt(a->fd, SOL_PACKET,
		                              PACKET_IGNORE_OUTGOING, &one,
		                              sizeof one) < 0;
	}
	return 0;
}

static int afp_ring(struct afp *a, const struct cap_options *o, char *err,
                    size_t errlen)
{
	uint32_t want = o->buffer_size ? o->buffer_size : AFP_RING_DEFAULT;
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	uint32_t block = AFP_BLOCK_MIN;
	int version = TPACKET_V3, reserve = AFP_VLAN_HLEN;
	struct tpacket_req3 req;

	while (block < a->snaplen + AFP_BLOCK_OVERHEAD)
		block <<= 1;
	while (block < page)
		block <<= 1;
	a->block_size = block;
	if (!o->buffer_size && want / block < AFP_BLOCKS_DEFAULT)
		want = AFP_BLOCKS_DEFAULT * block;
	a->block_nr = want / block < 2 ? 2 : want / block;
	a->done_max = a->block_nr / 2;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &version,
	               sizeof version) < 0) {
		cap_fmterr(err, errlen, "%s: TPACKET_V3: %s", a->ifname,
		           strerror(errno));
		return -1;
	}
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RESERVE, &reserve,
	               sizeof reserve) < 0) {
		cap_fmterr(err, errlen, "%s: PACKET_RESERVE: %s", a->ifname,
		           strerror(errno));
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.tp_block_size = a->block_size;
	req.tp_block_nr = a->block_nr;
	req.tp_frame_size = AFP_FRAME_SIZE;
	req.tp_frame_nr = a->block_size / AFP_FRAME_SIZE * a->block_nr;
	req.tp_retire_blk_tov = o->immediate ? AFP_TOV_IMMEDIATE_MS : a->timeout_ms;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
		if (errno == ENOMEM)
			cap_fmterr(err, errlen, "%s: ring of %u blocks of %u bytes "
			           "too large (out of kernel memory): use a smaller "
			           "buffer size", a->ifname, a->block_nr,
			           a->block_size);
		else
			cap_fmterr(err, errlen, "%s: ring of %u blocks of %u bytes "
			           "refused: %s", a->ifname, a->block_nr,
			           a->block_size, strerror(errno));
		return -1;
	}
	a->ring_size = (size_t)a->block_size * a->block_nr;
	a->ring = mmap(NULL, a->ring_size, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_LOCKED, a->fd, 0);
	if (a->ring == MAP_FAILED) {
		/* MAP_LOCKED needs RLIMIT_MEMLOCK; without it the ring still
		 * works, only page-faults once. */
		a->ring = mmap(NULL, a->ring_size, PROT_READ | PROT_WRITE,
		               MAP_SHARED, a->fd, 0);
	}
	if (a->ring == MAP_FAILED) {
		a->ring = NULL;
		cap_fmterr(err, errlen, "%s: mapping a ring of %zu bytes: %s%s",
		           a->ifname, a->ring_size, strerror(errno),
		           errno == ENOMEM ? " (use a smaller buffer size)" : "");
		return -1;
	}
	return 0;
}

static int afp_attach(struct afp *a, struct sock_filter *code, unsigned len,
                      char *err, size_t errlen)
{
	struct sock_fprog prog = { .len = (unsigned short)len, .filter = code };

	if (setsockopt(a->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	               sizeof prog) < 0) {
		cap_fmterr(err, errlen, "%s: attaching the filter: %s",
		           a->ifname, strerror(errno));
		return -1;
	}
	return 0;
}

/* Attach the user's filter compiled by libpcap for our link type (its
 * accepting return value is the snaplen), or just the snaplen cut. */
static int afp_filter(struct afp *a, const char *filter, char *err,
                      size_t errlen)
{
	struct bpf_program bp;
	struct sock_filter *code;
	pcap_t *p;
	int r;

	if (filter == NULL || *filter == '\0') {
		struct sock_filter cut = BPF_STMT(BPF_RET | BPF_K, a->snaplen);

		return afp_attach(a, &cut, 1, err, errlen);
	}
	p = pcap_open_dead(a->link == PKT_LINK_ETHERNET ? DLT_EN10MB : DLT_RAW,
	                   (int)a->snaplen);
	if (p == NULL) {
		cap_fmterr(err, errlen, "filter '%s': out of memory", filter);
		return -1;
	}
	if (pcap_compile(p, &bp, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		cap_fmterr(err, errlen, "filter '%s': %s", filter, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	code = calloc(bp.bf_len ? bp.bf_len : 1, sizeof *code);
	if (code == NULL) {
		pcap_freecode(&bp);
		cap_fmterr(err, errlen, "filter '%s': out of memory", filter);
		return -1;
	}
	for (unsigned i = 0; i < bp.bf_len; i++) {
		code[i].code = bp.bf_insns[i].code;
		code[i].jt = bp.bf_insns[i].jt;
		code[i].jf = bp.bf_insns[i].jf;
		code[i].k = bp.bf_insns[i].k;
	}
	r = afp_attach(a, code, bp.bf_len, err, errlen);
	free(code);
	pcap_freecode(&bp);
	return r;
}

/* ---- fanout: a symmetric hash of the IP address pair in classic BPF ----
 * The program runs on the kernel's receive path with the outermost VLAN
 * tag already removed: the ethertype is skb->protocol (SKF_AD_PROTOCOL),
 * loads are relative to the network header (SKF_NET_OFF), and a second
 * (QinQ) tag is skipped by hand.  The kernel takes the result modulo the
 * number of sockets in the group. */

#define FH_MAX_INSNS 128u         /* the program below has 86 */
#define FH_ETH_P_IPV4 0x0800u
#define FH_ETH_P_IPV6 0x86ddu
#define FH_ETH_P_8021AD 0x88a8u
#define FH_IPV4_SRC 12u
#define FH_IPV4_DST 16u
#define FH_IPV6_SRC 8u
#define FH_IPV6_ADDRS_END 40u      /* end of the destination address */
#define FH_MIX_MUL 0x9e3779b1u     /* 2^32 / golden ratio */
#define FH_MIX_SHIFT 16u

enum fh_label { FH_TAG, FH_V4, FH_V6, FH_V4_TAG, FH_V6_TAG, FH_NLABELS };

struct fh_prog {
	struct sock_filter insn[FH_MAX_INSNS];
	unsigned n;
	unsigned label[FH_NLABELS];
	/* forward jumps to patch: instruction index and its true label */
	unsigned jump_at[FH_NLABELS * 2], jump_to[FH_NLABELS * 2], n_jumps;
};

static void fh_emit(struct fh_prog *fp, uint16_t code, uint32_t k)
{
	fp->insn[fp->n++] = (struct sock_filter)BPF_STMT(code, k);
}

/* if A == k goto label, else fall through */
static void fh_jeq(struct fh_prog *fp, uint32_t k, enum fh_label to)
{
	fp->jump_at[fp->n_jumps] = fp->n;
	fp->jump_to[fp->n_jumps++] = to;
	fp->insn[fp->n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	                                                 k, 0, 0);
}

/* A = xor of the 32-bit words [from, to) of the network header + base,
 * then mixed (fold, multiply, take the middle bits) and returned. */
static void fh_hash(struct fh_prog *fp, enum fh_label at, uint32_t base,
                    uint32_t from, uint32_t to)
{
	fp->label[at] = fp->n;
	fh_emit(fp, BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + base + from);
	for (uint32_t off = from + 4; off < to; off += 4) {
		fh_emit(fp, BPF_MISC | BPF_TAX, 0);
		fh_emit(fp, BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + base + off);
		fh_emit(fp, BPF_ALU | BPF_XOR | BPF_X, 0);
	}
	fh_emit(fp, BPF_MISC | BPF_TAX, 0);
	fh_emit(fp, BPF_ALU | BPF_RSH | BPF_K, FH_MIX_SHIFT);
	fh_emit(fp, BPF_ALU | BPF_XOR | BPF_X, 0);
	fh_emit(fp, BPF_ALU | BPF_MUL | BPF_K, FH_MIX_MUL);
	fh_emit(fp, BPF_ALU | BPF_RSH | BPF_K, FH_MIX_SHIFT);
	fh_emit(fp, BPF_RET | BPF_A, 0);
}

static void afp_fanout_prog(struct fh_prog *fp)
{
	memset(fp, 0, sizeof *fp);
	fh_emit(fp, BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL);
	fh_jeq(fp, FH_ETH_P_IPV4, FH_V4);
	fh_jeq(fp, FH_ETH_P_IPV6, FH_V6);
	fh_jeq(fp, AFP_ETH_P_8021Q, FH_TAG);
	fh_jeq(fp, FH_ETH_P_8021AD, FH_TAG);
	fh_emit(fp, BPF_RET | BPF_K, 0);
	/* an inner tag: its ethertype follows the TCI */
	fp->label[FH_TAG] = fp->n;
	fh_emit(fp, BPF_LD | BPF_H | BPF_ABS, (uint32_t)SKF_NET_OFF + 2);
	fh_jeq(fp, FH_ETH_P_IPV4, FH_V4_TAG);
	fh_jeq(fp, FH_ETH_P_IPV6, FH_V6_TAG);
	fh_emit(fp, BPF_RET | BPF_K, 0);
	fh_hash(fp, FH_V4, 0, FH_IPV4_SRC, FH_IPV4_DST + 4);
	fh_hash(fp, FH_V6, 0, FH_IPV6_SRC, FH_IPV6_ADDRS_END);
	fh_hash(fp, FH_V4_TAG, AFP_VLAN_HLEN, FH_IPV4_SRC, FH_IPV4_DST + 4);
	fh_hash(fp, FH_V6_TAG, AFP_VLAN_HLEN, FH_IPV6_SRC, FH_IPV6_ADDRS_END);
	for (unsigned i = 0; i < fp->n_jumps; i++)
		fp->insn[fp->jump_at[i]].jt =
			(uint8_t)(fp->label[fp->jump_to[i]] - fp->jump_at[i] - 1);
}

static int afp_fanout(struct afp *a, uint32_t group, char *err, size_t errlen)
{
	int arg = (int)(group | (uint32_t)PACKET_FANOUT_CBPF << 16);
	struct fh_prog fp;
	struct sock_fprog prog;

	if (setsockopt(a->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0) {
		cap_fmterr(err, errlen, "%s: joining fanout group %u: %s "
		           "(is another program using that group id?)",
		           a->ifname, group, strerror(errno));
		return -1;
	}
	afp_fanout_prog(&fp);
	prog.len = (unsigned short)fp.n;
	prog.filter = fp.insn;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_FANOUT_DATA, &prog,
	               sizeof prog) < 0) {
		cap_fmterr(err, errlen, "%s: fanout hash program: %s", a->ifname,
		           strerror(errno));
		return -1;
	}
	return 0;
}

static int afp_setup(struct afp *a, const char *ifname,
                     const struct cap_options *o, char *err, size_t errlen)
{
	/* Nothing is queued until the socket is bound, fanned out and
	 * filtered: a later member of a fanout group must not see packets the
	 * group already distributes (duplicates). */
	struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sockaddr_ll sll;
	int kindex;

	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return afp_socket_error(ifname, err, errlen);
	if (afp_interface(a, ifname, &kindex, err, errlen) < 0 ||
	    afp_ring(a, o, err, errlen) < 0 ||
	    afp_attach(a, &drop_all, 1, err, errlen) < 0)
		return -1;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = kindex;
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
		cap_fmterr(err, errlen, "%s: bind: %s", ifname, strerror(errno));
		return -1;
	}
	if (o->promisc) {
		struct packet_mreq mr = { .mr_ifindex = kindex,
		                          .mr_type = PACKET_MR_PROMISC };

		if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		               sizeof mr) < 0) {
			cap_fmterr(err, errlen, "%s: promiscuous mode: %s",
			           ifname, strerror(errno));
			return -1;
		}
	}
	if (o->n_queues > 1) {
		uint32_t group = o->fanout_group ? o->fanout_group :
		                 (uint32_t)getpid() & AFP_FANOUT_GROUP_MASK;

		if (afp_fanout(a, group, err, errlen) < 0)
			return -1;
	}
	return afp_filter(a, o->filter, err, errlen);
}

struct cap *cap_afpacket_open(const char *ifname, const struct cap_options *o,
                              char *err, size_t errlen)
{
	struct afp *a = calloc(1, sizeof *a);

	if (a == NULL) {
		cap_fmterr(err, errlen, "out of memory");
		return NULL;
	}
	a->c.ops = &afp_ops;
	a->c.live = true;
	a->fd = -1;
	snprintf(a->ifname, sizeof a->ifname, "%s", ifname);
	a->ifindex = o->ifindex ? o->ifindex : 1;
	a->snaplen = o->snaplen && o->snaplen < CAP_SNAPLEN_DEFAULT ?
	             o->snaplen : CAP_SNAPLEN_DEFAULT;
	a->timeout_ms = o->timeout_ms ? o->timeout_ms : AFP_TIMEOUT_MS_DEFAULT;
	if (afp_setup(a, ifname, o, err, errlen) < 0) {
		afp_close(&a->c);
		return NULL;
	}
	return &a->c;
}
