import type { RecomputeDeps } from './recompute';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a finished recompute job stays readable (GET /recompute/:jobId) after it ends. */
export const FINISHED_JOB_RETENTION_MS = 7 * DAY_MS;
/** How often a runner prunes (it polls for running jobs every second or so). */
export const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * Deletes the recompute jobs that finished (done or failed) longer than `retentionMs` ago, and
 * their partition records; returns how many jobs went. Without it the jobs collection only grows,
 * and every runner reads it each poll (on FerretDB a pass over all of it). Parts go first: a
 * crash in between leaves a finished job without parts, which nothing reads.
 */
export async function pruneFinishedJobs(deps: Pick<RecomputeDeps, 'jobs' | 'jobParts'>, now: number, retentionMs = FINISHED_JOB_RETENTION_MS): Promise<number> {
  const old = await deps.jobs.find({ status: { $in: ['done', 'failed'] }, finishedAt: { $lt: new Date(now - retentionMs) } }, { _id: 1 }).lean();
  if (old.length === 0) return 0;
  const ids = old.map((j) => j._id);
  await deps.jobParts.deleteMany({ jobId: { $in: ids } });
  await deps.jobs.deleteMany({ _id: { $in: ids } });
  return ids.length;
}
