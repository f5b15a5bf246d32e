import { createHash } from 'node:crypto';
import { assignVariants, decideExperiment, type VariantOutcome } from '../src/experiments/decide';

const base = { controlId: 'A', confidence: 0.95, minSamplePerVariant: 100 } as const;
const o = (variantId: string, successes: number, trials: number): VariantOutcome => ({ variantId, successes, trials });
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('decideExperiment', () => {
  test.each([
    ['B clearly better', [o('A', 40, 400), o('B', 90, 400)], 'control', 'B', 'significant'],
    ['A clearly better', [o('A', 90, 400), o('B', 40, 400)], 'control', 'A', 'significant'],
    ['tie → control by policy', [o('A', 50, 400), o('B', 52, 400)], 'control', 'A', 'fallback_control'],
    ['tie → best observed by policy', [o('A', 50, 400), o('B', 52, 400)], 'best_observed', 'B', 'fallback_best_observed'],
    ['big difference but too few recipients', [o('A', 2, 40), o('B', 20, 40)], 'control', 'A', 'fallback_control'],
  ] as const)('%s', (_name, outcomes, policy, winner, basis) => {
    const d = decideExperiment({ ...base, outcomes: [...outcomes], policy });
    expect(d).toMatchObject({ winnerId: winner, basis });
    expect(d.reason.length).toBeGreaterThan(10);
    expect(d.comparisons).toHaveLength(outcomes.length);
  });

  test('three variants: Holm correction can withhold a call a lone test would make', () => {
    // B vs A alone: p ≈ 0.036 (significant at 95%). With C also compared, Holm doubles the
    // smaller p-value's bar and B is no longer significant.
    const outcomes = [o('A', 100, 1000), o('B', 130, 1000), o('C', 101, 1000)];
    const lone = decideExperiment({ ...base, outcomes: outcomes.slice(0, 2), policy: 'control' });
    expect(lone.basis).toBe('significant');
    const three = decideExperiment({ ...base, outcomes, policy: 'control' });
    const b = three.comparisons.find((c) => c.variantId === 'B')!;
    expect(b.pValue!).toBeLessThan(0.05);
    expect(b.adjustedPValue!).toBeCloseTo(Math.min(1, 2 * b.pValue!), 12);
    expect(three).toMatchObject({ winnerId: 'A', basis: 'fallback_control' });
  });

  test('three variants: the best of the significantly better challengers wins', () => {
    const d = decideExperiment({ ...base, outcomes: [o('A', 50, 1000), o('B', 120, 1000), o('C', 150, 1000)], policy: 'control' });
    expect(d).toMatchObject({ winnerId: 'C', basis: 'significant' });
    expect(d.comparisons.every((c) => c.interval.lower <= c.interval.rate && c.interval.rate <= c.interval.upper)).toBe(true);
  });
});

describe('assignVariants', () => {
  const audience = Array.from({ length: 2003 }, (_, i) => ({ contactId: `ct_${i}` }));

  test('balanced within one contact per variant, test share respected, remainder disjoint', () => {
    const { test, remainder } = assignVariants('cmp_1', audience, ['A', 'B', 'C'], 0.2, sha);
    expect(test).toHaveLength(Math.round(2003 * 0.2));
    const sizes = ['A', 'B', 'C'].map((v) => test.filter((t) => t.variantId === v).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    const inTest = new Set(test.map((t) => t.contactId));
    expect(remainder.some((r) => inTest.has(r.contactId))).toBe(false);
    expect(inTest.size + remainder.length).toBe(2003);
  });

  test('deterministic: the same contact lands in the same variant, whatever the input order', () => {
    const a = assignVariants('cmp_1', audience, ['A', 'B'], 0.2, sha);
    const b = assignVariants('cmp_1', [...audience].reverse(), ['A', 'B'], 0.2, sha);
    expect(new Map(a.test.map((t) => [t.contactId, t.variantId]))).toEqual(new Map(b.test.map((t) => [t.contactId, t.variantId])));
    const other = assignVariants('cmp_2', audience, ['A', 'B'], 0.2, sha);
    expect(other.test.map((t) => t.contactId)).not.toEqual(a.test.map((t) => t.contactId));
  });
});
