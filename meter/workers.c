/*
 * workers.c — `--workers N`: one thread per shard of a view engine, each
 * fed through a single-producer / single-consumer byte ring.
 *
 * Ring: positions are byte counts that only grow (head: bytes the control
 * thread has handed on; tail: bytes the worker has finished with); the
 * offset in the ring is the position modulo its power-of-two size.  A
 * record never wraps: when it does not fit before the ring's end, the
 * producer skips to the start (writing a skip marker when a header fits
 * there, otherwise the consumer knows a too-short end is skipped).
 *
 * Ordering: the producer fills a record, then publishes head (release);
 * the worker reads head (acquire), runs engine_packet on the records with
 * pkt.data pointing into the ring, then publishes tail (release).  That
 * pairing also carries the shard's state across a quiesce: the control
 * thread sees everything a worker wrote once it has read tail == head, and
 * the worker sees the control thread's changes with the next head.
 *
 * Sleeping (futexes, so an idle meter costs nothing and the control thread
 * never spins on a 2-core machine running 3 threads):
 *  - an idle worker announces `sleeping`, re-checks head, then waits on
 *    its `wake` word; a producer that publishes and finds the announcement
 *    takes it back (exchange) and wakes the worker: one syscall per
 *    sleep, none while the worker keeps up.
 *  - the control thread, waiting for room or for a quiesce, announces
 *    the tail it waits for (`want`), reads the worker's `progress` word,
 *    re-checks tail and waits on `progress`; a worker bumps `progress`
 *    after each batch and wakes it only once its tail reached `want`.
 * Every announce / re-check pair is sequentially consistent (a Dekker
 * handshake), so no wake-up is lost; the timeouts are a safety net only.
 */
#include "workers.h"

#include <inttypes.h>

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cacheline.h"
#include "decode.h"
#include "pairhash.h"

#define WK_RING_MASK ((uint64_t)WORKERS_RING_BYTES - 1u)
_Static_assert((WORKERS_RING_BYTES & (WORKERS_RING_BYTES - 1u)) == 0,
	       "ring size is a power of two");
_Static_assert(WORKERS_REC_HDR % WORKERS_REC_ALIGN == 0 &&
	       WORKERS_RING_BYTES % WORKERS_REC_ALIGN == 0,
	       "records stay aligned");

/* caplen value of a skip marker: the rest of the ring is unused */
#define WK_SKIP UINT32_MAX
/* records a worker processes before it publishes its progress, so a
 * producer waiting for room gets it early */
#define WK_CONSUME_BATCH 64u
/* unpublished bytes after which the producer publishes before
 * WORKERS_PUBLISH_PACKETS: big packets reach a worker sooner */
#define WK_PUBLISH_BYTES (WORKERS_RING_BYTES / 16u)
/* room a producer that found the ring full waits for */
#define WK_REFILL_BYTES (WORKERS_RING_BYTES / 8u)
/* polls of a word before sleeping on it: a worker that will get more
 * within microseconds should not cost the producer a wake-up syscall */
#define WK_WORKER_SPINS 512u
#define WK_CONTROL_SPINS 256u
/* futex timeouts (a missed wake-up would only cost this much) */
#define WK_WORKER_SLEEP_NS 100000000L
#define WK_CONTROL_SLEEP_NS 10000000L
#define WK_NS_PER_S 1000000000L

struct wk_rec {
	uint64_t ts_ns;
	uint32_t caplen;         /* WK_SKIP: skip to the ring's start */
	uint32_t wirelen;
	uint16_t ifindex;
	uint16_t link;
	uint32_t pad_;
};
_Static_assert(sizeof(struct wk_rec) == WORKERS_REC_HDR, "record header size");

struct worker {
	/* written by the control thread */
	alignas(CACHE_LINE) _Atomic uint64_t head;
	_Atomic uint32_t wake;       /* futex: bumped to wake the worker */
	_Atomic uint64_t want;       /* the control thread waits on progress
	                                for tail >= want (0: it does not) */
	_Atomic uint32_t stop;
	/* written by the worker */
	alignas(CACHE_LINE) _Atomic uint64_t tail;
	_Atomic uint32_t progress;   /* futex: bumped after each batch */
	_Atomic uint32_t sleeping;   /* announced; the producer takes it back */
	/* the control thread's own */
	alignas(CACHE_LINE) uint64_t prod;     /* written, maybe unpublished */
	uint64_t tail_seen;          /* last tail read: room known to be free */
	uint64_t published_at;       /* head as last published */
	unsigned unpublished;        /* packets since */
	uint64_t since_sync;         /* packets since the last forced sync */
	/* fixed after start */
	uint8_t *ring;
	struct engine *shard;
	pthread_t thread;
	bool started;
};

