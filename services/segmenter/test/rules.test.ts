import { emptyProfile, type Profile } from '../src/profiles/profile';
import { applyEvent, applySnapshot } from '../src/profiles/reducer';
import { evalRule, figureValue, type EvalContext } from '../src/rules/evaluate';
import { DEFAULT_SETTINGS } from '../src/rules/figures';
import { checkRule } from '../src/rules/validate';
import { custom, DAY, emailEvent, purchase, signup, snapshot, T0 } from './fixtures';

const WS = 'ws_rules';

/** A contact with some history: known 100 days, opens (one machine), a click, two purchases, a custom event. */
function history(): Profile {
  const p = emptyProfile(WS, 'c1');
  applySnapshot(
    p,
    snapshot(WS, 'c1', T0 - 100 * DAY, {
      attributes: {
        country: 'DE',
        plan: 'pro',
        age: 41,
        tags: ['vip', 'beta'],
        birthday: '1985-05-01',
        trialEndsAt: new Date(T0 - 5 * DAY).toISOString(),
      },
    }),
  );
  applyEvent(p, emailEvent(WS, 'c1', 'email.opened', T0 - 2 * DAY), T0);
  applyEvent(p, emailEvent(WS, 'c1', 'email.opened', T0 - 40 * DAY, { machine: true }), T0);
  applyEvent(p, emailEvent(WS, 'c1', 'email.clicked', T0 - 10 * DAY, { machine: true }), T0);
  applyEvent(p, purchase(WS, 'c1', T0 - 20 * DAY, 120), T0);
  applyEvent(p, purchase(WS, 'c1', T0 - 200 * DAY, 400), T0);
  applyEvent(p, custom(WS, 'c1', T0 - 3 * DAY, 'demo_requested', { product: 'crm', seats: 12 }), T0);
  return p;
}

const ctx: EvalContext = { now: T0, settings: DEFAULT_SETTINGS, topThresholds: { '20': 500 }, segments: new Map(), segmentId: 'seg_x' };

const cases: Array<[string, unknown, boolean]> = [
  ['attr eq', { attr: 'country', op: 'eq', value: 'DE' }, true],
  ['attr neq', { attr: 'country', op: 'neq', value: 'DE' }, false],
  ['attr in', { attr: 'plan', op: 'in', value: ['free', 'pro'] }, true],
  ['attr contains (array)', { attr: 'tags', op: 'contains', value: 'vip' }, true],
  ['attr contains (string)', { attr: 'plan', op: 'contains', value: 'R' }, true],
  ['attr starts_with', { attr: 'country', op: 'starts_with', value: 'd' }, true],
  ['attr gt', { attr: 'age', op: 'gt', value: 40 }, true],
  ['attr lte', { attr: 'age', op: 'lte', value: 40 }, false],
  ['attr exists', { attr: 'age', op: 'exists', value: true }, true],
  ['attr missing exists:false', { attr: 'nope', op: 'exists', value: false }, true],
  ['attr date before (absolute)', { attr: 'birthday', op: 'before', value: '1990-01-01' }, true],
  ['attr date within_last (relative)', { attr: 'trialEndsAt', op: 'within_last', value: '7d' }, true],
  ['attr date older_than (relative)', { attr: 'trialEndsAt', op: 'older_than', value: '7d' }, false],
  ['field status', { field: 'status', op: 'eq', value: 'subscribed' }, true],
  ['field email ends', { field: 'email', op: 'contains', value: '@example.com' }, true],
  ['event count within window', { event: 'email.opened', within: '30d', count: { gte: 1 } }, true],
  ['event count all time', { event: 'email.opened', count: { eq: 2 } }, true],
  ['event human-only excludes machine opens', { event: 'email.opened', within: '60d', humanOnly: true, count: { gte: 2 } }, false],
  ['event human-only click (machine click only)', { event: 'email.clicked', humanOnly: true, count: { gte: 1 } }, false],
  ['custom event by name', { event: 'contact.custom', name: 'demo_requested', within: '7d', count: { gte: 1 } }, true],
  [
    'custom event property filter',
    { event: 'contact.custom', name: 'demo_requested', where: [{ prop: 'seats', op: 'gte', value: 10 }], count: { gte: 1 } },
    true,
  ],
  [
    'custom event property filter miss',
    { event: 'contact.custom', name: 'demo_requested', where: [{ prop: 'product', op: 'eq', value: 'erp' }], count: { gte: 1 } },
    false,
  ],
  ['last occurrence within', { last: 'email.opened', within: '90d' }, true],
  ['no open in 1 day', { not: { last: 'email.opened', within: '1d' } }, true],
  ['last purchase before', { last: 'contact.purchase', before: '2026-01-01' }, false],
  ['last purchase after', { last: 'contact.purchase', after: '2026-01-01' }, true],
  ['sum within window', { sum: 'purchase.amount', within: '30d', value: { gte: 100 } }, true],
  ['sum lifetime', { sum: 'purchase.amount', value: { eq: 520 } }, true],
  ['profile lifecycle', { profile: 'lifecycle', op: 'eq', value: 'customer' }, true],
  ['profile tier (520 points)', { profile: 'tier', op: 'eq', value: 'silver' }, true],
  ['profile rfm.r', { profile: 'rfm.r', op: 'eq', value: 5 }, true],
  ['profile points', { profile: 'points', op: 'gte', value: 520 }, true],
  ['top 20% by value', { top: 'purchase.amount', percent: 20 }, true],
  ['bucket 0..99 always', { bucket: { gte: 0, lt: 100 } }, true],
  ['bucket none', { bucket: { lt: 0 } }, false],
  [
    'nesting all/any/not',
    {
      all: [
        { attr: 'country', op: 'eq', value: 'DE' },
        { any: [{ attr: 'age', op: 'lt', value: 18 }, { not: { field: 'status', op: 'eq', value: 'bounced' } }] },
      ],
    },
    true,
  ],
];

