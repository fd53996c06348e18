/*
 * cap_dpdk.c — DPDK ethdev capture back end (--driver dpdk).
 *
 * ifname names an ethdev port (a port name such as net_pcap0 or 0000:03:00.0,
 * or a port number).  EAL is initialised once per process, from the first
 * open's cap_options.dpdk_args (when NULL: the environment variable
 * NTM_DPDK_ARGS, for programs without an option for them); every later
 * open must pass the same string.
 * Each source owns one RX queue (cap_options.queue of n_queues): the first
 * open of a port configures all n_queues queues, with symmetric RSS when
 * there is more than one, and starts the port; the last close stops and
 * closes it.
 *
 * A device that cannot spread n_queues ways by itself (no RSS on IP/UDP/
 * TCP, or fewer RX queues: net_pcap, net_ring, net_null) gets one hardware
 * queue and software spreading instead: whichever source polls takes the
 * device's queue if no other source is at it (a try-lock per poll, never a
 * wait), and hands each packet to the ring of the source that a symmetric
 * hash of its IP addresses picks (both directions of a conversation, and
 * every fragment, go to the same source); each source reads its own ring.
 * Packets are taken from the device only while every ring has room for
 * them: a slow source holds the device queue back, so the device drops and
 * counts (imissed) as a NIC with a full ring does, and a trace replayed by
 * net_pcap loses nothing.  Packets for a source that has closed are
 * dropped and counted.
 *
 * Timestamps: when the port offers hardware RX timestamps and a readable
 * clock, the mbuf's timestamp dynamic field converted from NIC clock ticks
 * (calibrated against CLOCK_REALTIME at start); on net_pcap, the field it
 * fills from the trace (µs since the epoch: the trace's own time, cut to
 * µs); otherwise the TSC read once per batch, calibrated to ns against
 * CLOCK_REALTIME at start (the dynamic field's unit is driver-defined, so
 * it is not trusted elsewhere).
 *
 * Drops (imissed + rx_nombuf, + packets spread to a closed source) are per
 * port, not per queue: queue 0's source reports them so that the sum over a port's
 * sources is the port's count.  With software spreading the TSC timestamp
 * is taken when a source takes the packet from its ring.
 */
#include "cap_impl.h"
#include "pairhash.h"

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
#include <rte_ring.h>
#include <rte_spinlock.h>

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
/* Where the EAL arguments come from when cap_options has none. */
#define DPDK_ARGS_ENV "NTM_DPDK_ARGS"
/* EAL argument vector: words and total characters. */
#define DPDK_EAL_ARGS_MAX 64u
#define DPDK_EAL_CHARS_MAX 4096u
/* The symmetric RSS key is this 16-bit pattern repeated (Woo & Park):
 * swapping source and destination leaves the Toeplitz hash unchanged. */
#define DPDK_RSS_KEY_WORD 0x6d5au
#define DPDK_RSS_KEY_MAX 64u
#define DPDK_RSS_KEY_LEN_DEFAULT 40u  /* Toeplitz key of most NICs */
#define DPDK_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP)
/* Waiting for packets: spin this many empty polls, then sleep between
 * polls (an idle meter should not hold a core at 100 %). */
#define DPDK_IDLE_SPINS 64u
#define DPDK_IDLE_SLEEP_NS 100000L
#define DPDK_TIMEOUT_MS_DEFAULT 100u
/* Software spreading: ring per source (a power of two), bursts taken from
 * the device per poll at most. */
#define DPDK_SOFT_RING 4096u
#define DPDK_SOFT_BURSTS 4u
/* What the spreading hash reads of a frame. */
#define DPDK_ETH_HLEN 14u
#define DPDK_ETH_TYPE_OFF 12u
#define DPDK_VLAN_HLEN 4u
#define DPDK_ETHERTYPE_IPV4 0x0800u
#define DPDK_ETHERTYPE_IPV6 0x86ddu
#define DPDK_ETHERTYPE_VLAN 0x8100u
#define DPDK_ETHERTYPE_QINQ 0x88a8u
#define DPDK_IPV4_HLEN 20u
#define DPDK_IPV4_SRC_OFF 12u
#define DPDK_IPV4_DST_OFF 16u
#define DPDK_IPV6_HLEN 40u
#define DPDK_IPV6_SRC_OFF 8u
#define DPDK_IPV6_DST_OFF 24u
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

