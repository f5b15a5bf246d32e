import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/**
 * The statistics behind A/B decisions. The normal distribution comes from stdlib (accurate to
 * machine precision); the formulas on top are short and each is tested against a published
 * reference value (test/experiment-statistics.test.ts).
 */

export interface Proportion {
  successes: number;
  trials: number;
}

export interface Interval {
  rate: number;
  lower: number;
  upper: number;
}

function zFor(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  return normalQuantile(1 - (1 - confidence) / 2, 0, 1);
}

function check({ successes, trials }: Proportion): void {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || trials < 0 || successes > trials) {
    throw new RangeError(`not a proportion: ${successes}/${trials}`);
  }
}

/**
 * Wilson score interval (Wilson 1927; method 3 of Newcombe 1998). Unlike the Wald interval it
 * stays inside [0, 1] and keeps its coverage for the small rates and samples email tests have.
 */
export function wilsonInterval(p: Proportion, confidence = 0.95): Interval {
  check(p);
  if (p.trials === 0) return { rate: 0, lower: 0, upper: 1 };
  const z = zFor(confidence);
  const n = p.trials;
  const rate = p.successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (rate + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((rate * (1 - rate)) / n + z2 / (4 * n * n))) / denom;
  return { rate, lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

export interface ZTest {
  z: number;
  /** Two-sided p-value. */
  pValue: number;
}

/**
 * Two-proportion z-test with the pooled standard error (H0: the two rates are equal),
 * two-sided. With no variation at all (both rates 0 or both 1) there is no evidence of a
 * difference: z = 0, p = 1.
 */
export function twoProportionZTest(a: Proportion, b: Proportion): ZTest {
  check(a);
  check(b);
  if (a.trials === 0 || b.trials === 0) return { z: 0, pValue: 1 };
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (se === 0) return { z: 0, pValue: 1 };
  const z = (a.successes / a.trials - b.successes / b.trials) / se;
  const pValue = Math.min(1, 2 * normalCdf(-Math.abs(z), 0, 1));
  return { z, pValue };
}

/**
 * Holm's step-down adjustment (Holm 1979): adjusted p-values, in the input order, that control
 * the family-wise error rate when several variants are each compared with the control.
 * Compare each adjusted value with alpha.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