describe('rule evaluation, one case per rule type', () => {
  const p = history();
  test.each(cases)('%s', (_name, raw, expected) => {
    const checked = checkRule(raw);
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    expect(evalRule(checked.rule, p, ctx).v).toBe(expected);
  });

  test('the random bucket is deterministic and splits roughly evenly', () => {
    const r = checkRule({ bucket: { lt: 50 }, salt: 'ab' });
    if (!r.ok) throw new Error('bad');
    let inA = 0;
    for (let i = 0; i < 2000; i++) {
      const q = emptyProfile(WS, `c${i}`);
      const v = evalRule(r.rule, q, ctx).v;
      expect(evalRule(r.rule, q, ctx).v).toBe(v);
      if (v) inA++;
    }
    expect(inA).toBeGreaterThan(850);
    expect(inA).toBeLessThan(1150);
  });
});

describe('time: the next moment an answer can flip', () => {
  test('"no open in 90 days" flips exactly 90 days after the last open', () => {
    const p = history();
    const r = checkRule({ not: { last: 'email.opened', within: '90d' } });
    if (!r.ok) throw new Error('bad');
    const o = evalRule(r.rule, p, ctx);
    expect(o.v).toBe(false);
    expect(o.n).toBe(T0 - 2 * DAY + 90 * DAY);
    expect(evalRule(r.rule, p, { ...ctx, now: o.n! }).v).toBe(true);
    expect(evalRule(r.rule, p, { ...ctx, now: o.n! - 1 }).v).toBe(false);
  });

  test('a window count drops at the UTC midnight after the oldest counted day leaves it', () => {
    const p = history();
    const r = checkRule({ event: 'email.opened', within: '30d', count: { gte: 1 } });
    if (!r.ok) throw new Error('bad');
    const o = evalRule(r.rule, p, ctx);
    expect(o.v).toBe(true);
    expect(evalRule(r.rule, p, { ...ctx, now: o.n! - 1 }).v).toBe(true);
    expect(evalRule(r.rule, p, { ...ctx, now: o.n! }).v).toBe(false);
  });
});

describe('built-in models on a scripted history', () => {
  test('signup → lead; purchase → customer; 366 quiet days → former customer', () => {
    const p = emptyProfile(WS, 'c2');
    applySnapshot(p, snapshot(WS, 'c2', T0));
    const stage = (now: number) => figureValue(p, 'lifecycle', { ...ctx, now }).value;
    expect(stage(T0)).toBe('subscriber');
    applyEvent(p, signup(WS, 'c2', T0), T0);
    expect(stage(T0)).toBe('lead');
    applyEvent(p, purchase(WS, 'c2', T0 + DAY, 50), T0 + DAY);
    expect(stage(T0 + DAY)).toBe('customer');
    expect(stage(T0 + 367 * DAY)).toBe('former_customer_low');
  });
});

describe('rule validation reports the path of the bad node', () => {
  const bad: Array<[string, unknown, string]> = [
    [
      'bad comparison value',
      {
        all: [
          { attr: 'a', op: 'eq', value: 1 },
          { event: 'email.opened', within: '30d', count: { gte: 'x' } },
        ],
      },
      'all.1.count.gte',
    ],
    ['unknown operator', { attr: 'a', op: 'like', value: 1 }, 'op'],
    ['bad window', { event: 'email.opened', within: '30 days', count: { gte: 1 } }, 'within'],
    ['no kind', { any: [{ foo: 1 }] }, 'any.0'],
    ['empty all', { all: [] }, 'all'],
    ['humanOnly on a purchase', { event: 'contact.purchase', humanOnly: true, count: { gte: 1 } }, 'humanOnly'],
    ['bad relative date', { not: { attr: 'x', op: 'within_last', value: 'soon' } }, 'not.value'],
  ];
  test.each(bad)('%s', (_n, raw, path) => {
    const r = checkRule(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain(path);
  });
});
