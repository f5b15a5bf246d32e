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

/**
 * Prunes every `everyMs` (the first time one interval after start) in the background. On FerretDB
 * v1 a prune passes over the whole collection, hence hourly rather than continuous; several
 * projector instances pruning at once delete the same documents, which is harmless.
 */
export function startSeenPruner(c: Pick<StatsCollections, 'seen'>, opts: { retentionMs: number; everyMs: number; logger: Logger }): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = pruneSeenEvents(c, opts.retentionMs)
      .then((deleted) => {
        if (deleted > 0) opts.logger.info({ deleted, retentionMs: opts.retentionMs }, 'pruned old stats de-duplication ids');
      })
      .catch((err: unknown) => opts.logger.warn({ err }, 'pruning stats de-duplication ids failed; will retry'))
      .finally(() => {
        running = null;
      });
  }, opts.everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
