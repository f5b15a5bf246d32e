import { randomBytes } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { partitionOfKey } from '@payam/kafka';
import { insertNew } from '@payam/mongo';
import { fromDoc, type ProfileDoc } from '../profiles/store';
import type { Rule } from '../rules/schema';
import { evaluateProfile, type Selection } from './engine';
import { loadViews, updateProfiles, type EvalDeps } from './processor';

export interface JobDoc {
  _id: string;
  workspaceId: string;
  /** null: every segment of the workspace. */
  segmentIds: string[] | null;
  status: 'running' | 'done' | 'failed';
  /**
   * The contacts topic's partition count when the job is shared by the consuming instances
   * (each recomputes the partitions it holds: RecomputeRunner); null when one process runs it
   * over every profile (the CLI, with the segmenter stopped).
   */
  partitions: number | null;
  processed: number;
  /**
   * The workspace's profiles, null until the run has counted them: the count is one pass over the
   * profiles on FerretDB (7 s at 36,000 here), made by the run, never by the request that starts it.
   */
  total: number | null;
  changes: number;
  error: string | null;
  /** When the job was asked for (the order runners take jobs in). */
  startedAt: Date;
  /**
   * When a run (of any instance) began reading profiles; null while the job waits. A waiting job
   * will read every change made before it begins, so a new request for the same workspace and
   * segments is answered with it instead of a second job (createRecomputeJob).
   */
  begunAt: Date | null;
  finishedAt: Date | null;
}

export type JobModel = Model<JobDoc>;

const jobSchema = new Schema<JobDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    segmentIds: { type: [String], default: null },
    status: { type: String, required: true },
    partitions: { type: Number, default: null },
    processed: { type: Number, default: 0 },
    total: { type: Number, default: null },
    changes: { type: Number, default: 0 },
    error: { type: String, default: null },
    startedAt: { type: Date, required: true },
    begunAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
  },
  { collection: 'recompute_jobs', versionKey: false, timestamps: false },
);
jobSchema.index({ workspaceId: 1, startedAt: -1 });
jobSchema.index({ status: 1 });

export function jobModel(conn: Connection): JobModel {
  return (conn.models.RecomputeJob as JobModel | undefined) ?? conn.model<JobDoc>('RecomputeJob', jobSchema);
}

/**
 * One partition of a shared job, recomputed: inserted once by the instance that finished it
 * (insert-only, so two instances never lose each other's completions). The job is done when
 * every partition has one.
 */
export interface JobPartDoc {
  _id: string;
  jobId: string;
  partition: number;
  processed: number;
  changes: number;
  at: Date;
}

export type JobPartModel = Model<JobPartDoc>;

export function jobPartModel(conn: Connection): JobPartModel {
  return (
    (conn.models.RecomputeJobPart as JobPartModel | undefined) ??
    conn.model<JobPartDoc>(
      'RecomputeJobPart',
      new Schema<JobPartDoc>(
        {
          _id: { type: String, required: true },
          jobId: { type: String, required: true, index: true },
          partition: { type: Number, required: true },
          processed: { type: Number, required: true },
          changes: { type: Number, required: true },
          at: { type: Date, required: true },
        },
        { collection: 'recompute_job_parts', versionKey: false, timestamps: false },
      ),
    )
  );
}

export type RecomputeDeps = EvalDeps & { jobs: JobModel; jobParts: JobPartModel };

function collectTops(rule: Rule, out: Set<number>): void {
  if ('all' in rule) rule.all.forEach((r) => collectTops(r, out));
  else if ('any' in rule) rule.any.forEach((r) => collectTops(r, out));
  else if ('not' in rule) collectTops(rule.not, out);
  else if ('top' in rule) out.add(rule.percent);
}

/**
 * "Top N% by value": the lifetime spend of the contact at the N% mark among contacts who
 * bought. A workspace-wide statistic, so it is refreshed here (full recompute) and incremental
 * evaluation compares against the stored value until the next refresh.
 */
async function refreshTopThresholds(deps: EvalDeps, ws: string, rules: Rule[]): Promise<void> {
  const percents = new Set<number>();
  rules.forEach((r) => collectTops(r, percents));
  if (percents.size === 0) return;
  const buyers = await deps.profiles.countDocuments({ ws, known: true, ptotal: { $gt: 0 } });
  const thresholds: Record<string, number> = {};
  for (const pct of percents) {
    if (buyers === 0) continue;
    const rank = Math.max(1, Math.ceil((buyers * pct) / 100));
    const at = await deps.profiles
      .find({ ws, known: true, ptotal: { $gt: 0 } }, { ptotal: 1 })
      .sort({ ptotal: -1, _id: 1 })
      .skip(rank - 1)
      .limit(1)
      .lean<Array<{ ptotal: number }>>();
    if (at[0]) thresholds[String(pct)] = at[0].ptotal;
  }
  const now = new Date(deps.clock.now());
  await deps.workspaces.updateOne({ _id: ws }, { $set: { topThresholds: thresholds, statsAt: now, updatedAt: now } }, { upsert: true });
}

