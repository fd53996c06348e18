/*
 * engine_shards.h — private to engine.c and engine_shards.c: what the
 * one-engine code calls on a sharded view (engine.h, "Shards"), and the
 * one hook of engine.c the shard code needs.  No other module includes
 * this; they use engine.h.
 */
#ifndef NTM_ENGINE_SHARDS_H
#define NTM_ENGINE_SHARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* ---- engine_shards.c ---- */

/* Free the shards of a view (engine_free calls it; partial init is fine). */
/* Housekeeping cadence on the packet path: every ENGINE_TICK packets the
 * engine re-checks the table's fill level and lets the garbage collector
 * look at ENGINE_TICK records, so recovery keeps pace with creation (at
 * most one new flow per packet) without a per-packet cost. */
#define ENGINE_TICK 64u

void engine_shards_free(struct engine *view);

/* Prepare one load per shard into ld->shard (all or nothing): 0, or -1
 * with errors in d and ld->shard NULL. */
int engine_shards_prepare(struct engine *view, size_t slot,
			  const struct ruleset *current,
			  const struct ruleset *standby,
			  struct engine_task_load *ld, struct diag *d);
/* Install ld->shard[i] in shard i (frees the array, clears ld->shard). */
void engine_shards_install(struct engine *view, size_t slot,
			   struct engine_task_load *ld, unsigned high_water);
/* Free ld->shard (the loads and the array). */
void engine_shards_load_free(struct engine *view, struct engine_task_load *ld);

/* A view flow of key k is being recovered or removed: the shards' records
 * of that key go with it. */
void engine_shards_forget(struct engine *view, const struct flow_key *k);

/* The shards' records of `set` that no view flow holds (engine_remove_set_flows
 * on a view, after the view's own flows went): removed. */
void engine_shards_remove_set(struct engine *view, unsigned set);

/* The shards' pending tables or counters changed without a packet (DNS
 * expiry, a task stopped): the next engine_sync must look. */
void engine_shards_touch(struct engine *view);
/* Tell the shards the view's fill (struct engine_pressure): after a sync
 * and after the view's garbage collection. */
void engine_shards_pressure(struct engine *view);

/* Slot's DNS pairing figures summed over the shards. */
void engine_shards_dns_stats(const struct engine *view, size_t slot,
			     struct dnspair_stats *out);

/* A shard counted a packet (reverse: the From counters) into flow idx, or
 * took an RTT sample for it, and the flow has static distributions that
 * depend on packet order: logged for the view to replay (engine_sync).
 * Per packet: no allocation. */
void engine_shards_log_packet(struct engine *shard, uint32_t idx, bool reverse,
			      uint32_t octets, uint64_t ts_ns, bool dns);
void engine_shards_log_rtt(struct engine *shard, uint32_t idx, uint64_t ts_ns,
			   uint64_t rtt_us);

/* ---- engine.c ---- */

/* Route the view table's recoveries through engine.c's hook (static
 * distributions back to the pool, engine_shards_forget). */
void engine_watch_recover(struct engine *e);


#endif
