import { startPruner, type Pruner } from '@payam/mongo';
import type { Logger } from '@payam/observability';
import type { StatsCollections } from './store';

/**
 * Deletes the projector's de-duplication ids (stats_seen_events: one per open, click and delay
 * that SES reported through SNS; projector.ts needsIdCheck) older than the retention, which would
 * otherwise grow by one document per such event forever. A copy of an event arrives well within
 * any sane retention: SNS retries for hours at most (Kafka's own redeliveries are recognised by
 * their offsets, not by these ids). A copy older than the retention would count again; that is
 * the bound. Returns how many were deleted.
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
