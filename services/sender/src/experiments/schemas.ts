import { z } from 'zod';

export const EXPERIMENT_METRICS = ['unique_human_open_rate', 'unique_human_click_rate', 'click_to_open_rate'] as const;
export type ExperimentMetric = (typeof EXPERIMENT_METRICS)[number];

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MIN_DECIDE_AFTER_MS = 60_000;
const MAX_DECIDE_AFTER_MS = 30 * 86_400_000;
/** Below this share of the audience per variant a test cohort says nothing (e.g. 1% split five ways). */
const MIN_SHARE_PER_VARIANT = 0.005;

/** "90s", "15m", "4h", "2d" → milliseconds; null when it is not such a duration. */
export function durationMs(s: string): number | null {
  const m = /^(\d{1,6})([smhd])$/.exec(s);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
}

const HeaderText = z.string().trim().min(1).regex(/^[^\r\n]+$/, 'no line breaks');

export const VariantInput = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected 1 to 32 letters, digits, "_" or "-"'),
  subject: HeaderText.max(998),
  preheader: z.string().trim().min(1).max(500).optional(),
  fromName: HeaderText.max(100).regex(/^[^"<>]+$/, 'no quotes or angle brackets').optional(),
});
export type VariantInput = z.infer<typeof VariantInput>;

export const ExperimentInput = z
  .strictObject({
    /** The first variant is the control. */
    variants: z.array(VariantInput).min(2, 'an experiment needs at least 2 variants').max(5, 'at most 5 variants'),
    testShare: z.number().gt(0, 'must be above 0').max(0.5, 'at most 0.5 of the audience'),
    metric: z.enum(EXPERIMENT_METRICS),
    decideAfter: z.string().refine((s) => {
      const ms = durationMs(s);
      return ms !== null && ms >= MIN_DECIDE_AFTER_MS && ms <= MAX_DECIDE_AFTER_MS;
    }, 'expected a duration from "1m" to "30d", like "90s", "15m", "4h" or "2d"'),
    confidence: z.number().min(0.8).max(0.99).default(0.95),
    minSamplePerVariant: z.number().int().min(1).max(1_000_000).default(100),
    notSignificantPolicy: z.enum(['control', 'best_observed']),
  })
  .superRefine((e, ctx) => {
    const seen = new Map<string, number>();
    e.variants.forEach((v, i) => {
      if (seen.has(v.id)) ctx.addIssue({ code: 'custom', path: ['variants', i, 'id'], message: `duplicate variant id ${v.id} (also variant ${seen.get(v.id)})` });
      else seen.set(v.id, i);
    });
    if (e.testShare / e.variants.length < MIN_SHARE_PER_VARIANT) {
      ctx.addIssue({
        code: 'custom',
        path: ['testShare'],
        message: `${e.testShare} split over ${e.variants.length} variants leaves under ${MIN_SHARE_PER_VARIANT * 100}% of the audience per variant`,
      });
    }
  });
export type ExperimentInput = z.infer<typeof ExperimentInput>;

export const WinnerBody = z.strictObject({ variantId: z.string().min(1).max(32) });
