// SNS demo mode: the public demo key is accepted only with SNS_DEMO_MODE=true, never in production.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@payam/config';
import type { EmailEvent } from '@payam/contracts';
import { stack, topicEnd, uniqueName, waitFor } from '@payam/testkit';
import { loadTrackerConfig } from '../src/config';
import { DEMO_SNS_CERT_URL, DEMO_SNS_TOPIC_ARN } from '../src/ses/sns-demo';
import { collectTopic, startTestTracker } from './helpers';
import { makeSigningKey, notification, sesMail, type TestSigningKey } from './sns-fixtures';

const demoKey: TestSigningKey = {
  keyPem: readFileSync(path.join(__dirname, '..', 'demo', 'sns-demo-key.pem'), 'utf8'),
  certPem: readFileSync(path.join(__dirname, '..', 'demo', 'sns-demo-cert.pem'), 'utf8'),
};
const ws = uniqueName('ws_snsdemo');
const contact = uniqueName('ct_demo');

type Tracker = Awaited<ReturnType<typeof startTestTracker>>;
let demo: Tracker;
let plain: Tracker;
let collected: Awaited<ReturnType<typeof collectTopic<EmailEvent>>>;
const downloads: string[] = [];

beforeAll(async () => {
  const from = await topicEnd('email-events.v1');
  const fetchCertificate = async (url: string) => {
    downloads.push(url);
    return makeSigningKey().certPem;
  };
  [demo, plain, collected] = await Promise.all([
    startTestTracker({ env: { SNS_DEMO_MODE: 'true' }, fetchCertificate }),
    // Demo mode off, even with the demo topic allowed by hand: the demo certificate is not served.
    startTestTracker({ env: { SNS_ALLOWED_TOPIC_ARNS: DEMO_SNS_TOPIC_ARN }, fetchCertificate }),
    collectTopic<EmailEvent>(stack.kafkaBrokers, 'email-events.v1', from, (v) => v.workspaceId === ws),
  ]);
});
afterAll(async () => {
  await demo?.stop();
  await plain?.stop();
  await collected?.stop();
});

const post = (url: string, body: unknown) =>
  fetch(`${url}/ses/sns`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: JSON.stringify(body) });

function bounce(delivery: string, key: TestSigningKey, opts: { topic?: string; certUrl?: string } = {}) {
  const mail = sesMail({ workspace: ws, campaign: 'cmp_demo', delivery, contact, variant: 'B' }, ['gone@example.com']);
  const message = {
    eventType: 'Bounce',
    mail,
    bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'gone@example.com', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }], timestamp: new Date().toISOString() },
  };
  return notification(message, key, { topic: opts.topic ?? DEMO_SNS_TOPIC_ARN, certUrl: opts.certUrl ?? DEMO_SNS_CERT_URL });
}

test('demo mode accepts a bounce signed with the demo key and records it, without downloading anything', async () => {
  const res = await post(demo.url, bounce('dlv_demo1', demoKey));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ outcome: 'recorded' });
  const [ev] = await waitFor(() => {
    const evs = collected.items.filter((e) => e.deliveryId === 'dlv_demo1');
    return evs.length > 0 ? evs : undefined;
  }, { what: 'the demo bounce in Kafka' });
  expect(ev).toMatchObject({ type: 'email.bounced', contactId: contact, campaignId: 'cmp_demo', recipient: 'gone@example.com', bounceType: 'Permanent' });
  expect(downloads).not.toContain(DEMO_SNS_CERT_URL);
});

describe('demo mode adds one certificate and one topic, and checks everything else as usual', () => {
  const other = makeSigningKey();
  const cases: Array<[string, () => Record<string, string>]> = [
    ['signed with another key at the demo certificate URL', () => bounce('dlv_demo_other', other)],
    ['demo key, a topic not on the allow list', () => bounce('dlv_demo_topic', demoKey, { topic: 'arn:aws:sns:us-east-1:000000000000:someone-else' })],
    ['demo key, message changed after signing', () => ({ ...bounce('dlv_demo_forged', demoKey), Message: '{"eventType":"Complaint"}' })],
  ];
  test.each(cases)('%s → 403', async (_name, make) => {
    expect((await post(demo.url, make())).status).toBe(403);
  });
});

test('demo mode off: a demo-signed message is refused', async () => {
  expect((await post(plain.url, bounce('dlv_demo_off', demoKey))).status).toBe(403);
  // The URL went to the ordinary fetcher (AWS would not have it); nothing was recorded.
  expect(downloads).toContain(DEMO_SNS_CERT_URL);
  await new Promise((r) => setTimeout(r, 300));
  expect(collected.items.filter((e) => e.deliveryId !== 'dlv_demo1')).toEqual([]);
});

test('production with demo mode refuses to start, with one clear ConfigError', () => {
  const env = { NODE_ENV: 'production', TRACKING_KEYS: 'k1:' + 'x'.repeat(44), SNS_DEMO_MODE: 'true' };
  expect(() => loadTrackerConfig(env)).toThrow(ConfigError);
  expect(() => loadTrackerConfig(env)).toThrow(/SNS_DEMO_MODE: must not be true with NODE_ENV=production/);
  expect(loadTrackerConfig({ ...env, SNS_DEMO_MODE: 'false' }).SNS_DEMO_MODE).toBe(false);
});
