import type { ContactEvent, ContactSnapshot, EmailEvent } from '@payam/contracts';
import { MAX_WINDOW_DAYS } from '../rules/schema';
import { dayOf, type Profile } from './profile';

/** An event the segmenter folds into a profile. */
export type ProfileEvent = EmailEvent | ContactEvent;

/** Where a record came from, for the replay watermark (absent for in-memory use). */
export interface Origin {
  topic: string;
  partition: number;
  offset: string;
}

export interface ReducerLimits {
  recentIds: number;
  customEvents: number;
}

export const DEFAULT_LIMITS: ReducerLimits = { recentIds: 256, customEvents: 200 };

/** The count keys an event increments (see countKey in the evaluator). */
export function eventKeys(e: ProfileEvent): string[] {
  const keys: string[] = [e.type];
  if (e.type === 'contact.custom') keys.push(`contact.custom:${e.name}`);
  if ((e.type === 'email.opened' || e.type === 'email.clicked') && !e.classification.machine) keys.push(`${e.type}#h`);
  if (e.type === 'email.bounced') keys.push(`email.bounced:${e.bounceType}`);
  return keys;
}

function seenBefore(p: Profile, id: string, origin: Origin | undefined): boolean {
  if (origin) {
    const wm = p.wm[`${origin.topic}:${origin.partition}`];
    if (wm !== undefined && Number(origin.offset) <= wm) return true;
  }
  return p.ids.includes(id);
}

function remember(p: Profile, id: string, origin: Origin | undefined, limits: ReducerLimits): void {
  if (origin) {
    const k = `${origin.topic}:${origin.partition}`;
    p.wm[k] = Math.max(p.wm[k] ?? -1, Number(origin.offset));
  }
  p.ids.push(id);
  if (p.ids.length > limits.recentIds) p.ids.splice(0, p.ids.length - limits.recentIds);
}

function seen(p: Profile, t: number): void {
  p.firstSeenAt = p.firstSeenAt === null ? t : Math.min(p.firstSeenAt, t);
}

/** Drops daily buckets no window can reach any more (windows are at most MAX_WINDOW_DAYS). */
export function prune(p: Profile, now: number): void {
  const floor = dayOf(now) - MAX_WINDOW_DAYS;
  for (const buckets of [...Object.values(p.days), p.purchases.days]) {
    for (const d of Object.keys(buckets)) if (Number(d) < floor) delete buckets[d];
  }
  const cut = (floor + 1) * 86_400_000;
  p.custom = p.custom.filter((e) => e.t >= cut);
}

/**
 * Folds one event into the profile; false when it was applied before (a replay changes
 * nothing). Every fold commutes, so arrival order does not matter.
 */
export function applyEvent(p: Profile, e: ProfileEvent, now: number, origin?: Origin, limits: ReducerLimits = DEFAULT_LIMITS): boolean {
  if (seenBefore(p, e.id, origin)) return false;
  remember(p, e.id, origin, limits);
  const t = Date.parse(e.occurredAt);
  const day = dayOf(t);
  const reachable = day > dayOf(now) - MAX_WINDOW_DAYS;
  for (const key of eventKeys(e)) {
    p.cnt[key] = (p.cnt[key] ?? 0) + 1;
    p.lastAt[key] = Math.max(p.lastAt[key] ?? -Infinity, t);
    if (reachable) {
      const b = (p.days[key] ??= {});
      b[day] = (b[day] ?? 0) + 1;
    }
  }
  seen(p, t);
  p.lastSeenAt = p.lastSeenAt === null ? t : Math.max(p.lastSeenAt, t);
  if (e.type === 'contact.purchase') {
    const s = p.purchases;
    s.count++;
    s.total = Math.round((s.total + e.amount) * 100) / 100;
    if (reachable) s.days[day] = Math.round(((s.days[day] ?? 0) + e.amount) * 100) / 100;
    if (!s.last || t > s.last.at || (t === s.last.at && e.amount > s.last.amount))
      s.last = { at: t, amount: e.amount, currency: e.currency, orderId: e.orderId };
  } else if (e.type === 'contact.custom' && reachable) {
    p.custom.push({ id: e.id, n: e.name, t, p: e.properties });
    // Keep the newest (by time, then id): the same set of events always keeps the same entries.
    p.custom.sort((a, b) => b.t - a.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (p.custom.length > limits.customEvents) p.custom.length = limits.customEvents;
  }
  prune(p, now);
  return true;
}

/** Applies a snapshot unless an equal or newer version is stored; true when it changed the profile. */
export function applySnapshot(p: Profile, s: ContactSnapshot): boolean {
  if (p.known && s.version <= p.sv) return false;
  p.known = true;
  p.sv = s.version;
  p.email = s.email;
  p.status = s.status;
  p.attrs = s.attributes;
  p.listIds = s.listIds;
  p.createdAt = Date.parse(s.createdAt);
  seen(p, p.createdAt);
  return true;
}
