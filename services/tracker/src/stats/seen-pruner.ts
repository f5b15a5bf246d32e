import { startPruner, type Pruner } from '@payam/mongo';
import type { Logger } from '@payam/observability';
import type { StatsCollections } from './store';

/**
 * Deletes the projector's de-duplication ids (stats_seen_events: one per open, click and delay)
 * older than the retention, which would otherwise grow by one document per event forever.
 * A copy of an event arrives well within any sane retention: Kafka redelivers only what it still
 * holds (the broker's log retention, 7 days by default), SNS retries for hours at most, and the
 * tracker's spool replays as soon as Kafka is back. A copy older than the retention would count
 * again; that is the bound. Returns how many were deleted.
 */
export async function pruneSeenEvents(c: Pick<StatsCollections, 'seen'>, retentionMs: number, now = Date.now()): Promise<number> {
  const res = await c.seen.deleteMany({ at: { $lt: new Date(now - retentionMs) } });
  return res.deletedCount;
}

/** Prunes in the background every `everyMs` (startPruner: never two at once, failures retried). */
export function startSeenPruner(c: Pick<StatsCollections, 'seen'>, opts: { retentionMs: number; everyMs: number; logger: Logger }): Pruner {
  return startPruner({
    what: 'stats de-duplication ids',
    everyMs: opts.everyMs,
    prune: () => pruneSeenEvents(c, opts.retentionMs),
    logger: opts.logger,
  });
}
