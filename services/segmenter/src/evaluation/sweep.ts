import { evaluateProfile } from './engine';
import { updateProfiles, type EvalDeps } from './processor';

/**
 * Time alone flips answers ("no open in 90 days" on day 91): every profile carries the
 * earliest moment one of its answers can flip (nextCheckAt, indexed); the sweep re-evaluates
 * exactly the due states. Returns how many profiles it looked at.
 */
export async function sweepOnce(deps: EvalDeps, batchSize = 500, maxBatches = 20): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches; i++) {
    const now = deps.clock.now();
    const due = await deps.profiles
      .find({ nextCheckAt: { $ne: null, $lte: now } }, { ws: 1, cid: 1 })
      .limit(batchSize)
      .lean<Array<{ ws: string; cid: string }>>();
    if (due.length === 0) break;
    total += due.length;
    await updateProfiles(
      deps,
      due.map((d) => ({ ws: d.ws, cid: d.cid })),
      (p, view, at) => {
        const changes = evaluateProfile(p, view, { kind: 'due' }, at);
        return { changes, write: true };
      },
    );
    if (due.length < batchSize) break;
  }
  return total;
}

/** Runs sweepOnce every intervalMs until stopped; a failed sweep is logged and retried next tick. */
export function startSweeper(deps: EvalDeps, intervalMs: number, batchSize: number): { stop(): Promise<void>; kick(): Promise<number> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let stopped = false;
  const run = (): Promise<number> => {
    if (running) return running;
    running = sweepOnce(deps, batchSize)
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
