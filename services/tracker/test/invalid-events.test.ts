import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deterministicEventId, type DeadLetter, type EmailEvent } from '@payam/contracts';
import { stack, topicEnd, uniqueName, waitFor } from '@payam/testkit';
import { Spool } from '../src/spool/spool';
import { collectTopic, startTestTracker, tokenFor } from './helpers';
import { makeSigningKey, notification, sesMail, type TestSigningKey } from './sns-fixtures';

/*
 * An event that fails the email-events schema is bad input (or a bug), not a Kafka outage: it
 * must never reach the spool, and one already in the spool (written by an older version, or an
 * unchecked hot-path event) must not jam the replay of every event behind it.
 */
jest.setTimeout(90_000);
type Tracker = Awaited<ReturnType<typeof startTestTracker>>;
const ws = uniqueName('ws_invalid');
const LONG_RECIPIENT = `${'x'.repeat(400)}@example.com`; // SES does not bound it; the event schema does (320)

let key: TestSigningKey;
let events: Awaited<ReturnType<typeof collectTopic<EmailEvent>>>;
let letters: Awaited<ReturnType<typeof collectTopic<DeadLetter>>>;
const trackers: Tracker[] = [];

beforeAll(async () => {
  key = makeSigningKey();
  const [eventsFrom, lettersFrom] = await Promise.all([topicEnd('email-events.v1'), topicEnd('dead-letters.v1')]);
  [events, letters] = await Promise.all([
    collectTopic<EmailEvent>(stack.kafkaBrokers, 'email-events.v1', eventsFrom, (v) => v.workspaceId === ws),
    collectTopic<DeadLetter>(stack.kafkaBrokers, 'dead-letters.v1', lettersFrom, (v) => (v.value ?? '').includes(ws)),
  ]);
});
afterAll(async () => {
  for (const t of trackers) await t.stop();
  await Promise.all([events?.stop(), letters?.stop()]);
});

async function start(env: Record<string, string> = {}): Promise<Tracker> {
  const t = await startTestTracker({ fetchCertificate: async () => key.certPem, confirmSubscription: async () => undefined, env });
  trackers.push(t);
  return t;
}

const arrived = (deliveryId: string) =>
  waitFor(() => events.items.find((e) => e.deliveryId === deliveryId), { what: `the event of ${deliveryId} in Kafka` });

async function pixel(t: Tracker, deliveryId: string): Promise<number> {
  const res = await fetch(`${t.url}/o/${tokenFor({ kind: 'open', workspaceId: ws, deliveryId })}.gif`);
  await res.arrayBuffer();
  return res.status;
}

test('an SNS notification whose event fails the schema gets 400 with the field, and later events still flow', async () => {
  const t = await start();
  const mail = sesMail({ workspace: ws, campaign: 'cmp_bad', delivery: 'd-bad', contact: 'c_bad' });
  const body = notification({ eventType: 'Delivery', mail, delivery: { recipients: [LONG_RECIPIENT] } }, key);
  const res = await fetch(`${t.url}/ses/sns`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) });

  expect(res.status).toBe(400);
  const answer = (await res.json()) as { error: { code: string; details: Array<{ path: string; message: string }> } };
  expect(answer.error.code).toBe('validation_failed');
  expect(answer.error.details.map((d) => d.path)).toContain('events.0.recipient');
  expect(t.recorder.mode).toBe('direct');
  expect(t.recorder.pending).toBe(0);

  expect(await pixel(t, 'd-after-bad')).toBe(200);
  await arrived('d-after-bad');
  expect(t.recorder.mode).toBe('direct');
  expect(events.items.filter((e) => e.deliveryId === 'd-bad')).toEqual([]);
});

test('a spooled record that can never be published goes to dead letters; the records behind it are replayed', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tracker-spool-invalid-'));
  const valid = (deliveryId: string): EmailEvent => ({
    id: deterministicEventId('test', ws, deliveryId),
    schemaVersion: 1,
    type: 'email.delivered',
    occurredAt: new Date().toISOString(),
    workspaceId: ws,
    contactId: 'c_spool',
    campaignId: 'cmp_spool',
    deliveryId,
    variantId: null,
    messageId: null,
    recipient: 'rcpt@example.com',
    smtpResponse: null,
    processingTimeMs: null,
  });
  const poison = { ...valid('d-spool-poison'), recipient: LONG_RECIPIENT };
  const spool = await Spool.open(dir);
  await spool.append([poison, valid('d-spool-behind')].map((e) => ({ key: e.contactId, value: e })));
  await spool.close();

  const t = await start({ SPOOL_DIR: dir });
  await arrived('d-spool-behind');
  const letter = await waitFor(() => letters.items.find((l) => l.value?.includes('d-spool-poison')), { what: 'the dead letter' });
  expect(letter).toMatchObject({ topic: 'email-events.v1', key: 'c_spool' });
  expect(letter.problems.map((p) => p.path)).toContain('recipient');
  expect(await t.recorder.drained(30_000)).toBe(true);
  expect(t.recorder.mode).toBe('direct');
  expect(events.items.filter((e) => e.deliveryId === 'd-spool-poison')).toEqual([]);
});
