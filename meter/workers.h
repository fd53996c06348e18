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

#include "diag.h"
#include "engine.h"
#include "packet.h"

/* Bytes of ring per worker (packets are stored with their caplen). */
#define WORKERS_RING_BYTES (8u << 20)

struct workers;

/* Start one thread per shard of view (engine_n_shards(view) of them).
 * NULL with a message in d. */
struct workers *workers_start(struct engine *view, struct diag *d);

/* The worker for p: a symmetric hash of its IP addresses (after Ethernet,
 * up to two VLAN tags, Linux cooked v1/v2, raw IP); packets without an IP
 * header go to worker 0. */
unsigned workers_pick(const struct workers *w, const struct pkt *p);

/* Copy p to worker i's ring (waits while the ring is full).  A worker
 * that has been given ENGINE_SHARD_SAMPLES / ENGINE_TASKS_MAX packets
 * since the last sync makes this call quiesce and engine_sync first, so
 * no buffered RTT sample is ever dropped. */
void workers_push(struct workers *w, unsigned i, const struct pkt *p);

/* Wait until every pushed packet has been processed. */
void workers_quiesce(struct workers *w);

/* Packets pushed so far (all workers). */
uint64_t workers_pushed(const struct workers *w);

/* Quiesce, stop and join the threads, free; NULL is ignored.  The view and
 * its shards stay (engine_free(view) frees them). */
void workers_stop(struct workers *w);

#endif
