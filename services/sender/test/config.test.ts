import { ConfigError } from '@payam/config';
import { DEV_ADMIN_SECRET, loadSenderConfig } from '../src/config';
import { newId } from '../src/ids';

test('defaults outside production, with a warning for each development default', () => {
  const c = loadSenderConfig({});
  expect(c).toMatchObject({
    PORT: 3001,
    HOST: '127.0.0.1',
    MONGODB_DB: 'payam_sender',
    ADMIN_SECRET: DEV_ADMIN_SECRET,
    TRACKING_BASE_URL: 'http://127.0.0.1:3002',
    SES_ENDPOINT: 'http://127.0.0.1:8005',
    SES_REGION: 'us-east-1',
    SES_MAX_SEND_RATE: 14,
    TRACKING_SIGNING_KEY_ID: 'dev',
  });
  expect(c.warnings).toHaveLength(2);
});

test.each([
  // [SES_MAX_SEND_RATE, SENDER_WORKER_CONCURRENCY set, expected sends in flight per worker]
  ['14', undefined, 32],
  ['320', undefined, 32],
  ['1000', undefined, 100],
  ['50000', undefined, 128],
  ['1000', '16', 16],
])('at %s/s with concurrency %s a worker keeps %i sends in flight', (rate, concurrency, expected) => {
  const c = loadSenderConfig({ SES_MAX_SEND_RATE: rate, ...(concurrency ? { SENDER_WORKER_CONCURRENCY: concurrency } : {}) });
  expect(c.SENDER_WORKER_CONCURRENCY).toBe(expected);
});

test('SENDER_COMPONENTS lists the background components to run', () => {
  expect(loadSenderConfig({}).SENDER_COMPONENTS).toBeUndefined();
  expect(loadSenderConfig({ SENDER_COMPONENTS: 'send-worker, campaign-driver' }).SENDER_COMPONENTS).toEqual(['send-worker', 'campaign-driver']);
});

test('production refuses to start without its secrets, naming every one', () => {
  try {
    loadSenderConfig({ NODE_ENV: 'production', PORT: 'x' });
    throw new Error('expected a ConfigError');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.path).sort()).toEqual(['ADMIN_SECRET', 'PORT', 'TRACKING_KEYS', 'TRACKING_SIGNING_KEY_ID']);
  }
});

test.each([
  ['a short admin secret', { ADMIN_SECRET: 'short' }, 'ADMIN_SECRET'],
  ['tracking keys without secrets', { TRACKING_KEYS: 'k1' }, 'TRACKING_KEYS'],
  ['a signing key that is not listed', { TRACKING_KEYS: `k1:${'s'.repeat(32)}`, TRACKING_SIGNING_KEY_ID: 'k2' }, 'TRACKING_SIGNING_KEY_ID'],
  ['a bad SES endpoint', { SES_ENDPOINT: 'ftp://x' }, 'SES_ENDPOINT'],
  ['a zero send rate', { SES_MAX_SEND_RATE: '0' }, 'SES_MAX_SEND_RATE'],
])('%s is refused', (_n, env, path) => {
  expect(() => loadSenderConfig(env)).toThrow(ConfigError);
  try {
    loadSenderConfig(env);
  } catch (err) {
    expect((err as ConfigError).problems.map((p) => p.path)).toContain(path);
  }
});

test('production with everything set', () => {
  const c = loadSenderConfig({
    NODE_ENV: 'production',
    ADMIN_SECRET: 'a'.repeat(32),
    TRACKING_KEYS: `old:${'o'.repeat(32)}, new:${'n'.repeat(32)}`,
    TRACKING_SIGNING_KEY_ID: 'new',
  });
  expect(c.TRACKING_KEYS).toEqual({ old: 'o'.repeat(32), new: 'n'.repeat(32) });
  expect(c.warnings).toEqual([]);
});

test('ids are URL- and SES-tag-safe and sort in the order they were made', () => {
  const ids = Array.from({ length: 2000 }, () => newId('ct'));
  for (const id of ids) expect(id).toMatch(/^ct_[0-9A-Z]{26}$/);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});
