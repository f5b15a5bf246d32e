import { evaluateProfile } from './engine';
import { updateProfiles, type EvalDeps } from './processor';

/**
 * Time alone flips answers ("no open in 90 days" on day 91): every profile carries the
 * earliest moment one of its answers can flip (nextCheckAt, indexed); the sweep re-evaluates
 * exactly the due states of the profiles this process owns (`owns`: the contacts whose
 * partitions it holds, so the sweep is never a second writer of another process's profiles).
 * Returns how many profiles it looked at.
 */
export async function sweepOnce(deps: EvalDeps, owns: (cid: string) => boolean, batchSize = 500, maxBatches = 20): Promise<number> {
  const now = deps.clock.now();
  // Room for the due profiles of other processes too (they take theirs, so the set shrinks).
  const due = (
    await deps.profiles
      .find({ nextCheckAt: { $ne: null, $lte: now } }, { ws: 1, cid: 1 })
      .limit(batchSize * maxBatches * 4)
      .lean<Array<{ ws: string; cid: string }>>()
  ).filter((d) => owns(d.cid));
  const mine = due.slice(0, batchSize * maxBatches);
  for (let i = 0; i < mine.length; i += batchSize) {
    await updateProfiles(
      deps,
      mine.slice(i, i + batchSize).map((d) => ({ ws: d.ws, cid: d.cid })),
      (p, view, at) => {
        // Re-checked under the lock: an event may have moved the check since the query.
        if (p.rev === 0) return { changes: [], write: false };
        const changes = evaluateProfile(p, view, { kind: 'due' }, at);
        return { changes, write: true };
      },
    );
  }
  return mine.length;
}

/** Runs sweepOnce every intervalMs until stopped; a failed sweep is logged and retried next tick. */
export function startSweeper(
  deps: EvalDeps,
  owns: (cid: string) => boolean,
  intervalMs: number,
  batchSize: number,
): { stop(): Promise<void>; kick(): Promise<number> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let stopped = false;
  const run = (): Promise<number> => {
    if (running) return running;
    running = sweepOnce(deps, owns, batchSize)
      .catch((err: unknown) => {
        deps.logger.error({ err }, 'sweep failed');
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const tick = () => {
    if (stopped) return;
    void run().then(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    kick: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (running) await running;
    },
  };
}
