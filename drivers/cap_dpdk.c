/*
 * cap_dpdk.c — DPDK ethdev capture back end (--driver dpdk).
 *
 * ifname names an ethdev port (a port name such as net_pcap0 or 0000:03:00.0,
 * or a port number).  EAL is initialised once per process, from the first
 * open's cap_options.dpdk_args; every later open must pass the same string.
 * Each source owns one RX queue (cap_options.queue of n_queues): the first
 * open of a port configures all n_queues queues, with symmetric RSS when
 * there is more than one, and starts the port; the last close stops and
 * closes it.
 *
 * Timestamps: when the port offers hardware RX timestamps and a readable
 * clock, the mbuf's timestamp dynamic field converted from NIC clock ticks
 * (calibrated against CLOCK_REALTIME at start); on net_pcap, the field it
 * fills from the trace (µs since the epoch: the trace's own time, cut to
 * µs); otherwise the TSC read once per batch, calibrated to ns against
 * CLOCK_REALTIME at start (the dynamic field's unit is driver-defined, so
 * it is not trusted elsewhere).
 *
 * Drops (imissed + rx_nombuf) are per port, not per queue: queue 0's source
 * reports them so that the sum over a port's sources is the port's count.
 */
#include "cap_impl.h"

#ifndef NTM_HAVE_DPDK

struct cap *cap_dpdk_open(const char *ifname, const struct cap_options *o,
                          char *err, size_t errlen)
{
	(void)ifname;
	(void)o;
	cap_fmterr(err, errlen, "DPDK support is not in this build "
	           "(install libdpdk-dev and rebuild)");
	return NULL;
}

#else

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

/* Packets asked of the NIC per rte_eth_rx_burst call. */
#define DPDK_BURST 32u
/* Most mbufs one source holds between two cap_next_batch calls: caps a
 * batch, and sizes the pool's share for the caller. */
#define DPDK_HOLD_MAX 256u
/* RX descriptors per queue when the device states no preference. */
#define DPDK_RXD_DEFAULT 1024u
/* Per-lcore mempool cache, and mbufs beyond the rings and held batches. */
#define DPDK_POOL_CACHE 256u
#define DPDK_POOL_SLACK 1024u
/* Queues per port this back end will set up. */
#define DPDK_QUEUES_MAX 128u
/* EAL argument vector: words and total characters. */
#define DPDK_EAL_ARGS_MAX 64u
#define DPDK_EAL_CHARS_MAX 4096u
/* The symmetric RSS key is this 16-bit pattern repeated (Woo & Park):
 * swapping source and destination leaves the Toeplitz hash unchanged. */
#define DPDK_RSS_KEY_WORD 0x6d5au
#define DPDK_RSS_KEY_MAX 64u
#define DPDK_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP)
/* Waiting for packets: spin this many empty polls, then sleep between
 * polls (an idle meter should not hold a core at 100 %). */
#define DPDK_IDLE_SPINS 64u
#define DPDK_IDLE_SLEEP_NS 100000L
#define DPDK_TIMEOUT_MS_DEFAULT 100u
/* NIC clock calibration interval. */
#define DPDK_CLOCK_CAL_MS 50u
#define DPDK_MS_PER_SEC 1000u

enum dpdk_ts {
	DPDK_TS_TSC = 0,           /* batch time from the TSC */
	DPDK_TS_DYN_US,            /* dynfield holds µs since the epoch */
	DPDK_TS_DYN_CLOCK          /* dynfield holds NIC clock ticks */
};

/* net_pcap fills the timestamp field from the trace, in µs */
#define DPDK_PCAP_DRIVER "net_pcap"
#define DPDK_NS_PER_US 1000u

/* A linear map from a counter (TSC or NIC clock) to ns since the epoch. */
struct dpdk_clock {
	uint64_t base_ticks;
	uint64_t base_ns;
	uint64_t hz;
};

struct dpdk_port {
	bool open;                 /* configured and started */
	uint16_t id;
	uint16_t n_queues;
	uint16_t refs;
	bool claimed[DPDK_QUEUES_MAX];
	struct rte_mempool *pool;
	enum dpdk_ts ts;
	struct dpdk_clock nic;     /* for DPDK_TS_DYN_CLOCK */
	uint64_t drop_base;        /* imissed + rx_nombuf at start */
	char name[RTE_ETH_NAME_MAX_LEN];
};