/**
 * What one instance's run of a shared job covers: the profiles of contacts in `mine`, the
 * partitions it holds (so it is never a second writer of another instance's profiles).
 */
export interface RecomputeScope {
  /** The contacts topic's partition count. */
  partitions: number;
  mine: number[];
  /** False once the group's assignment changed (or the instance stops): the run gives up its partitions. */
  stillOwned(): boolean;
}

export interface RecomputeOptions {
  segmentIds?: string[] | null;
  /** See JobDoc.partitions; default null (one process covers everything). */
  partitions?: number | null;
  batchSize?: number;
  onProgress?: (processed: number, total: number) => void;
  /** Only for a run of a shared job (RecomputeRunner). */
  scope?: RecomputeScope;
}

/** A run that stopped because its partitions moved to another instance: the job goes on there. */
class PartitionsMoved extends Error {}

/** Whether a job over `covering` segments (null: all) recomputes every segment of `wanted`. */
function covers(covering: string[] | null, wanted: string[] | null): boolean {
  if (covering === null) return true;
  if (wanted === null) return false;
  const have = new Set(covering);
  return wanted.every((id) => have.has(id));
}

/**
 * Records a recompute job (run it with runRecompute, or let the instances' runners share it), or
 * answers with a job of the workspace that waits to begin and covers the same segments: that job
 * will read every change made before this call, so a second one would only repeat its work (a
 * burst of rule edits or POST /recompute costs one pass over the profiles, not one each).
 */
export async function createRecomputeJob(deps: RecomputeDeps, ws: string, opts: RecomputeOptions = {}): Promise<JobDoc> {
  const segmentIds = opts.segmentIds ?? null;
  const waiting = await deps.jobs.find({ workspaceId: ws, status: 'running', begunAt: null }).sort({ startedAt: 1 }).lean<JobDoc[]>();
  const same = waiting.find((w) => (w.partitions ?? null) === (opts.partitions ?? null) && covers(w.segmentIds, segmentIds));
  if (same) return same;
  const job: JobDoc = {
    _id: `job_${randomBytes(8).toString('hex')}`,
    workspaceId: ws,
    segmentIds: opts.segmentIds ?? null,
    status: 'running',
    partitions: opts.partitions ?? null,
    processed: 0,
    total: null,
    changes: 0,
    error: null,
    startedAt: new Date(deps.clock.now()),
    begunAt: null,
    finishedAt: null,
  };
  await deps.jobs.create(job);
  return job;
}

/**
 * Evaluates the chosen segments (default all) for every profile of a workspace from scratch (or,
 * with a scope, for those of the scope's partitions), streaming profiles with a cursor and
 * writing only the profiles whose states changed. Uses the same pure engine as the incremental
 * path, so both give the same memberships.
 */
