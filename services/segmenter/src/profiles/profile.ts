import type { ContactStatus } from '@payam/contracts';

/** Where one segment stands for one contact. */
export interface SegState {
  /** Member now. */
  m: boolean;
  /** Next moment (ms) the answer can flip with no event (a window closing); null: only an event can change it. */
  n: number | null;
  /** Membership changes so far: part of the deterministic id of each published change. */
  c: number;
  /** Segment version the answer was computed under. */
  v: number;
}

export interface PurchaseSummary {
  count: number;
  total: number;
  last: { at: number; amount: number; currency: string; orderId: string | null } | null;
  /** UTC day number → amount, for windowed sums (pruned past the longest window). */
  days: Record<string, number>;
}

export interface CustomEventEntry {
  /** Envelope id, to keep the kept list deterministic for any arrival order. */
  id: string;
  n: string;
  t: number;
  p: Record<string, unknown>;
}

/**
 * One contact's profile: the snapshot's fields plus everything folded from its events. Every
 * fold is commutative (counts, max/min, sums, bounded sorted lists), so the profile depends on
 * the set of events applied, not on their arrival order: the property full recompute == incremental relies on it.
 */
export interface Profile {
  ws: string;
  cid: string;
  /** The contact snapshot arrived; before that the profile is a placeholder that keeps events but joins no segment. */
  known: boolean;
  /** Snapshot version applied (-1 none). */
  sv: number;
  email: string | null;
  status: ContactStatus | null;
  attrs: Record<string, unknown>;
  listIds: string[];
  createdAt: number | null;
  firstSeenAt: number | null;
  lastSeenAt: number | null;
  /** Lifetime count per event key (see eventKeys). */
  cnt: Record<string, number>;
  /** Event key → UTC day number → count. */
  days: Record<string, Record<string, number>>;
  /** Event key → last occurredAt (ms). */
  lastAt: Record<string, number>;
  purchases: PurchaseSummary;
  /** Most recent custom events (bounded) for rules with property filters. */
  custom: CustomEventEntry[];
  /** Recently applied event ids (bounded): catches a re-published copy with a new offset. */
  ids: string[];
  /** "topic:partition" → highest offset applied: catches any Kafka replay, however old. */
  wm: Record<string, number>;
  seg: Record<string, SegState>;
  /** Writes so far (0: never stored, so the next write is an insert); see profiles/store.ts. */
  rev: number;
}

export function emptyProfile(ws: string, cid: string): Profile {
  return {
    ws,
    cid,
    known: false,
    sv: -1,
    email: null,
    status: null,
    attrs: {},
    listIds: [],
    createdAt: null,
    firstSeenAt: null,
    lastSeenAt: null,
    cnt: {},
    days: {},
    lastAt: {},
    purchases: { count: 0, total: 0, last: null, days: {} },
    custom: [],
    ids: [],
    wm: {},
    seg: {},
    rev: 0,
  };
}

export function profileId(ws: string, cid: string): string {
  // Workspace ids never contain "|" (EntityId), so the split is unambiguous.
  return `${ws}|${cid}`;
}

export function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

export function nextCheckOf(p: Profile): number | null {
  let min: number | null = null;
  for (const s of Object.values(p.seg)) if (s.n !== null && (min === null || s.n < min)) min = s.n;
  return min;
}

export function membersOf(p: Profile): string[] {
  return Object.entries(p.seg)
    .filter(([, s]) => s.m)
    .map(([id]) => id);
}
