import { z } from 'zod';

/*
 * The segment rule grammar (README, "Rule grammar"). Every node is a JSON object recognised by
 * the one key that names its kind (all, any, not, attr, field, event, last, sum, profile, top,
 * bucket, segment). Validation dispatches on that key and checks the node with a strict schema,
 * so a bad node is reported at its own path ("rule.all.1.count.gte") with what was expected.
 */

export const DAY_MS = 86_400_000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS } as const;

/** Longest event window: daily buckets older than this are pruned from profiles. */
export const MAX_WINDOW_DAYS = 400;

/** "30d" → 30: windows over daily buckets are whole UTC days. */
export const WindowDays = z
  .string()
  .regex(/^[1-9]\d{0,2}d$/, 'expected a window of whole days such as "30d"')
  .transform((s) => Number(s.slice(0, -1)))
  .refine((d) => d <= MAX_WINDOW_DAYS, `expected at most ${MAX_WINDOW_DAYS}d`);

/** "90d", "12h", "2w", "30m" → milliseconds: exact durations for last-occurrence and date rules. */
export const Duration = z
  .string()
  .regex(/^[1-9]\d{0,5}[mhdw]$/, 'expected a duration such as "90d", "12h", "2w" or "30m"')
  .transform((s) => Number(s.slice(0, -1)) * UNIT_MS[s.slice(-1) as keyof typeof UNIT_MS]);

export function durationMs(text: string): number {
  return Duration.parse(text);
}
export function windowDays(text: string): number {
  return WindowDays.parse(text);
}

const IsoDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'expected an ISO date such as "2026-01-01"' });

export const Comparison = z
  .strictObject({
    eq: z.number().optional(),
    neq: z.number().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), 'expected at least one of eq, neq, gt, gte, lt, lte');
export type Comparison = z.infer<typeof Comparison>;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Operators on a value (contact attribute, built-in field, custom event property). */
export const ValueCondition = z.discriminatedUnion('op', [
  z.strictObject({ op: z.enum(['eq', 'neq']), value: Scalar }),
  z.strictObject({ op: z.literal('in'), value: z.array(Scalar).min(1).max(1000) }),
  z.strictObject({ op: z.literal('contains'), value: Scalar }),
  z.strictObject({ op: z.literal('starts_with'), value: z.string() }),
  z.strictObject({ op: z.enum(['gt', 'gte', 'lt', 'lte']), value: z.number() }),
  z.strictObject({ op: z.literal('exists'), value: z.boolean().default(true) }),
  z.strictObject({ op: z.enum(['before', 'after']), value: IsoDate }),
  z.strictObject({ op: z.enum(['within_last', 'older_than']), value: Duration }),
]);

export const AttrPath = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^$.][^$]*$/, 'expected an attribute name (dots for nested fields)');
export const FIELDS = ['email', 'status', 'listIds', 'createdAt', 'firstSeenAt', 'lastSeenAt'] as const;
export const EVENT_TYPES = [
  'email.sent',
  'email.failed',
  'email.accepted',
  'email.delivered',
  'email.delivery_delayed',
  'email.opened',
  'email.clicked',
  'email.bounced',
  'email.complained',
  'email.unsubscribed',
  'email.rejected',
  'contact.purchase',
  'contact.signup',
  'contact.custom',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const FIGURES = [
  'lifecycle',
  'tier',
  'rfm.r',
  'rfm.f',
  'rfm.m',
  'rfm.total',
  'points',
  'purchases.count',
  'purchases.total',
] as const;
export type Figure = (typeof FIGURES)[number];

/**
 * Node schemas (children of all/any/not are checked recursively, not here). attr, field and
 * profile nodes are a name plus a ValueCondition; validate.ts checks the two halves apart so
 * both stay strict about unknown keys.
 */
export const ValueNodeNames = {
  attr: AttrPath,
  field: z.enum(FIELDS),
  profile: z.enum(FIGURES),
} as const;

export const NodeSchemas = {
  event: z
    .strictObject({
      event: z.enum(EVENT_TYPES),
      name: z.string().min(1).max(100).optional(),
      bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']).optional(),
      humanOnly: z.boolean().optional(),
      // Each filter is {prop, op, value}; validate.ts checks the items.
      where: z.array(z.record(z.string(), z.unknown())).max(20).optional(),
      within: WindowDays.optional(),
      count: Comparison,
    })
    .superRefine((n, ctx) => {
      if (n.name !== undefined && n.event !== 'contact.custom')
        ctx.addIssue({ code: 'custom', path: ['name'], message: 'name applies to contact.custom only' });
      if (n.where !== undefined && n.event !== 'contact.custom')
        ctx.addIssue({ code: 'custom', path: ['where'], message: 'where applies to contact.custom only' });
      if (n.where !== undefined && n.name === undefined)
        ctx.addIssue({ code: 'custom', path: ['name'], message: 'where needs the custom event name' });
      if (n.humanOnly && n.event !== 'email.opened' && n.event !== 'email.clicked')
        ctx.addIssue({ code: 'custom', path: ['humanOnly'], message: 'humanOnly applies to email.opened and email.clicked only' });
      if (n.bounceType !== undefined && n.event !== 'email.bounced')
        ctx.addIssue({ code: 'custom', path: ['bounceType'], message: 'bounceType applies to email.bounced only' });
    }),
  last: z
    .strictObject({
      last: z.enum(EVENT_TYPES),
      name: z.string().min(1).max(100).optional(),
      humanOnly: z.boolean().optional(),
      within: Duration.optional(),
      before: IsoDate.optional(),
      after: IsoDate.optional(),
    })
    .refine(
      (n) => [n.within, n.before, n.after].filter((x) => x !== undefined).length === 1,
      'expected exactly one of within, before, after',
    ),
  sum: z.strictObject({ sum: z.literal('purchase.amount'), within: WindowDays.optional(), value: Comparison }),
  top: z.strictObject({ top: z.literal('purchase.amount'), percent: z.number().int().min(1).max(99) }),
  bucket: z.strictObject({ bucket: Comparison, salt: z.string().min(1).max(100).optional() }),
  segment: z.strictObject({ segment: z.string().min(1).max(64) }),
} as const;

export type ValueCondition = z.output<typeof ValueCondition>;
export type PropFilter = { prop: string } & ValueCondition;

/** Parsed rule tree (durations already in ms, windows in days). */
export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | ({ attr: string } & ValueCondition)
  | ({ field: (typeof FIELDS)[number] } & ValueCondition)
  | {
      event: EventType;
      name?: string;
      bounceType?: 'Permanent' | 'Transient' | 'Undetermined';
      humanOnly?: boolean;
      where?: PropFilter[];
      within?: number;
      count: Comparison;
    }
  | { last: EventType; name?: string; humanOnly?: boolean; within?: number; before?: string; after?: string }
  | { sum: 'purchase.amount'; within?: number; value: Comparison }
  | ({ profile: Figure } & ValueCondition)
  | { top: 'purchase.amount'; percent: number }
  | { bucket: Comparison; salt?: string }
  | { segment: string };

export const NODE_KINDS = ['all', 'any', 'not', 'attr', 'field', 'profile', ...Object.keys(NodeSchemas)];
