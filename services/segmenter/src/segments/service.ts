import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '@payam/errors';
import { fromDoc, type ProfileDoc } from '../profiles/store';
import { evalRule } from '../rules/evaluate';
import { checkRule, referencedSegments, segmentRefPaths } from '../rules/validate';
import type { Rule } from '../rules/schema';
import { loadViews } from '../evaluation/processor';
import { createRecomputeJob, type JobDoc, type RecomputeDeps } from '../evaluation/recompute';
import { findTemplate } from './templates';
import { liveSegment, type SegmentDoc } from './segment';

export type ServiceDeps = RecomputeDeps & {
  recomputeBatch: number;
  /** The contacts topic's partition count: a recompute job is shared per partition. */
  partitions: number;
  /** Set while this instance consumes: its RecomputeRunner looks for work now. */
  kickRecompute?: () => void;
};

function view(d: SegmentDoc) {
  return {
    id: d._id,
    name: d.name,
    description: d.description,
    rule: d.rule,
    version: d.version,
    template: d.template,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

async function getDoc(deps: ServiceDeps, ws: string, id: string): Promise<SegmentDoc> {
  const d = await deps.segments.findOne({ _id: id, workspaceId: ws, deleted: false }).lean<SegmentDoc>();
  // Another workspace's segment is "not found", never "forbidden": ids are not to be probed.
  if (!d) throw new NotFoundError('segment', id);
  return d;
}

/**
 * Checks a rule for saving: its shape (paths under "rule"), that referenced segments exist in
 * the workspace, and that saving it creates no reference cycle.
 */
async function checkForSave(deps: ServiceDeps, ws: string, selfId: string, raw: unknown): Promise<Rule> {
  const checked = checkRule(raw, ['body', 'rule']);
  if (!checked.ok) throw new InvalidInputError(checked.problems);
  const others = await deps.segments.find({ workspaceId: ws, deleted: false }, { rule: 1, version: 1 }).lean<SegmentDoc[]>();
  const graph = new Map<string, Set<string>>(
    others.filter((o) => o._id !== selfId).map((o) => [o._id, referencedSegments(liveSegment(o).rule)]),
  );
  graph.set(selfId, referencedSegments(checked.rule));
  const problems = segmentRefPaths(raw, ['body', 'rule'])
    .filter((r) => !graph.has(r.id) || r.id === selfId)
    .map((r) => ({
      path: r.path.join('.'),
      message: r.id === selfId ? 'a segment cannot refer to itself' : `no segment ${r.id} in this workspace`,
    }));
  if (problems.length > 0) throw new InvalidInputError(problems);
  // A cycle through selfId exists iff selfId is reachable from its own references.
  const seen = new Set<string>();
  const stack = [...graph.get(selfId)!];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === selfId) throw new InvalidInputError([{ path: 'body.rule', message: 'segment references form a cycle' }]);
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(graph.get(id) ?? []));
  }
  return checked.rule;
}

/**
 * Starts a recompute in the background; its progress is readable at GET /recompute/:jobId. The
 * consuming instances share it (evaluation/recompute-runner.ts): each recomputes the partitions
 * it holds, this one at once, the others when they next look (within their sweep interval).
 */
export async function startRecompute(deps: ServiceDeps, ws: string, segmentIds: string[] | null): Promise<JobDoc> {
  const job = await createRecomputeJob(deps, ws, { segmentIds, partitions: deps.partitions });
  deps.kickRecompute?.();
  return job;
}

/** Segments that (transitively) refer to any of ids, plus ids. */
async function withDependents(deps: ServiceDeps, ws: string, ids: string[]): Promise<string[]> {
  const all = await deps.segments.find({ workspaceId: ws, deleted: false }, { rule: 1, version: 1 }).lean<SegmentDoc[]>();
  const out = new Set(ids);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of all) {
      if (out.has(s._id)) continue;
      if ([...referencedSegments(liveSegment(s).rule)].some((r) => out.has(r))) {
        out.add(s._id);
        grew = true;
      }
    }
  }
  return [...out];
}

export async function createSegment(
  deps: ServiceDeps,
  ws: string,
  input: { name: string; description?: string; rule: unknown; template?: string | null },
) {
  const id = `seg_${randomBytes(8).toString('hex')}`;
  await checkForSave(deps, ws, id, input.rule);
  const now = new Date(deps.clock.now());
  const doc: SegmentDoc = {
    _id: id,
    workspaceId: ws,
    name: input.name,
    description: input.description ?? '',
    rule: input.rule,
    version: 1,
    template: input.template ?? null,
    deleted: false,
    createdAt: now,
    updatedAt: now,
  };
  await deps.segments.create(doc);
  const job = await startRecompute(deps, ws, [id]);
  return { ...view(doc), recomputeJobId: job._id };
}

