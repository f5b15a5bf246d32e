import { TokenBucket } from '../src/delivery/rate-limiter';

/** Most sends in any window of `ms` (times sorted; a float's rounding is not a second send). */
function busiestWindow(times: number[], ms: number): number {
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= ms - 1e-6) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/**
 * Callers that each ask again as soon as their send went, from `from` until one is given a time
 * at or after `until`: the send times (that last one's included: it is reserved, so it goes).
 */
function saturate(bucket: TokenBucket, callers: number, from: number, until: number): number[] {
  const times: number[] = [];
  const asks = Array.from({ length: callers }, () => from);
  for (;;) {
    const i = asks.indexOf(Math.min(...asks));
    if (asks[i]! >= until) return times;
    const at = bucket.reserve(asks[i]!);
    expect(at).toBeGreaterThanOrEqual(asks[i]!);
    times.push(at);
    asks[i] = at;
  }
}

test.each([
  [1000, 100],
  [14, 4],
  [4.67, 2],
  [0.5, 1],
])('at %s/s with %s callers waiting: paced at the rate, never more than ⌈rate⌉ in a window of ⌈rate⌉/rate s', (rate, callers) => {
  const bucket = new TokenBucket(rate);
  const seconds = Math.max(10, 20 / rate);
  const times = saturate(bucket, callers, 0, seconds * 1000);
  const perWindow = Math.ceil(rate);
  expect(busiestWindow(times, (perWindow / rate) * 1000)).toBeLessThanOrEqual(perWindow);
  // Over the run: the rate (a send at 0 and every 1/rate after), never more.
  const inRun = times.filter((t) => t < seconds * 1000).length;
  expect(inRun).toBeGreaterThanOrEqual(Math.floor(rate * seconds) - 1);
  expect(inRun).toBeLessThanOrEqual(Math.ceil(rate * seconds) + 1);
});

test('after an idle spell the slots it left unused come at once (up to the burst), within the per-second limit', () => {
  const bucket = new TokenBucket(1000);
  // Busy for 2 s, then nobody asks for 150 ms (a pipeline bubble), then 100 callers again.
  const before = saturate(bucket, 100, 0, 2000);
  const bubble = Math.max(...before) + 150;
  const after = saturate(bucket, 100, bubble, 3500);
  const atOnce = after.filter((t) => t <= bubble).length;
  expect(atOnce).toBeGreaterThanOrEqual(140); // a burst-1 bucket sends 1 here: the bubble's 150 slots are lost for good
  const all = [...before, ...after].sort((a, b) => a - b);
  expect(busiestWindow(all, 1000)).toBeLessThanOrEqual(1000);
  // The second the bubble fell in still sends (nearly) its thousand.
  expect(all.filter((t) => t >= 2000 && t < 3000).length).toBeGreaterThanOrEqual(990);
});

test('a new rate share (another worker joined) applies to the next slot and keeps the window full', () => {
  const bucket = new TokenBucket(1000);
  const before = saturate(bucket, 100, 0, 1000);
  bucket.setRate(500);
  const after = saturate(bucket, 100, 1000, 4000);
  expect(busiestWindow([...before, ...after].sort((a, b) => a - b), 1000)).toBeLessThanOrEqual(1000);
  expect(busiestWindow(after.filter((s) => s >= 2000), 1000)).toBeLessThanOrEqual(500);
  expect(after.filter((s) => s >= 2000).length).toBeGreaterThanOrEqual(999);
});