/* A source's queue: not opened yet (its packets wait in its ring), open,
 * or closed after use (its packets are dropped). */
enum dpdk_qstate { DPDK_Q_WAITING = 0, DPDK_Q_OPEN, DPDK_Q_CLOSED };

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
	uint8_t qstate[DPDK_QUEUES_MAX]; /* enum dpdk_qstate; atomic */
	struct rte_mempool *pool;
	enum dpdk_ts ts;
	struct dpdk_clock nic;     /* for DPDK_TS_DYN_CLOCK */
	uint64_t drop_base;        /* imissed + rx_nombuf at start */
	char name[RTE_ETH_NAME_MAX_LEN];
	/* software spreading (soft): device queue 0 feeds ring[source] */
	bool soft;
	rte_spinlock_t pull_lock;
	uint64_t soft_drops;       /* atomic: packets for closed sources */
	struct rte_ring *ring[DPDK_QUEUES_MAX];
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
#define DPDK_EAL_PREFIX_N (sizeof eal_prefix / sizeof eal_prefix[0])
/* Words of the user's string: the vector also ends with NULL. */
#define DPDK_EAL_USER_MAX (DPDK_EAL_ARGS_MAX - DPDK_EAL_PREFIX_N - 1u)

/* EAL answers these by printing and exiting the process. */
static bool eal_exits(const char *w)
{
	return strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0 ||
	       strcmp(w, "--log-level=help") == 0;
}

