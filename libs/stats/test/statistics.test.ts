// The A/B statistics against published reference values.
import { holmAdjust, twoProportionZTest, wilsonInterval } from '../src';

describe('Wilson score interval', () => {
  // Newcombe R.G., "Two-sided confidence intervals for the single proportion: comparison of
  // seven methods", Statistics in Medicine 17:857-872 (1998), Table II, method 3 (score
  // method without continuity correction), 95% limits to four decimals.
  test.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0.0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i/%i → [%f, %f]', (successes, trials, lower, upper) => {
    const ci = wilsonInterval({ successes, trials }, 0.95);
    expect(ci.lower).toBeCloseTo(lower, 4);
    expect(ci.upper).toBeCloseTo(upper, 4);
    expect(ci.rate).toBeCloseTo(successes / trials, 10);
  });

  test('a wider interval at a higher confidence; [0,1] with no trials', () => {
    const a = wilsonInterval({ successes: 30, trials: 100 }, 0.9);
    const b = wilsonInterval({ successes: 30, trials: 100 }, 0.99);
    expect(b.upper - b.lower).toBeGreaterThan(a.upper - a.lower);
    expect(wilsonInterval({ successes: 0, trials: 0 })).toEqual({ rate: 0, lower: 0, upper: 1 });
  });

  test('refuses what is not a proportion', () => {
    expect(() => wilsonInterval({ successes: 5, trials: 4 })).toThrow(RangeError);
    expect(() => wilsonInterval({ successes: 1, trials: 4 }, 1)).toThrow(RangeError);
  });
});

describe('two-proportion z-test', () => {
  test('OpenStax reference: 20/200 vs 12/200 gives p = 0.1404', () => {
    // Illowsky & Dean, Introductory Statistics (OpenStax), "Comparing Two Independent
    // Population Proportions", the medication-for-hives example: pooled proportion 0.08,
    // two-tailed p-value = 0.1404.
    const { z, pValue } = twoProportionZTest({ successes: 20, trials: 200 }, { successes: 12, trials: 200 });
    expect(pValue).toBeCloseTo(0.1404, 4);
    expect(z).toBeCloseTo(1.4744, 3);
  });

  test('symmetric in its arguments (z changes sign), and no evidence without variation', () => {
    const ab = twoProportionZTest({ successes: 45, trials: 100 }, { successes: 30, trials: 100 });
    const ba = twoProportionZTest({ successes: 30, trials: 100 }, { successes: 45, trials: 100 });
    expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
    expect(ab.z).toBeCloseTo(-ba.z, 12);
    expect(twoProportionZTest({ successes: 0, trials: 50 }, { successes: 0, trials: 60 })).toEqual({ z: 0, pValue: 1 });
  });
});

describe('Holm adjustment', () => {
  test('Holm (1979) step-down on the textbook four-hypothesis example', () => {
    // Holm S., "A simple sequentially rejective multiple test procedure", Scand. J. Statist.
    // 6:65-70 (1979). The widely used illustration: p = 0.01, 0.04, 0.03, 0.005 at alpha 0.05
    // rejects only the hypotheses with 0.01 and 0.005. Adjusted: 4·0.005, 3·0.01, 2·0.03, then
    // max(0.06, 1·0.04) = 0.06.
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted[0]).toBeCloseTo(0.03, 12);
    expect(adjusted[1]).toBeCloseTo(0.06, 12);
    expect(adjusted[2]).toBeCloseTo(0.06, 12);
    expect(adjusted[3]).toBeCloseTo(0.02, 12);
    expect(adjusted.map((p) => p < 0.05)).toEqual([true, false, false, true]);
  });

  test('one comparison is left as it is; adjusted values never exceed 1', () => {
    expect(holmAdjust([0.2])).toEqual([0.2]);
    expect(holmAdjust([0.6, 0.7, 0.9])).toEqual([1, 1, 1]);
  });
});
