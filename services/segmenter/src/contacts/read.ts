import { NotFoundError } from '@payam/errors';
import { profileId } from '../profiles/profile';
import { fromDoc, type ProfileDoc } from '../profiles/store';
import { figureValue, type EvalContext } from '../rules/evaluate';
import { loadViews, type EvalDeps } from '../evaluation/processor';

async function load(deps: EvalDeps, ws: string, cid: string) {
  const d = await deps.profiles.findOne({ _id: profileId(ws, cid) }).lean<ProfileDoc>();
  if (!d) throw new NotFoundError('contact', cid);
  return fromDoc(d);
}

/** The profile with its derived figures (lifecycle, tier, points, RFM) as of now. */
export async function contactProfile(deps: EvalDeps, ws: string, cid: string) {
  const p = await load(deps, ws, cid);
  const v = (await loadViews(deps, [ws])).get(ws)!;
  const ctx: EvalContext = {
    now: deps.clock.now(),
    settings: v.settings,
    topThresholds: v.topThresholds,
    segments: v.rules,
    segmentId: '',
  };
  const fig = (f: Parameters<typeof figureValue>[1]) => figureValue(p, f, ctx).value;
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    contactId: p.cid,
    known: p.known,
    snapshotVersion: p.sv,
    email: p.email,
    status: p.status,
    attributes: p.attrs,
    listIds: p.listIds,
    createdAt: iso(p.createdAt),
    firstSeenAt: iso(p.firstSeenAt),
    lastSeenAt: iso(p.lastSeenAt),
    counters: p.cnt,
    lastOccurrence: Object.fromEntries(Object.entries(p.lastAt).map(([k, t]) => [k, iso(t)])),
    dailyActivity: Object.fromEntries(
      Object.entries(p.days).map(([k, b]) => [
        k,
        Object.fromEntries(Object.entries(b).map(([d, n]) => [new Date(Number(d) * 86_400_000).toISOString().slice(0, 10), n])),
      ]),
    ),
    purchases: {
      count: p.purchases.count,
      total: p.purchases.total,
      last: p.purchases.last && { ...p.purchases.last, at: iso(p.purchases.last.at) },
    },
    loyalty: { points: fig('points'), tier: fig('tier') },
    rfm: { r: fig('rfm.r'), f: fig('rfm.f'), m: fig('rfm.m') },
    lifecycleStage: p.known ? fig('lifecycle') : null,
  };
}

export async function contactSegments(deps: EvalDeps, ws: string, cid: string) {
  const p = await load(deps, ws, cid);
  return {
    contactId: cid,
    segments: Object.entries(p.seg)
      .filter(([, s]) => s.m)
      .map(([segmentId, s]) => ({ segmentId, segmentVersion: s.v, nextCheckAt: s.n === null ? null : new Date(s.n).toISOString() })),
  };
}
