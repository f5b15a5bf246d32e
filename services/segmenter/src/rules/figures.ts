import { z } from 'zod';
import type { Rule } from './schema';
import { DAY_MS } from './schema';

/**
 * Built-in CRM models a workspace tunes (PUT /models/settings). Each figure (lifecycle stage,
 * loyalty tier, R/F/M scores) is defined as an ordered list of rules evaluated by the same
 * evaluator as segments, first match wins: so a figure's time behaviour (when it can next flip)
 * comes for free, and full recompute and incremental evaluation agree on figures too.
 *
 * RFM uses fixed thresholds per workspace rather than quintiles: a quintile score depends on
 * every other contact, so one purchase could move thousands of scores and no incremental
 * evaluation of one contact could be exact. "Top N% by value" is the one distribution-based
 * rule; its threshold is a workspace statistic refreshed by full recompute (README).
 */
export const ModelSettings = z.strictObject({
  lifecycle: z
    .strictObject({
      customerActiveDays: z.number().int().min(1).max(3650).default(365),
      evangelistMinPurchases: z.number().int().min(1).default(5),
      evangelistEvents: z.array(z.string().min(1).max(100)).max(20).default(['referral']),
      formerHighValue: z.number().nonnegative().default(500),
      opportunityEvents: z.array(z.string().min(1).max(100)).max(20).default(['demo_requested', 'checkout_started']),
      opportunityDays: z.number().int().min(1).max(400).default(30),
      qualifiedClicks: z.number().int().min(1).default(1),
      qualifiedDays: z.number().int().min(1).max(400).default(30),
    })
    .default({
      customerActiveDays: 365,
      evangelistMinPurchases: 5,
      evangelistEvents: ['referral'],
      formerHighValue: 500,
      opportunityEvents: ['demo_requested', 'checkout_started'],
      opportunityDays: 30,
      qualifiedClicks: 1,
      qualifiedDays: 30,
    }),
  loyalty: z
    .strictObject({
      by: z.enum(['points', 'spend']).default('points'),
      pointsPerUnit: z.number().nonnegative().default(1),
      red: z.number().nonnegative().default(1),
      silver: z.number().nonnegative().default(500),
      gold: z.number().nonnegative().default(2000),
    })
    .refine((l) => l.red <= l.silver && l.silver <= l.gold, 'expected red <= silver <= gold')
    .default({ by: 'points', pointsPerUnit: 1, red: 1, silver: 500, gold: 2000 }),
  rfm: z
    .strictObject({
      /** Days since last purchase for R = 5, 4, 3, 2 (else 1). */
      recencyDays: z.array(z.number().int().positive()).length(4).default([30, 90, 180, 365]),
      /** Lifetime purchases for F = 2, 3, 4, 5 (else 1). */
      frequency: z.array(z.number().int().positive()).length(4).default([2, 3, 5, 10]),
      /** Lifetime spend for M = 2, 3, 4, 5 (else 1). */
      monetary: z.array(z.number().positive()).length(4).default([100, 250, 500, 1000]),
    })
    .default({ recencyDays: [30, 90, 180, 365], frequency: [2, 3, 5, 10], monetary: [100, 250, 500, 1000] }),
});
export type ModelSettings = z.output<typeof ModelSettings>;

export const DEFAULT_SETTINGS: ModelSettings = ModelSettings.parse({});

export const LIFECYCLE_STAGES = [
  'evangelist',
  'customer',
  'former_customer_high',
  'former_customer_low',
  'opportunity',
  'qualified_lead',
  'lead',
  'subscriber',
] as const;

export interface FigureRules {
  lifecycle: Array<{ value: string; rule: Rule | null }>;
  tier: Array<{ value: string; rule: Rule | null }>;
  r: Array<{ value: number; rule: Rule | null }>;
  f: Array<{ value: number; rule: Rule | null }>;
  m: Array<{ value: number; rule: Rule | null }>;
}

const cache = new WeakMap<ModelSettings, FigureRules>();

/** Ordered (first match wins; a null rule matches always) definitions of every figure. */
export function figureRules(s: ModelSettings): FigureRules {
  const hit = cache.get(s);
  if (hit) return hit;
  const L = s.lifecycle;
  const bought: Rule = { event: 'contact.purchase', count: { gte: 1 } };
  const active: Rule = { last: 'contact.purchase', within: L.customerActiveDays * DAY_MS };
  const customAny = (names: string[], within?: number): Rule[] =>
    names.map((name) => ({ event: 'contact.custom', name, count: { gte: 1 }, ...(within ? { within } : {}) }) as Rule);
  const metric: Rule =
    s.loyalty.by === 'spend' ? { sum: 'purchase.amount', value: { gte: 0 } } : { profile: 'points', op: 'gte', value: 0 };
  const atLeast = (v: number): Rule =>
    'sum' in metric ? { sum: 'purchase.amount', value: { gte: v } } : { profile: 'points', op: 'gte', value: v };
  const rules: FigureRules = {
    lifecycle: [
      {
        value: 'evangelist',
        rule: {
          all: [
            active,
            { any: [{ event: 'contact.purchase', count: { gte: L.evangelistMinPurchases } }, ...customAny(L.evangelistEvents)] },
          ],
        },
      },
      { value: 'customer', rule: active },
      { value: 'former_customer_high', rule: { all: [bought, { sum: 'purchase.amount', value: { gte: L.formerHighValue } }] } },
      { value: 'former_customer_low', rule: bought },
      {
        value: 'opportunity',
        rule: L.opportunityEvents.length ? { any: customAny(L.opportunityEvents, L.opportunityDays) } : { not: bought },
      },
      {
        value: 'qualified_lead',
        rule: { event: 'email.clicked', humanOnly: true, within: L.qualifiedDays, count: { gte: L.qualifiedClicks } },
      },
      {
        value: 'lead',
        rule: {
          any: [
            { event: 'contact.signup', count: { gte: 1 } },
            { event: 'email.opened', humanOnly: true, count: { gte: 1 } },
            { event: 'email.clicked', humanOnly: true, count: { gte: 1 } },
          ],
        },
      },
      { value: 'subscriber', rule: null },
    ],
    tier: [
      { value: 'gold', rule: atLeast(s.loyalty.gold) },
      { value: 'silver', rule: atLeast(s.loyalty.silver) },
      { value: 'red', rule: atLeast(s.loyalty.red) },
      { value: 'none', rule: null },
    ],
    r: [
      ...s.rfm.recencyDays.map((d, i) => ({ value: 5 - i, rule: { last: 'contact.purchase', within: d * DAY_MS } as Rule })),
      { value: 1, rule: null },
    ],
    f: [
      ...[...s.rfm.frequency].reverse().map((t, i) => ({ value: 5 - i, rule: { event: 'contact.purchase', count: { gte: t } } as Rule })),
      { value: 1, rule: null },
    ],
    m: [
      ...[...s.rfm.monetary].reverse().map((t, i) => ({ value: 5 - i, rule: { sum: 'purchase.amount', value: { gte: t } } as Rule })),
      { value: 1, rule: null },
    ],
  };
  cache.set(s, rules);
  return rules;
}

/** Loyalty points: a pure function of lifetime spend, so tuning the rate re-scores everyone consistently. */
export function pointsOf(total: number, s: ModelSettings): number {
  return Math.floor(total * s.loyalty.pointsPerUnit);
}
