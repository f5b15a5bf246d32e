import type { Profile, SegState } from '../profiles/profile';
import { evalRule, type EvalContext } from '../rules/evaluate';
import { ruleDeps, touches } from '../rules/deps';
import type { ModelSettings } from '../rules/figures';
import type { Rule } from '../rules/schema';
import type { LiveSegment } from '../segments/segment';

/**
 * Pure: which segments a contact is in, which changed, and what to store. Used alike by the
 * incremental path (only the segments an input touches), the sweep (only the states due) and
 * the full recompute (everything), so the three agree by construction.
 */

export interface WorkspaceView {
  segments: LiveSegment[];
  rules: ReadonlyMap<string, Rule>;
  deps: ReadonlyMap<string, ReadonlySet<string>>;
  settings: ModelSettings;
  topThresholds: Record<string, number>;
}

export function workspaceView(segments: LiveSegment[], settings: ModelSettings, topThresholds: Record<string, number>): WorkspaceView {
  const rules = new Map(segments.map((s) => [s.id, s.rule]));
  const deps = new Map(segments.map((s) => [s.id, ruleDeps(s.rule, settings, rules) as ReadonlySet<string>]));
  return { segments, rules, deps, settings, topThresholds };
}

export interface MembershipChange {
  workspaceId: string;
  contactId: string;
  segmentId: string;
  segmentVersion: number;
  type: 'segment.entered' | 'segment.exited';
  /** The contact's change counter for this segment after the change (deterministic event id). */
  counter: number;
  at: number;
}

export type Selection =
  { kind: 'all' } | { kind: 'touching'; keys: readonly string[] } | { kind: 'due' } | { kind: 'ids'; ids: ReadonlySet<string> };

/**
 * Re-evaluates the selected segments for one profile in place (p.seg) and returns the changes.
 * Placeholders (no snapshot yet) are members of nothing. Segments no longer defined are exited
 * when selection is 'all' or names them.
 */
export function evaluateProfile(p: Profile, view: WorkspaceView, sel: Selection, now: number): MembershipChange[] {
  const changes: MembershipChange[] = [];
  const set = (id: string, version: number, m: boolean, n: number | null) => {
    const old: SegState = p.seg[id] ?? { m: false, n: null, c: 0, v: version };
    const next: SegState = { m, n: n !== null && n > now ? n : null, c: old.c, v: version };
    if (m !== old.m) {
      next.c = old.c + 1;
      changes.push({
        workspaceId: p.ws,
        contactId: p.cid,
        segmentId: id,
        segmentVersion: version,
        type: m ? 'segment.entered' : 'segment.exited',
        counter: next.c,
        at: now,
      });
    }
    // Keep the state once a change happened: its counter keeps later event ids unique.
    if (next.m || next.n !== null || next.c > 0) p.seg[id] = next;
    else delete p.seg[id];
  };
  const live = new Set(view.segments.map((s) => s.id));
  if (sel.kind === 'all' || sel.kind === 'ids') {
    for (const [id, st] of Object.entries(p.seg)) {
      if (!live.has(id) && (sel.kind === 'all' || sel.ids.has(id))) set(id, st.v, false, null);
    }
  }
  for (const seg of view.segments) {
    if (sel.kind === 'touching' && !touches(view.deps.get(seg.id)!, sel.keys)) continue;
    if (sel.kind === 'due') {
      const st = p.seg[seg.id];
      if (!st || st.n === null || st.n > now) continue;
    }
    if (sel.kind === 'ids' && !sel.ids.has(seg.id)) continue;
    if (!p.known) {
      set(seg.id, seg.version, false, null);
      continue;
    }
    const ctx: EvalContext = { now, settings: view.settings, topThresholds: view.topThresholds, segments: view.rules, segmentId: seg.id };
    const o = evalRule(seg.rule, p, ctx);
    set(seg.id, seg.version, o.v, o.n);
  }
  return changes;
}

/** Every membership of a profile as evaluated from scratch (for tests and checks). */
export function freshMemberships(p: Profile, view: WorkspaceView, now: number): string[] {
  if (!p.known) return [];
  return view.segments
    .filter(
      (seg) =>
        evalRule(seg.rule, p, { now, settings: view.settings, topThresholds: view.topThresholds, segments: view.rules, segmentId: seg.id })
          .v,
    )
    .map((s) => s.id)
    .sort();
}