export async function runRecompute(deps: RecomputeDeps, job: JobDoc, opts: RecomputeOptions = {}): Promise<JobDoc> {
  const ws = job.workspaceId;
  const batchSize = opts.batchSize ?? 1000;
  const scope = opts.scope;
  const mine = scope ? new Set(scope.mine) : null;
  /** This run's counts per partition (one entry, 0, without a scope). */
  const counts = new Map<number, { processed: number; changes: number }>();
  const count = (partition: number) => {
    let c = counts.get(partition);
    if (!c) counts.set(partition, (c = { processed: 0, changes: 0 }));
    return c;
  };
  scope?.mine.forEach(count);
  // Tracking starts before the cursor reads anything: a profile this process writes from here
  // on (an event, the sweep) is read again under the lock instead of taken from the cursor.
  const written = deps.store.trackWrites();
  try {
    // From here on a new request needs a job of its own: this run may already have read past it.
    if (!job.begunAt) {
      job.begunAt = new Date(deps.clock.now());
      // Another instance may have begun it since this copy was read: the first stamp stands.
      await deps.jobs.updateOne({ _id: job._id, begunAt: null }, { $set: { begunAt: job.begunAt } });
    }
    if (job.total === null) {
      job.total = await deps.profiles.countDocuments({ ws });
      // Shared jobs: every instance counts the same workspace; the first figure stands.
      await deps.jobs.updateOne({ _id: job._id, total: null }, { $set: { total: job.total } });
    }
    const first = (await loadViews(deps, [ws])).get(ws)!;
    await refreshTopThresholds(
      deps,
      ws,
      first.segments.map((s) => s.rule),
    );
    const view = (await loadViews(deps, [ws])).get(ws)!;
    const sel: Selection = job.segmentIds ? { kind: 'ids', ids: new Set(job.segmentIds) } : { kind: 'all' };
    const cursor = deps.profiles.find({ ws }).lean<ProfileDoc[]>().cursor({ batchSize });
    // Each profile's partition, computed once as the cursor yields it (0 without a scope).
    let batch: Array<{ doc: ProfileDoc; partition: number }> = [];
    const flush = async () => {
      if (scope && !scope.stillOwned()) throw new PartitionsMoved();
      const now = deps.clock.now();
      const docs = new Map(batch.map(({ doc }) => [doc._id, doc]));
      const partitionOf = new Map(batch.map(({ doc, partition }) => [doc.cid, partition]));
      const profiles = batch.map(({ doc }) => fromDoc(doc));
      batch = [];
      const dirty = [];
      for (const p of profiles) {
        const before = JSON.stringify(p.seg);
        const c = evaluateProfile(p, view, sel, now);
        if (c.length > 0 || JSON.stringify(p.seg) !== before) dirty.push(p);
      }
      // The evaluation above only finds who changes; the change itself is made under the
      // profiles' lock from their current state (an event or the sweep may have moved them
      // since the cursor read them), and published there.
      let published = 0;
      await updateProfiles(
        deps,
        dirty.map((p) => ({ ws: p.ws, cid: p.cid })),
        (p, v, at) => {
          const c = evaluateProfile(p, v, sel, at);
          published += c.length;
          count(partitionOf.get(p.cid)!).changes += c.length;
          return { changes: c, write: true };
        },
        new Map([[ws, view]]),
        // The cursor's copies: on FerretDB a read by $in is one pass over the whole collection.
        { docs, written },
      );
      for (const partition of partitionOf.values()) count(partition).processed++;
      job.processed += profiles.length;
      job.changes += published;
      opts.onProgress?.(job.processed, job.total ?? job.processed);
      // Shared: several instances add to the same job (for display; the parts are the exact sum).
      await deps.jobs.updateOne(
        { _id: job._id },
        scope
          ? { $inc: { processed: profiles.length, changes: published } }
          : { $set: { processed: job.processed, changes: job.changes, total: Math.max(job.total ?? 0, job.processed) } },
      );
    };
    for await (const doc of cursor) {
      const partition = scope ? partitionOfKey(doc.cid, scope.partitions) : 0;
      if (mine && !mine.has(partition)) continue;
      batch.push({ doc, partition });
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length > 0) await flush();
    if (scope) return await finishPartitions(deps, job, scope, counts);
    job.status = 'done';
  } catch (err) {
    if (err instanceof PartitionsMoved) {
      // Their new owner recomputes them from the start; this run's share of the display goes.
      await deps.jobs.updateOne({ _id: job._id }, { $inc: { processed: -sum(counts, 'processed'), changes: -sum(counts, 'changes') } });
      deps.logger.info({ jobId: job._id, partitions: scope?.mine }, 'recompute left to the partitions\' new owner');
      return job;
    }
    job.status = 'failed';
    job.error = err instanceof Error ? err.message : String(err);
    deps.logger.error({ err, jobId: job._id }, 'recompute failed');
  } finally {
    written.stop();
  }
  job.finishedAt = new Date(deps.clock.now());
  job.total = Math.max(job.total ?? 0, job.processed);
  await deps.jobs.updateOne(
    { _id: job._id },
    { $set: { status: job.status, error: job.error, finishedAt: job.finishedAt, processed: job.processed, total: job.total } },
  );
  return job;
}

function sum(counts: Map<number, { processed: number; changes: number }>, key: 'processed' | 'changes'): number {
  let n = 0;
  for (const c of counts.values()) n += c[key];
  return n;
}

/** Records the scope's partitions as recomputed, then closes the job if none is left. */
async function finishPartitions(
  deps: RecomputeDeps,
  job: JobDoc,
  scope: RecomputeScope,
  counts: Map<number, { processed: number; changes: number }>,
): Promise<JobDoc> {
  const at = new Date(deps.clock.now());
  await insertNew(
    deps.jobParts.collection,
    scope.mine.map((partition) => ({ _id: `${job._id}:${partition}`, jobId: job._id, partition, ...(counts.get(partition) ?? { processed: 0, changes: 0 }), at })),
  );
  return (await closeIfComplete(deps, job, scope.partitions)) ?? job;
}

/** The partitions of a shared job already recomputed (by any instance). */
export async function partitionsDone(deps: RecomputeDeps, jobId: string): Promise<Set<number>> {
  const parts = await deps.jobParts.find({ jobId }, { partition: 1 }).lean();
  return new Set(parts.map((p) => p.partition));
}

/**
 * Marks a shared job done once every partition is recomputed, with the parts' exact counts
 * (whichever instance sees it first; a second one changes nothing). Null while some are left.
 */
export async function closeIfComplete(deps: RecomputeDeps, job: JobDoc, partitions: number): Promise<JobDoc | null> {
  const parts = await deps.jobParts.find({ jobId: job._id }).lean();
  if (new Set(parts.map((p) => p.partition)).size < partitions) return null;
  const processed = parts.reduce((a, p) => a + p.processed, 0);
  const changes = parts.reduce((a, p) => a + p.changes, 0);
  const finishedAt = new Date(deps.clock.now());
  const total = Math.max(job.total ?? 0, processed);
  await deps.jobs.updateOne({ _id: job._id, status: 'running' }, { $set: { status: 'done', processed, changes, total, finishedAt } });
  return { ...job, status: 'done', processed, changes, total, finishedAt };
}
