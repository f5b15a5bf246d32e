import { randomBytes } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
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
  processed: number;
  total: number;
  changes: number;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export type JobModel = Model<JobDoc>;

const jobSchema = new Schema<JobDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    segmentIds: { type: [String], default: null },
    status: { type: String, required: true },
    processed: { type: Number, default: 0 },
    total: { type: Number, default: 0 },
    changes: { type: Number, default: 0 },
    error: { type: String, default: null },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
  },
  { collection: 'recompute_jobs', versionKey: false, timestamps: false },
);
jobSchema.index({ workspaceId: 1, startedAt: -1 });
jobSchema.index({ status: 1 });

export function jobModel(conn: Connection): JobModel {
  return (conn.models.RecomputeJob as JobModel | undefined) ?? conn.model<JobDoc>('RecomputeJob', jobSchema);
}

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

export interface RecomputeOptions {
  segmentIds?: string[] | null;
  batchSize?: number;
  onProgress?: (processed: number, total: number) => void;
}

/**
 * Evaluates the chosen segments (default all) for every profile of a workspace from scratch,
 * streaming profiles with a cursor and writing only the profiles whose states changed. Uses
 * the same pure engine as the incremental path, so both give the same memberships.
 */
/** Records a new recompute job (run it with runRecompute). */
export async function createRecomputeJob(deps: EvalDeps & { jobs: JobModel }, ws: string, opts: RecomputeOptions = {}): Promise<JobDoc> {
  const job: JobDoc = {
    _id: `job_${randomBytes(8).toString('hex')}`,
    workspaceId: ws,
    segmentIds: opts.segmentIds ?? null,
    status: 'running',
    processed: 0,
    total: await deps.profiles.countDocuments({ ws }),
    changes: 0,
    error: null,
    startedAt: new Date(deps.clock.now()),
    finishedAt: null,
  };
  await deps.jobs.create(job);
  return job;
}

export async function runRecompute(deps: EvalDeps & { jobs: JobModel }, job: JobDoc, opts: RecomputeOptions = {}): Promise<JobDoc> {
  const ws = job.workspaceId;
  const batchSize = opts.batchSize ?? 1000;
  // Tracking starts before the cursor reads anything: a profile this process writes from here
  // on (an event, the sweep) is read again under the lock instead of taken from the cursor.
  const written = deps.store.trackWrites();
  try {
    const first = (await loadViews(deps, [ws])).get(ws)!;
    await refreshTopThresholds(
      deps,
      ws,
      first.segments.map((s) => s.rule),
    );
    const view = (await loadViews(deps, [ws])).get(ws)!;
    const sel: Selection = job.segmentIds ? { kind: 'ids', ids: new Set(job.segmentIds) } : { kind: 'all' };
    const cursor = deps.profiles.find({ ws }).lean<ProfileDoc[]>().cursor({ batchSize });
    let batch: ProfileDoc[] = [];
    const flush = async () => {
      const now = deps.clock.now();
      const docs = new Map(batch.map((d) => [d._id, d]));
      const profiles = batch.map(fromDoc);
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
          return { changes: c, write: true };
        },
        new Map([[ws, view]]),
        // The cursor's copies: on FerretDB a read by $in is one pass over the whole collection.
        { docs, written },
      );
      job.processed += profiles.length;
      job.changes += published;
      opts.onProgress?.(job.processed, job.total);
      await deps.jobs.updateOne(
        { _id: job._id },
        { $set: { processed: job.processed, changes: job.changes, total: Math.max(job.total, job.processed) } },
      );
    };
    for await (const doc of cursor) {
      batch.push(doc);
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length > 0) await flush();
    job.status = 'done';
  } catch (err) {
    job.status = 'failed';
    job.error = err instanceof Error ? err.message : String(err);
    deps.logger.error({ err, jobId: job._id }, 'recompute failed');
  } finally {
    written.stop();
  }
  job.finishedAt = new Date(deps.clock.now());
  job.total = Math.max(job.total, job.processed);
  await deps.jobs.updateOne(
    { _id: job._id },
    { $set: { status: job.status, error: job.error, finishedAt: job.finishedAt, processed: job.processed, total: job.total } },
  );
  return job;
}