export async function createFromTemplate(deps: ServiceDeps, ws: string, key: string, name?: string) {
  const t = findTemplate(key);
  if (!t) throw new InvalidInputError([{ path: 'body.template', message: `unknown template ${key}` }]);
  return createSegment(deps, ws, { name: name ?? t.name, description: t.description, rule: t.rule, template: t.key });
}

export async function updateSegment(
  deps: ServiceDeps,
  ws: string,
  id: string,
  patch: { name?: string; description?: string; rule?: unknown },
) {
  const current = await getDoc(deps, ws, id);
  const ruleChanged = patch.rule !== undefined && JSON.stringify(patch.rule) !== JSON.stringify(current.rule);
  if (ruleChanged) await checkForSave(deps, ws, id, patch.rule);
  const set: Partial<SegmentDoc> = { updatedAt: new Date(deps.clock.now()) };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.description !== undefined) set.description = patch.description;
  if (ruleChanged) set.rule = patch.rule;
  const updated = await deps.segments
    .findOneAndUpdate(
      { _id: id, workspaceId: ws, version: current.version, deleted: false },
      { $set: set, ...(ruleChanged ? { $inc: { version: 1 } } : {}) },
      { new: true },
    )
    .lean<SegmentDoc>();
  if (!updated) throw new ConflictError('segment changed meanwhile; retry', { segmentId: id });
  if (!ruleChanged) return view(updated);
  const job = await startRecompute(deps, ws, await withDependents(deps, ws, [id]));
  return { ...view(updated), recomputeJobId: job._id };
}

export async function deleteSegment(deps: ServiceDeps, ws: string, id: string): Promise<void> {
  await getDoc(deps, ws, id);
  const users = (await withDependents(deps, ws, [id])).filter((s) => s !== id);
  if (users.length > 0) throw new ConflictError('segment is referenced by other segments', { referencedBy: users });
  await deps.segments.updateOne({ _id: id, workspaceId: ws }, { $set: { deleted: true, updatedAt: new Date(deps.clock.now()) } });
  // Exits every member (published) and drops the states.
  await startRecompute(deps, ws, [id]);
}

export async function getSegment(deps: ServiceDeps, ws: string, id: string) {
  return view(await getDoc(deps, ws, id));
}

export async function listSegments(deps: ServiceDeps, ws: string) {
  const docs = await deps.segments.find({ workspaceId: ws, deleted: false }).sort({ createdAt: 1 }).lean<SegmentDoc[]>();
  return docs.map(view);
}

export async function listMembers(deps: ServiceDeps, ws: string, id: string, cursor: string | undefined, limit: number) {
  await getDoc(deps, ws, id);
  const filter: Record<string, unknown> = { ws, memberOf: id };
  if (cursor) filter.cid = { $gt: cursor };
  const docs = await deps.profiles
    .find(filter, { cid: 1 })
    .sort({ cid: 1 })
    .limit(limit + 1)
    .lean<Array<{ cid: string }>>();
  const page = docs.slice(0, limit).map((d) => d.cid);
  return { contactIds: page, nextCursor: docs.length > limit ? page[page.length - 1] : null };
}

/** Counts a draft rule over the workspace's known contacts (nothing saved) and returns a sample. */
export async function previewRule(deps: ServiceDeps, ws: string, raw: unknown, sampleSize: number) {
  const checked = checkRule(raw, ['body', 'rule']);
  if (!checked.ok) throw new InvalidInputError(checked.problems);
  const wsView = (await loadViews(deps, [ws])).get(ws)!;
  const refs = segmentRefPaths(raw, ['body', 'rule']).filter((r) => !wsView.rules.has(r.id));
  if (refs.length > 0)
    throw new InvalidInputError(refs.map((r) => ({ path: r.path.join('.'), message: `no segment ${r.id} in this workspace` })));
  const now = deps.clock.now();
  let count = 0;
  let scanned = 0;
  const sample: string[] = [];
  for await (const d of deps.profiles.find({ ws, known: true }).lean<ProfileDoc[]>().cursor({ batchSize: 1000 })) {
    scanned++;
    const p = fromDoc(d);
    const o = evalRule(checked.rule, p, {
      now,
      settings: wsView.settings,
      topThresholds: wsView.topThresholds,
      segments: wsView.rules,
      segmentId: 'draft',
    });
    if (!o.v) continue;
    count++;
    if (sample.length < sampleSize) sample.push(p.cid);
  }
  return { count, scanned, sample };
}
