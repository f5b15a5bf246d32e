import { holmAdjust, twoProportionZTest, wilsonInterval, type Interval } from '@payam/stats';

/** What a variant achieved on the winning metric: successes out of trials (e.g. human opens / presumed delivered). */
export interface VariantOutcome {
  variantId: string;
  successes: number;
  trials: number;
}

export type NotSignificantPolicy = 'control' | 'best_observed';

export interface DecisionInput {
  /** The first variant is the control. */
  outcomes: VariantOutcome[];
  controlId: string;
  confidence: number;
  /** Fewer trials than this in any variant means no significant call can be made. */
  minSamplePerVariant: number;
  policy: NotSignificantPolicy;
}

export interface Comparison {
  variantId: string;
  interval: Interval;
  /** Against the control; null for the control itself. */
  pValue: number | null;
  /** Holm-adjusted across the comparisons with the control. */
  adjustedPValue: number | null;
  /** Significantly different from the control at the chosen confidence, after adjustment. */
  significant: boolean;
}

export type DecisionBasis = 'significant' | 'fallback_control' | 'fallback_best_observed';

export interface Decision {
  winnerId: string;
  basis: DecisionBasis;
  reason: string;
  comparisons: Comparison[];
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/**
 * Picks the winner of an experiment on evidence. Each challenger is compared with the control
 * (two-proportion z-test, Holm-adjusted when there are several). A challenger wins when it is
 * significantly better than the control (the best such one if several are); the control wins
 * on evidence when every challenger is significantly worse. Otherwise the result is not
 * significant and the policy decides, and the decision says so.
 */
export function decideExperiment(input: DecisionInput): Decision {
  const alpha = 1 - input.confidence;
  const control = input.outcomes.find((o) => o.variantId === input.controlId);
  if (!control) throw new RangeError(`control ${input.controlId} is not among the outcomes`);
  const challengers = input.outcomes.filter((o) => o.variantId !== input.controlId);
  const raw = challengers.map((c) => twoProportionZTest(c, control).pValue);
  const adjusted = holmAdjust(raw);
  const enoughData = input.outcomes.every((o) => o.trials >= input.minSamplePerVariant);
  const rate = (o: VariantOutcome) => (o.trials === 0 ? 0 : o.successes / o.trials);

  const comparisons: Comparison[] = input.outcomes.map((o) => {
    const i = challengers.indexOf(o);
    return {
      variantId: o.variantId,
      interval: wilsonInterval(o, input.confidence),
      pValue: i < 0 ? null : raw[i]!,
      adjustedPValue: i < 0 ? null : adjusted[i]!,
      significant: i < 0 ? false : enoughData && adjusted[i]! < alpha,
    };
  });

  const better = challengers.filter((c, i) => enoughData && adjusted[i]! < alpha && rate(c) > rate(control));
  if (better.length > 0) {
    const best = better.reduce((a, b) => (rate(b) > rate(a) ? b : a));
    const i = challengers.indexOf(best);
    return {
      winnerId: best.variantId,
      basis: 'significant',
      reason: `${best.variantId} ${pct(rate(best))} beats control ${control.variantId} ${pct(rate(control))} (adjusted p = ${adjusted[i]!.toPrecision(3)} < ${alpha.toFixed(3)})`,
      comparisons,
    };
  }
  const allWorse =
    challengers.length > 0 && challengers.every((c, i) => enoughData && adjusted[i]! < alpha && rate(c) < rate(control));
  if (allWorse) {
    return {
      winnerId: control.variantId,
      basis: 'significant',
      reason: `control ${control.variantId} ${pct(rate(control))} is significantly better than every challenger`,
      comparisons,
    };
  }

  const why = enoughData
    ? `no variant differs from the control at ${pct(input.confidence)} confidence`
    : `fewer than ${input.minSamplePerVariant} recipients in a variant, too few for a significant call`;
  if (input.policy === 'control') {
    return { winnerId: control.variantId, basis: 'fallback_control', reason: `${why}; sending the control as the policy says`, comparisons };
  }
  const best = input.outcomes.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  return {
    winnerId: best.variantId,
    basis: 'fallback_best_observed',
    reason: `${why}; sending the best observed (${best.variantId}, ${pct(rate(best))}) as the policy says`,
    comparisons,
  };
}

/**
 * Deterministic, balanced assignment of a campaign's audience to experiment variants: every
 * contact gets a rank from a hash of (campaign, contact); the lowest `testShare` of ranks form
 * the test cohort, dealt round-robin to the variants. Same campaign and audience → same
 * assignment; variant sizes differ by at most one.
 */
export function assignVariants<T extends { contactId: string }>(
  campaignId: string,
  audience: readonly T[],
  variantIds: readonly string[],
  testShare: number,
  hash: (s: string) => string,
): { test: Array<T & { variantId: string }>; remainder: T[] } {
  const ranked = audience
    .map((c) => ({ c, h: hash(`${campaignId}:${c.contactId}`) }))
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : a.c.contactId < b.c.contactId ? -1 : 1))
    .map((x) => x.c);
  const testSize = Math.min(ranked.length, Math.round(ranked.length * testShare));
  const test = ranked.slice(0, testSize).map((c, i) => ({ ...c, variantId: variantIds[i % variantIds.length]! }));
  return { test, remainder: ranked.slice(testSize) };
}
