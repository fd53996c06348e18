/*
 * workers.h — `--workers N`: N threads, each running one shard of a view
 * engine (engine.h, "Shards"), fed by the control thread.
 *
 * The control thread (the one that calls everything here) reads the
 * capture sources and hands each packet to a worker: either the worker
 * numbered like the source it came from (AF_PACKET fanout member i, DPDK
 * RX queue i: the capture already spread both directions of a
 * conversation to the same place), or the worker a symmetric hash of its
 * IP address pair picks (workers_pick: both directions, and every fragment
 * of a datagram, go to the same worker, so each DNS exchange is seen by
 * exactly one shard).  Packets are copied into the worker's ring (the
 * source's buffers are reused at its next batch); a full ring makes the
 * control thread wait, so nothing is lost between capture and worker.
 *
 * workers_quiesce returns once every packet pushed so far has gone through
 * its shard; until the next push the control thread may then use the view
 * (engine_sync, engine_expire_dns, reading flows, SNMP, task changes).
 * Because the control thread pushes in capture order, a view synced at a
 * quiesce point has seen every earlier packet, which is what makes the
 * view's flows equal one engine's.
 *
 * Hot path: workers_push copies a packet and, once per batch at most, wakes
 * a sleeping worker (futex); no allocation, no locks.
 */
#ifndef NTM_WORKERS_H
#define NTM_WORKERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "engine.h"
#include "packet.h"

/* Bytes of ring per worker (packets are stored with their caplen). */
#define WORKERS_RING_BYTES (8u << 20)

/* A ring record: a header (time, lengths, interface, link) then caplen
 * bytes padded to WORKERS_REC_ALIGN, never split by the ring's end.
 * A packet keeps at most WORKERS_CAPLEN_MAX bytes (about a quarter of the
 * ring, far above CAP_SNAPLEN_DEFAULT, so only a file record can be
 * longer): the rest is cut (caplen only; wirelen, hence the octets
 * counted, stays) and counted in workers_truncated. */
#define WORKERS_REC_ALIGN  8u
#define WORKERS_REC_HDR    24u
#define WORKERS_CAPLEN_MAX (WORKERS_RING_BYTES / 4u - WORKERS_REC_HDR)

/* Packets one worker may be given between two syncs of the view before
 * workers_push forces one: a packet takes at most one RTT sample per task,
 * so the shard's sample buffer does not overflow.  (Exception: a TCP
 * segment carrying several pipelined DNS responses takes one per
 * message; should a shard's buffer overflow all the same, the lost
 * samples are counted in its st.rtt_samples_dropped, never silently.) */
#define WORKERS_SYNC_PACKETS (ENGINE_SHARD_SAMPLES / ENGINE_TASKS_MAX)

struct workers;

/* Start one thread per shard of view (engine_n_shards(view) of them,
 * which must be at least 2).  The threads block every signal, so SIGINT
 * and SIGTERM reach the control thread.  NULL with a message in d. */
struct workers *workers_start(struct engine *view, struct diag *d);

/* The worker for p: pairhash.h's symmetric hash of its IP addresses
 * (after Ethernet or Linux cooked v1/v2 with up to two 802.1Q / 802.1ad
 * tags, or raw IP), so both directions and every fragment of a datagram
 * pick alike.  Frames without both addresses captured (non-IP, other
 * encapsulations such as PPPoE or MPLS, cut short) go to worker 0. */
unsigned workers_pick(const struct workers *w, const struct pkt *p);

/* Copy p to worker i's ring (waits while the ring is full; i must be
 * below the number of workers).  A worker that has been given
 * WORKERS_SYNC_PACKETS packets since the last forced sync makes this call
 * quiesce and engine_sync the view first, so no buffered RTT sample is
 * ever dropped; the counts restart for every worker at each forced sync.
 * (A sync the caller makes itself does not restart them: syncing earlier
 * than needed is harmless.)  p->data need not outlive the call.
 *
 * Packets are handed to the worker in groups (WORKERS_PUBLISH_PACKETS, or
 * sooner when the ring fills); workers_quiesce hands on the rest. */
#define WORKERS_PUBLISH_PACKETS 32u
void workers_push(struct workers *w, unsigned i, const struct pkt *p);

/* Wait until every pushed packet has been processed (sleeping on the
 * workers' progress, not spinning).  Afterwards every change a worker
 * made to its shard is visible to the calling thread, and changes that
 * thread makes to the view or the shards are visible to the workers from
 * the next push on. */
void workers_quiesce(struct workers *w);

/* Packets pushed so far (all workers). */
uint64_t workers_pushed(const struct workers *w);
/* Syncs workers_push forced so far. */
uint64_t workers_forced_syncs(const struct workers *w);
/* Packets whose caplen was cut to WORKERS_CAPLEN_MAX. */
uint64_t workers_truncated(const struct workers *w);
/* Times a push found its worker's ring full and waited (the workers do
 * not keep up: a live capture may then drop packets in the kernel or the
 * NIC). */
uint64_t workers_full_waits(const struct workers *w);

/* One --stats line: "workers N pushed P forced_syncs F full_waits W
 * truncated T" (full_waits: times the reading thread found a ring full,
 * i.e. the workers did not keep up). */
void workers_print_stats(const struct workers *w, FILE *out);

/* Quiesce, stop and join the threads, free; NULL is ignored.  The view and
 * its shards stay (engine_free(view) frees them); the view is not synced
 * here (the caller calls engine_sync or engine_finish). */
void workers_stop(struct workers *w);

#endif
