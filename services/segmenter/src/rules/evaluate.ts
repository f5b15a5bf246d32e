import { createHash } from 'node:crypto';
import { dayOf, type Profile } from '../profiles/profile';
import { DAY_MS, type Comparison, type Figure, type PropFilter, type Rule, type ValueCondition } from './schema';
import { figureRules, pointsOf, type ModelSettings } from './figures';

/**
 * The pure evaluator: a rule, a profile and a moment → the answer and the next moment the
 * answer can flip without any event (`n`, null when only an event can change it). No I/O.
 *
 * `n` is conservative (it may be earlier than a real flip, never later): the sweep then finds
 * no change and stores the next one. Windows over daily buckets are whole UTC days: "30d" is
 * today and the 29 days before. Last-occurrence and date rules are exact to the millisecond.
 */

export interface EvalContext {
  now: number;
  settings: ModelSettings;
  /** Workspace statistics: "top N%" thresholds (lifetime spend) by percent. */
  topThresholds: Record<string, number>;
  /** Parsed rules of the workspace's segments, for segment references (evaluated inline). */
  segments: ReadonlyMap<string, Rule>;
  /** The segment being evaluated: the default salt of random buckets. */
  segmentId: string;
}

export interface Outcome {
  v: boolean;
  n: number | null;
}