struct dpdk_cap {
	struct cap base;
	struct dpdk_port *port;
	uint16_t queue;
	uint16_t ifindex;
	uint32_t snaplen;
	uint64_t timeout_ticks;    /* TSC ticks */
	unsigned held;             /* mbufs of the last batch, freed next call */
	struct rte_mbuf *mb[DPDK_HOLD_MAX];
};

/* Process-wide state: EAL is initialised once; opens and closes (never the
 * packet path) take the lock. */
static pthread_mutex_t dpdk_lock = PTHREAD_MUTEX_INITIALIZER;
static int eal_state;              /* 0 not tried, 1 up, -1 failed */
static char eal_args_used[DPDK_EAL_CHARS_MAX];
static char eal_err[CAP_ERR_MAX];
static struct dpdk_clock tsc_clock;
static int ts_dynfield = -1;
static uint64_t ts_dynflag;
static struct dpdk_port ports[RTE_MAX_ETHPORTS];

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * CAP_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ticks → ns since the epoch without overflowing the product: whole
 * seconds and the remainder are scaled separately. */
static inline uint64_t clock_ns(const struct dpdk_clock *k, uint64_t ticks)
{
	uint64_t d = ticks - k->base_ticks;

	return k->base_ns + d / k->hz * CAP_NS_PER_SEC +
	       d % k->hz * CAP_NS_PER_SEC / k->hz;
}

/* ---- EAL ---- */

static const char *const eal_prefix[] = {
	"ntm",
	/* quiet by default; a --log-level in the user's string comes later
	 * and wins */
	"--log-level=warning",
};