struct workers {
	struct engine *view;
	unsigned n;
	uint64_t pushed, forced_syncs, truncated, full_waits;
	struct worker *k;            /* n of them, cache-line aligned */
};

/* ---- futexes ------------------------------------------------------------ */

static void wk_futex_wait(_Atomic uint32_t *word, uint32_t seen, long ns)
{
	struct timespec ts = { ns / WK_NS_PER_S, ns % WK_NS_PER_S };

	/* EAGAIN (the word moved), EINTR, ETIMEDOUT: the caller re-checks */
	(void)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, seen,
		      &ts, NULL, 0);
}

static void wk_futex_wake(_Atomic uint32_t *word)
{
	(void)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX,
		      NULL, NULL, 0);
}

static inline void wk_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* ---- records ------------------------------------------------------------ */

static inline uint64_t wk_rec_len(uint32_t caplen)
{
	return WORKERS_REC_HDR +
	       (((uint64_t)caplen + WORKERS_REC_ALIGN - 1u) & ~(uint64_t)(WORKERS_REC_ALIGN - 1u));
}

/* Bytes from pos to the ring's end. */
static inline uint64_t wk_to_end(uint64_t pos)
{
	return WORKERS_RING_BYTES - (pos & WK_RING_MASK);
}

/* ---- the worker thread -------------------------------------------------- */

/* Nothing to do at pos: spin a little, then sleep until woken (or the
 * timeout).  Returns as soon as head moved or stop is set. */
static void worker_idle(struct worker *k, uint64_t pos)
{
	for (unsigned i = 0; i < WK_WORKER_SPINS; i++) {
		if (atomic_load_explicit(&k->head, memory_order_relaxed) != pos ||
		    atomic_load_explicit(&k->stop, memory_order_relaxed))
			return;
		wk_cpu_relax();
	}
	atomic_store(&k->sleeping, 1);
	uint32_t seen = atomic_load(&k->wake);
	if (atomic_load(&k->head) == pos && !atomic_load(&k->stop))
		wk_futex_wait(&k->wake, seen, WK_WORKER_SLEEP_NS);
	atomic_store(&k->sleeping, 0);
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	uint64_t pos = atomic_load_explicit(&k->tail, memory_order_relaxed);

	for (;;) {
		uint64_t head = atomic_load_explicit(&k->head, memory_order_acquire);

		if (head == pos) {
			if (atomic_load_explicit(&k->stop, memory_order_acquire))
				break;
			worker_idle(k, pos);
			continue;
		}
		for (unsigned n = 0; pos != head && n < WK_CONSUME_BATCH;) {
			uint64_t end = wk_to_end(pos);
			struct wk_rec r;

			if (end < WORKERS_REC_HDR) {
				pos += end;
				continue;
			}
			memcpy(&r, k->ring + (pos & WK_RING_MASK), sizeof r);
			if (r.caplen == WK_SKIP) {
				pos += end;
				continue;
			}
			struct pkt p = {
				.ts_ns = r.ts_ns, .caplen = r.caplen,
				.wirelen = r.wirelen,
				.data = k->ring + (pos & WK_RING_MASK) + WORKERS_REC_HDR,
				.ifindex = r.ifindex, .link = r.link,
			};
			engine_packet(k->shard, &p);
			pos += wk_rec_len(r.caplen);
			n++;
		}
		atomic_store_explicit(&k->tail, pos, memory_order_release);
		atomic_fetch_add(&k->progress, 1);
		uint64_t want = atomic_load(&k->want);
		if (want != 0 && pos >= want)
			wk_futex_wake(&k->progress);
	}
	return NULL;
}

/* ---- the control thread's side ------------------------------------------ */

