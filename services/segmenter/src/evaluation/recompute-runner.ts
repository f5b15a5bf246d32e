import { pruneFinishedJobs, PRUNE_EVERY_MS } from './job-retention';
import { closeIfComplete, partitionsDone, runRecompute, type JobDoc, type RecomputeDeps } from './recompute';

export interface RecomputeRunnerOptions {
  /** The contacts topic's partition count (the three input topics are co-partitioned). */
  partitions: number;
  /** The contacts topic's partitions this instance holds now. */
  owned: () => number[];
  batchSize: number;
  /** How often running jobs are looked for (one created on another instance, partitions gained). */
  intervalMs: number;
}

/**
 * Runs at once on one instance: each is a pass over the workspace's profiles, so further jobs
 * wait their turn, oldest first, instead of all reading at once and starving the live path and
 * the API of the database.
 */
const MAX_ACTIVE_RUNS = 1;

/**
 * Shares recompute jobs between the consuming instances. Each instance recomputes only the
 * profiles of the partitions it holds, because it is their only writer (the consumer group gives
 * each contact's records to one member, and the profile cache relies on that); a job created on
 * any instance is found here by polling, and is done when every partition has been recomputed.
 * When the assignment changes, a run in progress stops at its next batch and its partitions are
 * recomputed from the start by whoever holds them next (a recompute is idempotent).
 */
export class RecomputeRunner {
  private readonly active = new Map<string, Promise<JobDoc>>();
  private generation = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | null = null;
  private prunedAt = -Infinity;

  constructor(
    private readonly deps: RecomputeDeps,
    private readonly opts: RecomputeRunnerOptions,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      void this.kick().then(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
      });
    };
    tick();
  }

  /** Called on every group join: runs in progress give their partitions up at their next batch. */
  assignmentChanged(): void {
    this.generation++;
  }

  /** Looks for work now (a job was just created here, or the assignment changed). */
  kick(): Promise<void> {
    this.polling ??= this.poll()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'looking for recompute jobs failed'))
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await Promise.all(this.active.values());
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      // Housekeeping: a failure is logged and retried next hour, and never keeps jobs from running.
      await pruneFinishedJobs(this.deps, now).then(
        (pruned) => pruned > 0 && this.deps.logger.info({ pruned }, 'finished recompute jobs pruned'),
        (err: unknown) => this.deps.logger.warn({ err }, 'pruning finished recompute jobs failed'),
      );
    }
    if (this.active.size >= MAX_ACTIVE_RUNS) return;
    for (const job of await this.deps.jobs.find({ status: 'running' }).sort({ startedAt: 1, _id: 1 }).lean<JobDoc[]>()) {
      if (this.active.size >= MAX_ACTIVE_RUNS) return;
      if (this.active.has(job._id)) continue;
      const partitions = job.partitions ?? this.opts.partitions;
      const done = await partitionsDone(this.deps, job._id);
      const mine = this.opts.owned().filter((p) => !done.has(p));
      if (mine.length === 0) {
        // Every partition this instance holds is done; the job may be waiting only for its close.
        if (done.size >= partitions) await closeIfComplete(this.deps, job, partitions);
        continue;
      }
      const generation = this.generation;
      const run = runRecompute(this.deps, job, {
        batchSize: this.opts.batchSize,
        scope: { partitions, mine, stillOwned: () => !this.stopped && this.generation === generation },
      }).finally(() => {
        this.active.delete(job._id);
        // The next job waiting need not wait for the next interval.
        if (!this.stopped) void this.kick();
      });
      this.active.set(job._id, run);
    }
  }
}