function minN(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

export function compare(x: number, c: Comparison): boolean {
  return (
    (c.eq === undefined || x === c.eq) &&
    (c.neq === undefined || x !== c.neq) &&
    (c.gt === undefined || x > c.gt) &&
    (c.gte === undefined || x >= c.gte) &&
    (c.lt === undefined || x < c.lt) &&
    (c.lte === undefined || x <= c.lte)
  );
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  if (path in obj) return obj[path];
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function toTime(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

function looseEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Attributes arrive from CSV imports as strings: "42" equals 42.
  if (typeof a === 'string' && typeof b === 'number') return a.trim() !== '' && Number(a) === b;
  if (typeof a === 'number' && typeof b === 'string') return b.trim() !== '' && Number(b) === a;
  return false;
}

/** A condition on one value; missing values fail every operator except neq and exists:false. */
export function testValue(actual: unknown, c: ValueCondition, now: number): Outcome {
  const missing = actual === undefined || actual === null;
  switch (c.op) {
    case 'exists':
      return { v: !missing === c.value, n: null };
    case 'eq':
      return {
        v: !missing ? (Array.isArray(actual) ? actual.some((a) => looseEq(a, c.value)) : looseEq(actual, c.value)) : c.value === null,
        n: null,
      };
    case 'neq':
      return { v: !testValue(actual, { op: 'eq', value: c.value }, now).v, n: null };
    case 'in':
      return {
        v: !missing && c.value.some((x) => (Array.isArray(actual) ? actual.some((a) => looseEq(a, x)) : looseEq(actual, x))),
        n: null,
      };
    case 'contains':
      if (Array.isArray(actual)) return { v: actual.some((a) => looseEq(a, c.value)), n: null };
      return { v: typeof actual === 'string' && c.value !== null && actual.toLowerCase().includes(String(c.value).toLowerCase()), n: null };
    case 'starts_with':
      return { v: typeof actual === 'string' && actual.toLowerCase().startsWith(c.value.toLowerCase()), n: null };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const x = typeof actual === 'number' ? actual : typeof actual === 'string' && actual.trim() !== '' ? Number(actual) : NaN;
      return { v: !Number.isNaN(x) && compare(x, { [c.op]: c.value }), n: null };
    }
    case 'before':
    case 'after': {
      const t = toTime(actual);
      const bound = Date.parse(c.value);
      return { v: t !== null && (c.op === 'before' ? t < bound : t > bound), n: null };
    }
    case 'within_last':
    case 'older_than': {
      const t = toTime(actual);
      if (t === null) return { v: false, n: null };
      // within_last: t > now - d; flips when now reaches t + d.
      const within = t > now - c.value;
      const flip = t + c.value;
      return { v: c.op === 'within_last' ? within : !within, n: flip > now ? flip : null };
    }
  }
}

function fieldValue(p: Profile, field: string): unknown {
  switch (field) {
    case 'email':
      return p.email;
    case 'status':
      return p.status;
    case 'listIds':
      return p.listIds;
    case 'createdAt':
      return p.createdAt;
    case 'firstSeenAt':
      return p.firstSeenAt;
    case 'lastSeenAt':
      return p.lastSeenAt;
  }
  return undefined;
}

/** The bucket key an event rule counts. */
export function countKey(r: { event: string; name?: string; bounceType?: string; humanOnly?: boolean }): string {
  if (r.event === 'contact.custom' && r.name) return `contact.custom:${r.name}`;
  if (r.event === 'email.bounced' && r.bounceType) return `email.bounced:${r.bounceType}`;
  return r.humanOnly ? `${r.event}#h` : r.event;
}

/** Sum over daily buckets in the window [today - days + 1, ∞), and when the oldest counted day drops out. */
function windowed(buckets: Record<string, number> | undefined, days: number, now: number): { total: number; n: number | null } {
  if (!buckets) return { total: 0, n: null };
  const from = dayOf(now) - days + 1;
  let total = 0;
  let oldest: number | null = null;
  for (const [d, x] of Object.entries(buckets)) {
    const day = Number(d);
    if (day < from || x === 0) continue;
    total += x;
    if (oldest === null || day < oldest) oldest = day;
  }
  return { total, n: oldest === null ? null : (oldest + days) * DAY_MS };
}

function bucketOf(salt: string, contactId: string): number {
  return createHash('sha256').update(`${salt}\u001f${contactId}`).digest().readUInt32BE(0) % 100;
}

function matchesProps(props: Record<string, unknown>, where: PropFilter[], now: number): boolean {
  return where.every((f) => testValue(getPath(props, f.prop), f, now).v);
}

function figure<T>(
  p: Profile,
  list: Array<{ value: T; rule: Rule | null }>,
  ctx: EvalContext,
  depth: number,
): { value: T; n: number | null } {
  let n: number | null = null;
  for (const item of list) {
    if (item.rule === null) return { value: item.value, n };
    const o = evalRule(item.rule, p, ctx, depth);
    n = minN(n, o.n);
    if (o.v) return { value: item.value, n };
  }
  throw new Error('figure list without a default');
}

export function figureValue(p: Profile, f: Figure, ctx: EvalContext, depth = 0): { value: string | number; n: number | null } {
  const rules = figureRules(ctx.settings);
  switch (f) {
    case 'lifecycle':
      return figure(p, rules.lifecycle, ctx, depth);
    case 'tier':
      return figure(p, rules.tier, ctx, depth);
    case 'rfm.r':
      return figure(p, rules.r, ctx, depth);
    case 'rfm.f':
      return figure(p, rules.f, ctx, depth);
    case 'rfm.m':
      return figure(p, rules.m, ctx, depth);
    case 'rfm.total': {
      const [r, fq, m] = [figure(p, rules.r, ctx, depth), figure(p, rules.f, ctx, depth), figure(p, rules.m, ctx, depth)];
      return { value: r.value + fq.value + m.value, n: minN(r.n, minN(fq.n, m.n)) };
    }
    case 'points':
      return { value: pointsOf(p.purchases.total, ctx.settings), n: null };
    case 'purchases.count':
      return { value: p.purchases.count, n: null };
    case 'purchases.total':
      return { value: p.purchases.total, n: null };
  }
}

export function evalRule(rule: Rule, p: Profile, ctx: EvalContext, depth = 0): Outcome {
  if (depth > 64) throw new Error('rule nesting too deep (a segment reference cycle?)');
  if ('all' in rule || 'any' in rule) {
    const isAll = 'all' in rule;
    const children = isAll ? rule.all : rule.any;
    let v = isAll;
    let n: number | null = null;
    let settled = false; // a child that decides the answer and cannot change with time
    for (const c of children) {
      const o = evalRule(c, p, ctx, depth + 1);
      n = minN(n, o.n);
      if (isAll && !o.v) {
        v = false;
        if (o.n === null) settled = true;
      }
      if (!isAll && o.v) {
        v = true;
        if (o.n === null) settled = true;
      }
    }
    return { v, n: settled ? null : n };
  }
  if ('not' in rule) {
    const o = evalRule(rule.not, p, ctx, depth + 1);
    return { v: !o.v, n: o.n };
  }
  if ('attr' in rule) return testValue(getPath(p.attrs, rule.attr), rule, ctx.now);
  if ('field' in rule) return testValue(fieldValue(p, rule.field), rule, ctx.now);
  if ('profile' in rule) {
    const f = figureValue(p, rule.profile, ctx, depth + 1);
    return { v: testValue(f.value, rule, ctx.now).v, n: f.n };
  }
  if ('event' in rule) {
    if (rule.where && rule.name) {
      const from = rule.within === undefined ? -Infinity : (dayOf(ctx.now) - rule.within + 1) * DAY_MS;
      let count = 0;
      let oldest: number | null = null;
      for (const e of p.custom) {
        if (e.n !== rule.name || e.t < from || !matchesProps(e.p, rule.where, ctx.now)) continue;
        count++;
        if (oldest === null || e.t < oldest) oldest = e.t;
      }
      const n = rule.within === undefined || oldest === null ? null : (dayOf(oldest) + rule.within) * DAY_MS;
      return { v: compare(count, rule.count), n };
    }
    const key = countKey(rule);
    if (rule.within === undefined) return { v: compare(p.cnt[key] ?? 0, rule.count), n: null };
    const w = windowed(p.days[key], rule.within, ctx.now);
    return { v: compare(w.total, rule.count), n: w.n };
  }
  if ('last' in rule) {
    const at = p.lastAt[countKey({ event: rule.last, name: rule.name, humanOnly: rule.humanOnly })];
    if (at === undefined) return { v: false, n: null };
    if (rule.within !== undefined) {
      const flip = at + rule.within;
      return { v: ctx.now < flip, n: flip > ctx.now ? flip : null };
    }
    if (rule.before !== undefined) return { v: at < Date.parse(rule.before), n: null };
    return { v: at > Date.parse(rule.after!), n: null };
  }
  if ('sum' in rule) {
    if (rule.within === undefined) return { v: compare(p.purchases.total, rule.value), n: null };
    const w = windowed(p.purchases.days, rule.within, ctx.now);
    return { v: compare(w.total, rule.value), n: w.n };
  }
  if ('top' in rule) {
    const threshold = ctx.topThresholds[String(rule.percent)];
    return { v: threshold !== undefined && p.purchases.total > 0 && p.purchases.total >= threshold, n: null };
  }
  if ('bucket' in rule) return { v: compare(bucketOf(rule.salt ?? ctx.segmentId, p.cid), rule.bucket), n: null };
  if ('segment' in rule) {
    const ref = ctx.segments.get(rule.segment);
    if (!ref) return { v: false, n: null };
    return evalRule(ref, p, { ...ctx, segmentId: rule.segment }, depth + 1);
  }
  throw new Error(`unknown rule node ${JSON.stringify(rule)}`);
}