/* Hand what was written to the worker; wake it if it announced sleep. */
static void wk_publish(struct worker *k)
{
	if (k->prod == k->published_at)
		return;
	atomic_store(&k->head, k->prod);
	k->published_at = k->prod;
	k->unpublished = 0;
	if (atomic_load(&k->sleeping) && atomic_exchange(&k->sleeping, 0)) {
		atomic_fetch_add(&k->wake, 1);
		wk_futex_wake(&k->wake);
	}
}

/* Wait until the worker's tail reaches at least `want` (> 0); returns
 * it. */
static uint64_t wk_wait_tail(struct worker *k, uint64_t want)
{
	uint64_t tail;

	for (unsigned i = 0; i < WK_CONTROL_SPINS; i++) {
		tail = atomic_load_explicit(&k->tail, memory_order_acquire);
		if (tail >= want)
			return tail;
		wk_cpu_relax();
	}
	atomic_store(&k->want, want);
	for (;;) {
		uint32_t seen = atomic_load(&k->progress);
		tail = atomic_load(&k->tail);
		if (tail >= want)
			break;
		wk_futex_wait(&k->progress, seen, WK_CONTROL_SLEEP_NS);
	}
	atomic_store_explicit(&k->want, 0, memory_order_relaxed);
	/* the seq_cst load above already acquired the worker's writes */
	return tail;
}

static void wk_quiesce_one(struct worker *k)
{
	wk_publish(k);
	if (k->tail_seen != k->prod)
		k->tail_seen = wk_wait_tail(k, k->prod);
}

void workers_quiesce(struct workers *w)
{
	/* publish everything first so the workers run side by side */
	for (unsigned i = 0; i < w->n; i++)
		wk_publish(&w->k[i]);
	for (unsigned i = 0; i < w->n; i++)
		wk_quiesce_one(&w->k[i]);
}

static void wk_forced_sync(struct workers *w)
{
	workers_quiesce(w);
	engine_sync(w->view);
	for (unsigned i = 0; i < w->n; i++)
		w->k[i].since_sync = 0;
	w->forced_syncs++;
}

void workers_push(struct workers *w, unsigned i, const struct pkt *p)
{
	struct worker *k = &w->k[i];
	uint32_t caplen = p->caplen;

	if (k->since_sync >= WORKERS_SYNC_PACKETS)
		wk_forced_sync(w);
	if (caplen > WORKERS_CAPLEN_MAX) {
		caplen = WORKERS_CAPLEN_MAX;
		w->truncated++;
	}
	uint64_t len = wk_rec_len(caplen), end = wk_to_end(k->prod);
	uint64_t skip = end < len ? end : 0;

	if (k->prod + skip + len - k->tail_seen > WORKERS_RING_BYTES) {
		k->tail_seen = atomic_load_explicit(&k->tail, memory_order_acquire);
		if (k->prod + skip + len - k->tail_seen > WORKERS_RING_BYTES) {
			/* full: wait for a good part of the ring, not for one
			 * packet's room each time */
			uint64_t need = k->prod + skip + len - WORKERS_RING_BYTES;
			uint64_t keep = WORKERS_RING_BYTES - WK_REFILL_BYTES;
			uint64_t some = k->prod > keep ? k->prod - keep : 0;

			wk_publish(k);
			w->full_waits++;
			k->tail_seen = wk_wait_tail(k, need > some ? need : some);
		}
	}
	if (skip) {
		if (end >= WORKERS_REC_HDR) {
			struct wk_rec m = { .caplen = WK_SKIP };
			memcpy(k->ring + (k->prod & WK_RING_MASK), &m, sizeof m);
		}
		k->prod += skip;
	}
	uint8_t *at = k->ring + (k->prod & WK_RING_MASK);
	struct wk_rec r = {
		.ts_ns = p->ts_ns, .caplen = caplen, .wirelen = p->wirelen,
		.ifindex = p->ifindex, .link = p->link,
	};
	memcpy(at, &r, sizeof r);
	if (caplen)     /* data may be NULL then */
		memcpy(at + WORKERS_REC_HDR, p->data, caplen);
	k->prod += len;
	k->since_sync++;
	w->pushed++;
	if (++k->unpublished >= WORKERS_PUBLISH_PACKETS ||
	    k->prod - k->published_at >= WK_PUBLISH_BYTES)
		wk_publish(k);
}