/* Split args on blanks into argv (words point into buf). */
static int eal_split(const char *args, char *buf, char **argv, int *argc,
                     char *err, size_t errlen)
{
	size_t n = args ? strlen(args) : 0;
	char *p = buf;

	*argc = 0;
	for (size_t i = 0; i < DPDK_EAL_PREFIX_N; i++)
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
		if ((size_t)*argc - DPDK_EAL_PREFIX_N >= DPDK_EAL_USER_MAX) {
			cap_fmterr(err, errlen, "dpdk: more than %zu EAL arguments",
			           (size_t)DPDK_EAL_USER_MAX);
			return -1;
		}
		argv[(*argc)++] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
		if (eal_exits(argv[*argc - 1])) {
			cap_fmterr(err, errlen, "dpdk: EAL argument '%s' is not "
			           "accepted here (EAL would exit the meter)",
			           argv[*argc - 1]);
			return -1;
		}
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

/*
 * At exit, when no source is open any more: close the ports no source ever
 * took (their devices hold resources, e.g. net_pcap's open trace) and
 * release EAL.  With a source still open another thread may be polling it,
 * so everything is left as it is.
 */
static void eal_atexit(void)
{
	uint16_t pid;

	pthread_mutex_lock(&dpdk_lock);
	for (pid = 0; pid < RTE_MAX_ETHPORTS; pid++)
		if (ports[pid].refs != 0) {
			pthread_mutex_unlock(&dpdk_lock);
			return;
		}
	RTE_ETH_FOREACH_DEV(pid)
		(void)rte_eth_dev_close(pid);
	(void)rte_eal_cleanup();
	pthread_mutex_unlock(&dpdk_lock);
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
	atexit(eal_atexit);
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

/* Free the software rings with the mbufs still in them. */
static void soft_free(struct dpdk_port *p)
{
	for (unsigned q = 0; q < DPDK_QUEUES_MAX; q++) {
		struct rte_mbuf *m;

		if (p->ring[q] == NULL)
			continue;
		while (rte_ring_dequeue(p->ring[q], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(p->ring[q]);
		p->ring[q] = NULL;
	}
}

static int soft_setup(struct dpdk_port *p, int sock, char *err, size_t errlen)
{
	char name[RTE_RING_NAMESIZE];

	rte_spinlock_init(&p->pull_lock);
	for (uint16_t q = 0; q < p->n_queues; q++) {
		snprintf(name, sizeof name, "ntm_sw_%u_%u", p->id, q);
		/* one consumer (the source); producers take turns under
		 * pull_lock, so single-producer is enough */
		p->ring[q] = rte_ring_create(name, DPDK_SOFT_RING, sock,
		                             RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (p->ring[q] == NULL) {
			cap_fmterr(err, errlen, "dpdk: %s: software ring %u: %s",
			           p->name, q, rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

static void port_shutdown(struct dpdk_port *p)
{
	/* errors here leave nothing to undo */
	(void)rte_eth_dev_stop(p->id);
	(void)rte_eth_dev_close(p->id);
	soft_free(p);
	rte_mempool_free(p->pool);
	memset(p, 0, sizeof *p);
}

/* Configure n_queues RX queues (and no TX queue), or one queue and
 * software spreading; start the port. */
static int port_setup(struct dpdk_port *p, uint16_t pid, uint16_t nq,
                      const struct cap_options *o, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxc;
	uint8_t key[DPDK_RSS_KEY_MAX];
	uint16_t nrxd, ntxd = 0, hwq;
	uint64_t hf;
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
	memset(&conf, 0, sizeof conf);
	hf = DPDK_RSS_HF & info.flow_type_rss_offloads;
	p->soft = nq > 1 && (hf == 0 || nq > info.max_rx_queues);
	hwq = p->soft ? 1 : nq;
	if (hwq > 1) {
		unsigned klen = info.hash_key_size ? info.hash_key_size
		                                   : DPDK_RSS_KEY_LEN_DEFAULT;

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
	r = rte_eth_dev_configure(pid, hwq, 0, &conf);
	if (r == -EINVAL) {
		/* some PMDs want at least one TX queue */
		ntxd = 1;
		r = rte_eth_dev_configure(pid, hwq, 1, &conf);
	}
	if (r != 0) {
		cap_fmterr(err, errlen, "dpdk: %s: configure %u RX queue%s: %s",
		           p->name, hwq, hwq == 1 ? "" : "s", rte_strerror(-r));
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
	 * a batch (and fill its software ring), lcore caches keep some */
	n_mbufs = (unsigned)hwq * nrxd + (unsigned)nq * DPDK_HOLD_MAX + ntxd +
	          (p->soft ? (unsigned)nq * DPDK_SOFT_RING : 0) +
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
	if (p->soft && soft_setup(p, sock, err, errlen) < 0)
		goto fail;
	rxc = info.default_rxconf;
	rxc.offloads = conf.rxmode.offloads;
	for (uint16_t q = 0; q < hwq; q++) {
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
	soft_free(p);
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

/*
 * The source a frame is spread to: a hash of its two IP addresses taken in
 * sorted order, so both directions (and every fragment) agree.  Frames
 * that are not IPv4/IPv6 (after up to two VLAN tags) go to source 0.
 */
static inline uint16_t soft_queue(const struct rte_mbuf *m, uint16_t nq)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), off = DPDK_ETH_HLEN;
	uint16_t type;
	uint64_t h;

	if (len < DPDK_ETH_HLEN)
		return 0;
	type = cap_be16(f + DPDK_ETH_TYPE_OFF);
	for (unsigned tags = 0; tags < 2 && (type == DPDK_ETHERTYPE_VLAN ||
	                                     type == DPDK_ETHERTYPE_QINQ); tags++) {
		if (off + DPDK_VLAN_HLEN > len)
			return 0;
		type = cap_be16(f + off + 2);
		off += DPDK_VLAN_HLEN;
	}
	if (type == DPDK_ETHERTYPE_IPV4 && off + DPDK_IPV4_HLEN <= len)
		h = pairhash_ipv4(f + off + DPDK_IPV4_SRC_OFF, f + off + DPDK_IPV4_DST_OFF);
	else if (type == DPDK_ETHERTYPE_IPV6 && off + DPDK_IPV6_HLEN <= len)
		h = pairhash_ipv6(f + off + DPDK_IPV6_SRC_OFF, f + off + DPDK_IPV6_DST_OFF);
	else
		return 0;
	/* the same worker as workers_pick (common/pairhash.h) */
	return (uint16_t)pairhash_pick(h, nq);
}

/* Packets that may be taken from the device now: any of them may go to
 * any source, so the least room in a live source's ring. */
static unsigned soft_room(const struct dpdk_port *p)
{
	unsigned room = DPDK_SOFT_BURSTS * DPDK_BURST;

	for (uint16_t q = 0; q < p->n_queues; q++) {
		unsigned f;

		if (__atomic_load_n(&p->qstate[q], __ATOMIC_ACQUIRE) == DPDK_Q_CLOSED)
			continue;
		f = rte_ring_free_count(p->ring[q]);
		if (f < room)
			room = f;
	}
	return room;
}

/* Move what the device holds into the sources' rings, unless another
 * source is doing it right now.  Only this (lock-holding) producer fills
 * the rings, so the room measured first can only grow meanwhile. */
static void soft_pull(struct dpdk_port *p)
{
	struct rte_mbuf *in[DPDK_BURST];
	uint64_t dropped = 0;
	unsigned room;

	if (!rte_spinlock_trylock(&p->pull_lock))
		return;
	room = soft_room(p);
	while (room != 0) {
		unsigned want = room < DPDK_BURST ? room : DPDK_BURST;
		uint16_t n = rte_eth_rx_burst(p->id, 0, in, (uint16_t)want);

		room -= n;
		for (uint16_t i = 0; i < n; i++) {
			uint16_t q = soft_queue(in[i], p->n_queues);

			if (__atomic_load_n(&p->qstate[q], __ATOMIC_ACQUIRE) ==
			        DPDK_Q_CLOSED ||
			    rte_ring_sp_enqueue(p->ring[q], in[i]) != 0) {
				rte_pktmbuf_free(in[i]);
				dropped++;
			}
		}
		if (n < want)
			break;
	}
	rte_spinlock_unlock(&p->pull_lock);
	if (dropped != 0)
		__atomic_fetch_add(&p->soft_drops, dropped, __ATOMIC_RELAXED);
}

/* Up to want packets of this source into mb. */
static inline unsigned take(struct dpdk_cap *d, struct rte_mbuf **mb,
                            unsigned want)
{
	struct dpdk_port *p = d->port;

	if (!p->soft)
		return rte_eth_rx_burst(p->id, d->queue, mb, (uint16_t)want);
	soft_pull(p);
	return rte_ring_sc_dequeue_burst(p->ring[d->queue], (void **)mb, want,
	                                 NULL);
}

/* Wait (bounded by the timeout) for the first burst. */
static unsigned first_burst(struct dpdk_cap *d, unsigned want)
{
	uint64_t deadline = 0;
	unsigned spins = 0;

	for (;;) {
		unsigned n = take(d, d->mb, want);
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
		n = take(d, d->mb + got, want);
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
		const struct dpdk_port *p = d->port;
		uint64_t now = port_drops(p->id);

		st->drops = (now > p->drop_base ? now - p->drop_base : 0) +
		            __atomic_load_n(&p->soft_drops, __ATOMIC_RELAXED);
	}
}

static void dpdk_close(struct cap *c)
{
	struct dpdk_cap *d = (struct dpdk_cap *)c;
	struct dpdk_port *p = d->port;

	release_held(d);
	pthread_mutex_lock(&dpdk_lock);
	__atomic_store_n(&p->qstate[d->queue], DPDK_Q_CLOSED, __ATOMIC_RELEASE);
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

	if (eal_init(o->dpdk_args ? o->dpdk_args : getenv(DPDK_ARGS_ENV), err,
	             errlen) < 0)
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
	if (p->qstate[o->queue] != DPDK_Q_WAITING) {
		cap_fmterr(err, errlen, "dpdk: %s: RX queue %u was opened before",
		           p->name, o->queue);
		return NULL;
	}
	__atomic_store_n(&p->qstate[o->queue], DPDK_Q_OPEN, __ATOMIC_RELEASE);
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