/* Split args on blanks into argv (words point into buf). */
static int eal_split(const char *args, char *buf, char **argv, int *argc,
                     char *err, size_t errlen)
{
	size_t n = args ? strlen(args) : 0;
	char *p = buf;

	*argc = 0;
	for (size_t i = 0; i < sizeof eal_prefix / sizeof eal_prefix[0]; i++)
		argv[(*argc)++] = (char *)eal_prefix[i];
	if (n >= DPDK_EAL_CHARS_MAX) {
		cap_fmterr(err, errlen, "dpdk: EAL arguments longer than %u "
		           "characters", DPDK_EAL_CHARS_MAX - 1);
		return -1;
	}
	memcpy(buf, args ? args : "", n + 1);
	for (;;) {
		while (*p != '\0' && isspace((unsigned char)*p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		if ((unsigned)*argc + 1 >= DPDK_EAL_ARGS_MAX) {
			cap_fmterr(err, errlen, "dpdk: more than %u EAL arguments",
			           DPDK_EAL_ARGS_MAX - 2);
			return -1;
		}
		argv[(*argc)++] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
	}
	argv[*argc] = NULL;
	return 0;
}

/*
 * rte_eal_init pins the calling thread to one core, which threads created
 * later would inherit, and prints usage text on stdout when the arguments
 * are wrong.  Run it with stdout pointing at stderr, then give the thread
 * back its CPU set.
 */
static int eal_run(int argc, char **argv, char *err, size_t errlen)
{
	cpu_set_t cpus;
	bool have_cpus;
	int saved, r, e;

	have_cpus = pthread_getaffinity_np(pthread_self(), sizeof cpus, &cpus) == 0;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved >= 0 && dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	r = rte_eal_init(argc, argv);
	e = rte_errno;
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (r < 0) {
		cap_fmterr(err, errlen, "dpdk: EAL initialisation failed: %s "
		           "(EAL arguments '%s'; without hugepages use --no-huge)",
		           rte_strerror(e), eal_args_used);
		return -1;
	}
	if (have_cpus)
		pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
	return 0;
}

static int eal_init(const char *args, char *err, size_t errlen)
{
	static char buf[DPDK_EAL_CHARS_MAX];
	static char *argv[DPDK_EAL_ARGS_MAX];
	const char *a = args ? args : "";
	int argc, r;

	if (eal_state != 0) {
		if (eal_state < 0) {
			cap_fmterr(err, errlen, "%s", eal_err);
			return -1;
		}
		if (strcmp(a, eal_args_used) != 0) {
			cap_fmterr(err, errlen, "dpdk: EAL is already initialised "
			           "with '%s'; every DPDK source of a process uses "
			           "the same EAL arguments", eal_args_used);
			return -1;
		}
		return 0;
	}
	snprintf(eal_args_used, sizeof eal_args_used, "%s", a);
	if (eal_split(a, buf, argv, &argc, err, errlen) < 0)
		return -1;     /* nothing tried: a corrected string may follow */
	r = eal_run(argc, argv, eal_err, sizeof eal_err);
	if (r < 0) {
		/* EAL cannot be initialised twice in a process */
		eal_state = -1;
		cap_fmterr(err, errlen, "%s", eal_err);
		return -1;
	}
	eal_state = 1;
	if (rte_mbuf_dyn_rx_timestamp_register(&ts_dynfield, &ts_dynflag) < 0) {
		ts_dynfield = -1;
		ts_dynflag = 0;
	}
	tsc_clock.hz = rte_get_tsc_hz();
	if (tsc_clock.hz == 0)
		tsc_clock.hz = 1;
	tsc_clock.base_ticks = rte_get_tsc_cycles();
	tsc_clock.base_ns = realtime_ns();
	return 0;
}

/* ---- ports ---- */

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void list_ports(char *out, size_t outlen)
{
	size_t used = 0;
	uint16_t pid;

	out[0] = '\0';
	RTE_ETH_FOREACH_DEV(pid) {
		char name[RTE_ETH_NAME_MAX_LEN];
		int w;

		if (rte_eth_dev_get_name_by_port(pid, name) != 0)
			continue;
		w = snprintf(out + used, outlen - used, "%s%u=%s",
		             used ? ", " : "", pid, name);
		if (w < 0 || (size_t)w >= outlen - used)
			break;
		used += (size_t)w;
	}
}

static int find_port(const char *ifname, uint16_t *pid, char *err,
                     size_t errlen)
{
	char avail[256];

	if (rte_eth_dev_get_port_by_name(ifname, pid) == 0)
		return 0;
	if (all_digits(ifname)) {
		unsigned long v = strtoul(ifname, NULL, 10);

		if (v < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port((uint16_t)v)) {
			*pid = (uint16_t)v;
			return 0;
		}
	}
	list_ports(avail, sizeof avail);
	if (avail[0] == '\0')
		cap_fmterr(err, errlen, "dpdk: no port '%s': DPDK has no ports "
		           "(add one with --vdev=... in the EAL arguments or bind "
		           "a NIC to a DPDK driver)", ifname);
	else
		cap_fmterr(err, errlen, "dpdk: no port '%s' (ports: %s)", ifname,
		           avail);
	return -1;
}

static void symmetric_key(uint8_t *key, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		key[i] = (uint8_t)(i % 2 == 0 ? DPDK_RSS_KEY_WORD >> 8
		                              : DPDK_RSS_KEY_WORD & 0xff);
}

/* NIC clock ticks per second against CLOCK_REALTIME; -1 when the port has
 * no readable clock. */
static int calibrate_nic(uint16_t pid, struct dpdk_clock *k)
{
	uint64_t c0, c1, t1;

	if (rte_eth_read_clock(pid, &c0) != 0)
		return -1;
	k->base_ns = realtime_ns();
	rte_delay_ms(DPDK_CLOCK_CAL_MS);
	if (rte_eth_read_clock(pid, &c1) != 0)
		return -1;
	t1 = realtime_ns();
	if (c1 <= c0 || t1 <= k->base_ns)
		return -1;
	k->hz = (uint64_t)((double)(c1 - c0) * (double)CAP_NS_PER_SEC /
	                   (double)(t1 - k->base_ns));
	if (k->hz == 0)
		return -1;
	k->base_ticks = c0;
	return 0;
}

static uint64_t port_drops(uint16_t pid)
{
	struct rte_eth_stats s;

	if (rte_eth_stats_get(pid, &s) != 0)
		return 0;
	return s.imissed + s.rx_nombuf;
}

static void port_shutdown(struct dpdk_port *p)
{
	/* errors here leave nothing to undo */
	(void)rte_eth_dev_stop(p->id);
	(void)rte_eth_dev_close(p->id);
	rte_mempool_free(p->pool);
	memset(p, 0, sizeof *p);
}

/* Configure n_queues RX queues (and no TX queue), start the port. */
static int port_setup(struct dpdk_port *p, uint16_t pid, uint16_t nq,
                      const struct cap_options *o, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxc;
	uint8_t key[DPDK_RSS_KEY_MAX];
	uint16_t nrxd, ntxd = 0;
	unsigned n_mbufs;
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	int r, sock;

	memset(p, 0, sizeof *p);
	p->id = pid;
	p->n_queues = nq;
	if (rte_eth_dev_get_name_by_port(pid, p->name) != 0)
		snprintf(p->name, sizeof p->name, "%u", pid);
	r = rte_eth_dev_info_get(pid, &info);
	if (r != 0) {
		cap_fmterr(err, errlen, "dpdk: %s: device info: %s", p->name,
		           rte_strerror(-r));
		return -1;
	}
	if (nq > info.max_rx_queues) {
		cap_fmterr(err, errlen, "dpdk: %s (%s) has %u RX queue%s, %u "
		           "wanted (one per worker)", p->name, info.driver_name,
		           info.max_rx_queues, info.max_rx_queues == 1 ? "" : "s",
		           nq);
		return -1;
	}
	memset(&conf, 0, sizeof conf);
	if (nq > 1) {
		uint64_t hf = DPDK_RSS_HF & info.flow_type_rss_offloads;
		unsigned klen = info.hash_key_size ? info.hash_key_size : 40u;

		if (hf == 0) {
			cap_fmterr(err, errlen, "dpdk: %s (%s) has no RSS on IP/UDP/"
			           "TCP, so %u workers cannot share it symmetrically "
			           "(use one worker)", p->name, info.driver_name, nq);
			return -1;
		}
		if (klen > sizeof key)
			klen = sizeof key;
		symmetric_key(key, klen);
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = key;
		conf.rx_adv_conf.rss_conf.rss_key_len = (uint8_t)klen;
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	/* frames longer than one mbuf arrive chained rather than dropped
	 * (the first segment is handed on, as a snaplen would) */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    ts_dynfield >= 0)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	r = rte_eth_dev_configure(pid, nq, 0, &conf);
	if (r == -EINVAL) {
		/* some PMDs want at least one TX queue */
		ntxd = 1;
		r = rte_eth_dev_configure(pid, nq, 1, &conf);
	}
	if (r != 0) {
		cap_fmterr(err, errlen, "dpdk: %s: configure %u RX queue%s: %s",
		           p->name, nq, nq == 1 ? "" : "s", rte_strerror(-r));
		return -1;
	}
	nrxd = info.default_rxportconf.ring_size ? info.default_rxportconf.ring_size
	                                          : DPDK_RXD_DEFAULT;
	if (o->buffer_size != 0 && o->buffer_size / RTE_MBUF_DEFAULT_BUF_SIZE > nrxd)
		nrxd = (uint16_t)(o->buffer_size / RTE_MBUF_DEFAULT_BUF_SIZE >
		                  UINT16_MAX ? UINT16_MAX :
		                  o->buffer_size / RTE_MBUF_DEFAULT_BUF_SIZE);
	r = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrxd, ntxd ? &ntxd : NULL);
	if (r != 0) {
		cap_fmterr(err, errlen, "dpdk: %s: ring sizes: %s", p->name,
		           rte_strerror(-r));
		return -1;
	}
	/* every descriptor of every ring holds an mbuf, every source may hold
	 * a batch, lcore caches keep some */
	n_mbufs = (unsigned)nq * (nrxd + DPDK_HOLD_MAX) + ntxd +
	          DPDK_POOL_CACHE * rte_lcore_count() + DPDK_POOL_SLACK;
	sock = rte_eth_dev_socket_id(pid);
	if (sock < 0)
		sock = (int)rte_socket_id();
	snprintf(pool_name, sizeof pool_name, "ntm_rx_%u", pid);
	p->pool = rte_pktmbuf_pool_create(pool_name, n_mbufs, DPDK_POOL_CACHE, 0,
	                                  RTE_MBUF_DEFAULT_BUF_SIZE, sock);
	if (p->pool == NULL) {
		cap_fmterr(err, errlen, "dpdk: %s: pool of %u mbufs: %s (raise "
		           "the EAL memory, -m MB)", p->name, n_mbufs,
		           rte_strerror(rte_errno));
		return -1;
	}
	rxc = info.default_rxconf;
	rxc.offloads = conf.rxmode.offloads;
	for (uint16_t q = 0; q < nq; q++) {
		r = rte_eth_rx_queue_setup(pid, q, nrxd, (unsigned)sock, &rxc,
		                           p->pool);
		if (r != 0) {
			cap_fmterr(err, errlen, "dpdk: %s: RX queue %u: %s", p->name,
			           q, rte_strerror(-r));
			goto fail;
		}
	}
	if (ntxd) {
		r = rte_eth_tx_queue_setup(pid, 0, ntxd, (unsigned)sock, NULL);
		if (r != 0) {
			cap_fmterr(err, errlen, "dpdk: %s: TX queue: %s", p->name,
			           rte_strerror(-r));
			goto fail;
		}
	}
	if (o->promisc) {
		r = rte_eth_promiscuous_enable(pid);
		if (r != 0 && r != -ENOTSUP) {
			cap_fmterr(err, errlen, "dpdk: %s: promiscuous mode: %s",
			           p->name, rte_strerror(-r));
			goto fail;
		}
	}
	if ((conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    calibrate_nic(pid, &p->nic) == 0)
		p->ts = DPDK_TS_DYN_CLOCK;
	else if (strcmp(info.driver_name, DPDK_PCAP_DRIVER) == 0 &&
	         ts_dynfield >= 0)
		p->ts = DPDK_TS_DYN_US;
	else
		p->ts = DPDK_TS_TSC;
	r = rte_eth_dev_start(pid);
	if (r != 0) {
		cap_fmterr(err, errlen, "dpdk: %s: start: %s", p->name,
		           rte_strerror(-r));
		goto fail;
	}
	p->drop_base = port_drops(pid);
	p->open = true;
	return 0;
fail:
	(void)rte_eth_dev_close(pid);
	rte_mempool_free(p->pool);
	memset(p, 0, sizeof *p);
	return -1;
}

/* ---- packets ---- */

static inline uint64_t mbuf_ts(const struct dpdk_port *p,
                               const struct rte_mbuf *m, uint64_t burst_ns)
{
	uint64_t v;

	if (p->ts == DPDK_TS_TSC || (m->ol_flags & ts_dynflag) == 0)
		return burst_ns;
	v = *RTE_MBUF_DYNFIELD(m, ts_dynfield, const rte_mbuf_timestamp_t *);
	return p->ts == DPDK_TS_DYN_CLOCK ? clock_ns(&p->nic, v)
	                                  : v * DPDK_NS_PER_US;
}

static void release_held(struct dpdk_cap *d)
{
	if (d->held != 0) {
		rte_pktmbuf_free_bulk(d->mb, d->held);
		d->held = 0;
	}
}

/* Wait (bounded by the timeout) for the first burst. */
static unsigned first_burst(struct dpdk_cap *d, unsigned want)
{
	uint64_t deadline = 0;
	unsigned spins = 0;

	for (;;) {
		uint16_t n = rte_eth_rx_burst(d->port->id, d->queue, d->mb,
		                              (uint16_t)want);
		uint64_t now;

		if (n != 0)
			return n;
		now = rte_get_tsc_cycles();
		if (deadline == 0)
			deadline = now + d->timeout_ticks;
		else if (now >= deadline)
			return 0;
		if (++spins >= DPDK_IDLE_SPINS) {
			struct timespec ts = { 0, DPDK_IDLE_SLEEP_NS };

			nanosleep(&ts, NULL);
		}
	}
}

static int dpdk_next_batch(struct cap *c, struct pkt *pkts, unsigned max)
{
	struct dpdk_cap *d = (struct dpdk_cap *)c;
	const struct dpdk_port *p = d->port;
	unsigned n, got, want;
	uint64_t burst_ns;

	release_held(d);
	if (max > DPDK_HOLD_MAX)
		max = DPDK_HOLD_MAX;
	want = max < DPDK_BURST ? max : DPDK_BURST;
	n = first_burst(d, want);
	got = n;
	/* keep taking bursts while they come full and there is room */
	while (n == want && got < max) {
		want = max - got < DPDK_BURST ? max - got : DPDK_BURST;
		n = rte_eth_rx_burst(p->id, d->queue, d->mb + got, (uint16_t)want);
		got += n;
	}
	if (got == 0)
		return 0;
	burst_ns = clock_ns(&tsc_clock, rte_get_tsc_cycles());
	for (unsigned i = 0; i < got; i++) {
		const struct rte_mbuf *m = d->mb[i];
		struct pkt *k = &pkts[i];
		uint32_t caplen = rte_pktmbuf_data_len(m);

		k->ts_ns = mbuf_ts(p, m, burst_ns);
		k->caplen = caplen < d->snaplen ? caplen : d->snaplen;
		k->wirelen = rte_pktmbuf_pkt_len(m);
		k->data = rte_pktmbuf_mtod(m, const uint8_t *);
		k->ifindex = d->ifindex;
		k->link = PKT_LINK_ETHERNET;
		c->st.bytes += k->wirelen;
	}
	c->st.packets += got;
	d->held = got;
	return (int)got;
}

static void dpdk_stats(struct cap *c, struct cap_stats *st)
{
	struct dpdk_cap *d = (struct dpdk_cap *)c;

	if (d->queue == 0) {
		uint64_t now = port_drops(d->port->id);

		st->drops = now > d->port->drop_base ? now - d->port->drop_base : 0;
	}
}

static void dpdk_close(struct cap *c)
{
	struct dpdk_cap *d = (struct dpdk_cap *)c;
	struct dpdk_port *p = d->port;

	release_held(d);
	pthread_mutex_lock(&dpdk_lock);
	p->claimed[d->queue] = false;
	if (--p->refs == 0)
		port_shutdown(p);
	pthread_mutex_unlock(&dpdk_lock);
	free(d);
}

static const struct cap_ops dpdk_ops = {
	.name = "dpdk",
	.next_batch = dpdk_next_batch,
	.stats = dpdk_stats,
	.close = dpdk_close,
};

/* Attach to (setting up if need be) the port; claim the queue. */
static struct dpdk_port *port_attach(const char *ifname,
                                     const struct cap_options *o,
                                     uint16_t nq, char *err, size_t errlen)
{
	struct dpdk_port *p;
	uint16_t pid;

	if (eal_init(o->dpdk_args, err, errlen) < 0)
		return NULL;
	if (find_port(ifname, &pid, err, errlen) < 0)
		return NULL;
	p = &ports[pid];
	if (!p->open && port_setup(p, pid, nq, o, err, errlen) < 0)
		return NULL;
	if (p->n_queues != nq) {
		cap_fmterr(err, errlen, "dpdk: %s is set up for %u queue%s, not "
		           "%u", p->name, p->n_queues, p->n_queues == 1 ? "" : "s",
		           nq);
		return NULL;
	}
	if (p->claimed[o->queue]) {
		cap_fmterr(err, errlen, "dpdk: %s: RX queue %u is already open",
		           p->name, o->queue);
		return NULL;
	}
	p->claimed[o->queue] = true;
	p->refs++;
	return p;
}

struct cap *cap_dpdk_open(const char *ifname, const struct cap_options *o,
                          char *err, size_t errlen)
{
	uint16_t nq = o->n_queues ? o->n_queues : 1;
	uint32_t timeout_ms = o->timeout_ms ? o->timeout_ms
	                                    : DPDK_TIMEOUT_MS_DEFAULT;
	struct dpdk_cap *d;

	if (o->filter != NULL && o->filter[0] != '\0') {
		cap_fmterr(err, errlen, "dpdk: BPF filters are not supported by "
		           "this driver");
		return NULL;
	}
	if (nq > DPDK_QUEUES_MAX || o->queue >= nq) {
		cap_fmterr(err, errlen, "dpdk: queue %u of %u: at most %u queues, "
		           "numbered from 0", o->queue, nq, DPDK_QUEUES_MAX);
		return NULL;
	}
	d = calloc(1, sizeof *d);
	if (d == NULL) {
		cap_fmterr(err, errlen, "dpdk: out of memory");
		return NULL;
	}
	pthread_mutex_lock(&dpdk_lock);
	d->port = port_attach(ifname, o, nq, err, errlen);
	pthread_mutex_unlock(&dpdk_lock);
	if (d->port == NULL) {
		free(d);
		return NULL;
	}
	d->base.ops = &dpdk_ops;
	d->base.live = true;
	d->queue = o->queue;
	d->ifindex = o->ifindex ? o->ifindex : 1;
	d->snaplen = o->snaplen && o->snaplen < CAP_SNAPLEN_DEFAULT ?
	             o->snaplen : CAP_SNAPLEN_DEFAULT;
	d->timeout_ticks = tsc_clock.hz / DPDK_MS_PER_SEC * timeout_ms;
	return &d->base;
}

#endif /* NTM_HAVE_DPDK */