uint64_t workers_pushed(const struct workers *w)
{
	return w->pushed;
}

uint64_t workers_forced_syncs(const struct workers *w)
{
	return w->forced_syncs;
}

uint64_t workers_truncated(const struct workers *w)
{
	return w->truncated;
}

uint64_t workers_full_waits(const struct workers *w)
{
	return w->full_waits;
}

void workers_print_stats(const struct workers *w, FILE *out)
{
	fprintf(out, "workers %u pushed %" PRIu64 " forced_syncs %" PRIu64
		" full_waits %" PRIu64 " truncated %" PRIu64 "\n", w->n, w->pushed,
		w->forced_syncs, w->full_waits, w->truncated);
}

/* ---- spreading ------------------------------------------------------- */

unsigned workers_pick(const struct workers *w, const struct pkt *p)
{
	const uint8_t *src, *dst;
	/* the link layer as decode walks it, addresses only (never ports:
	 * later fragments have none) */
	switch (decode_ip_addrs(p, &src, &dst)) {
	case PAIRHASH_IPV4_LEN:
		return pairhash_pick(pairhash_ipv4(src, dst), w->n);
	case PAIRHASH_IPV6_LEN:
		return pairhash_pick(pairhash_ipv6(src, dst), w->n);
	default:
		return 0;
	}
}

/* ---- start and stop ----------------------------------------------------- */

static void wk_stop_threads(struct workers *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		struct worker *k = &w->k[i];

		if (!k->started)
			continue;
		atomic_store(&k->stop, 1);
		atomic_store(&k->sleeping, 0);
		atomic_fetch_add(&k->wake, 1);
		wk_futex_wake(&k->wake);
	}
	for (unsigned i = 0; i < w->n; i++) {
		if (w->k[i].started)
			pthread_join(w->k[i].thread, NULL);
		w->k[i].started = false;
	}
}

static void wk_free(struct workers *w)
{
	for (unsigned i = 0; i < w->n; i++)
		if (w->k[i].ring)
			munmap(w->k[i].ring, WORKERS_RING_BYTES);
	free(w->k);
	free(w);
}

struct workers *workers_start(struct engine *view, struct diag *d)
{
	size_t n = engine_n_shards(view);

	if (n < 2) {
		diag_error(d, 0, 0, "workers: the engine has %zu shards (a view "
		           "of at least 2 is needed)", n);
		return NULL;
	}
	struct workers *w = calloc(1, sizeof *w);
	size_t bytes = n * sizeof *w->k;

	if (!w || !(w->k = aligned_alloc(CACHE_LINE, bytes))) {
		free(w);
		diag_error(d, 0, 0, "workers: out of memory");
		return NULL;
	}
	memset(w->k, 0, bytes);
	w->view = view;
	w->n = (unsigned)n;
	for (unsigned i = 0; i < w->n; i++) {
		w->k[i].shard = engine_shard(view, i);
		/* pages of their own, touched only as the ring fills */
		void *ring = mmap(NULL, WORKERS_RING_BYTES, PROT_READ | PROT_WRITE,
		                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		w->k[i].ring = ring == MAP_FAILED ? NULL : ring;
		if (!w->k[i].ring) {
			diag_error(d, 0, 0, "workers: out of memory for %zu rings "
			           "of %u bytes", n, WORKERS_RING_BYTES);
			wk_free(w);
			return NULL;
		}
	}

	/* the threads inherit a mask blocking every signal */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = 0;
	for (unsigned i = 0; i < w->n && rc == 0; i++) {
		rc = pthread_create(&w->k[i].thread, NULL, worker_main, &w->k[i]);
		if (rc == 0) {
			char name[16];     /* the kernel keeps 15 characters */

			w->k[i].started = true;
			snprintf(name, sizeof name, "ntm-worker%u",
			         i % ENGINE_SHARDS_MAX);
			pthread_setname_np(w->k[i].thread, name);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		wk_stop_threads(w);
		wk_free(w);
		diag_error(d, 0, 0, "workers: starting a thread: %s", strerror(rc));
		return NULL;
	}
	return w;
}

void workers_stop(struct workers *w)
{
	if (!w)
		return;
	workers_quiesce(w);
	wk_stop_threads(w);
	wk_free(w);
}
