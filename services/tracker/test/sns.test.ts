import type { EmailEvent } from '@payam/contracts';
import { stack, topicEnd, uniqueName, waitFor } from '@payam/testkit';
import { collectTopic, startTestTracker } from './helpers';
import { CERT_URL, makeSigningKey, notification, sesMail, subscriptionConfirmation, TOPIC, type TestSigningKey } from './sns-fixtures';

type Tracker = Awaited<ReturnType<typeof startTestTracker>>;
let tracker: Tracker;
let collected: Awaited<ReturnType<typeof collectTopic<EmailEvent>>>;
let key: TestSigningKey;
let otherKey: TestSigningKey;
const fetched: string[] = [];
const confirmed: string[] = [];
const ws = uniqueName('ws_sns');

beforeAll(async () => {
  key = makeSigningKey();
  otherKey = makeSigningKey();
  const from = await topicEnd('email-events.v1');
  [tracker, collected] = await Promise.all([
    startTestTracker({
      fetchCertificate: async (url) => {
        fetched.push(url);
        return key.certPem;
      },
      confirmSubscription: async (url) => void confirmed.push(url),
    }),
    collectTopic<EmailEvent>(stack.kafkaBrokers, 'email-events.v1', from, (v) => v.workspaceId === ws),
  ]);
});
afterAll(async () => {
  await tracker?.stop();
  await collected?.stop();
});

const post = (body: unknown, contentType = 'text/plain; charset=UTF-8') =>
  fetch(`${tracker.url}/ses/sns`, { method: 'POST', headers: { 'content-type': contentType, 'x-amz-sns-message-type': 'Notification' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

const tags = (delivery: string) => ({ workspace: ws, campaign: 'cmp_sns', delivery, contact: `c_${delivery}`, variant: 'A' });
const eventsOf = (delivery: string, n: number) =>
  waitFor(() => {
    const evs = collected.items.filter((e) => e.deliveryId === delivery);
    return evs.length >= n ? evs : undefined;
  }, { what: `${n} events of ${delivery}` });

test.each(['1', '2'] as const)('a valid SignatureVersion %s notification is accepted and recorded', async (version) => {
  const mail = sesMail(tags(`d-v${version}`));
  const res = await post(notification({ eventType: 'Delivery', mail, delivery: { timestamp: new Date().toISOString(), recipients: mail.destination, smtpResponse: '250 ok', processingTimeMillis: 812 } }, key, { version }));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ outcome: 'recorded' });
  const [ev] = await eventsOf(`d-v${version}`, 1);
  expect(ev).toMatchObject({ type: 'email.delivered', campaignId: 'cmp_sns', contactId: `c_d-v${version}`, variantId: 'A', messageId: mail.messageId, recipient: 'rcpt@example.com', processingTimeMs: 812 });
  expect(fetched.every((u) => u === CERT_URL)).toBe(true);
});

describe('messages that are not genuine are refused before anything is believed', () => {
  const delivery = (d: string) => ({ eventType: 'Delivery', mail: sesMail(tags(d)), delivery: { recipients: ['rcpt@example.com'] } });
  const cases: Array<[string, () => Record<string, string>]> = [
    ['forged (message changed after signing)', () => ({ ...notification(delivery('d-forged'), key), Message: JSON.stringify(delivery('d-forged2')) })],
    ['re-signed with another key', () => notification(delivery('d-resigned'), otherKey)],
    ['topic not on the allow list', () => notification(delivery('d-topic'), key, { topic: 'arn:aws:sns:eu-west-1:123456789012:someone-else' })],
    ['certificate from another host', () => notification(delivery('d-host'), key, { certUrl: `https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-${'a'.repeat(32)}.pem` })],
    ['certificate over http', () => notification(delivery('d-http'), key, { certUrl: CERT_URL.replace('https:', 'http:') })],
    ['certificate of another region than the topic', () => notification(delivery('d-region'), key, { certUrl: CERT_URL.replace('eu-west-1', 'us-east-1') })],
    ['no signature', () => ({ ...notification(delivery('d-nosig'), key), Signature: 'AAAA' })],
  ];
  test.each(cases)('%s → 403', async (_name, make) => {
    const before = fetched.length;
    const res = await post(make());
    expect(res.status).toBe(403);
    if (!_name.startsWith('forged') && !_name.startsWith('re-signed') && !_name.startsWith('no signature')) expect(fetched.length).toBe(before);
  });
  afterAll(() => {
    expect(collected.items.filter((e) => ['d-forged', 'd-forged2', 'd-resigned', 'd-topic', 'd-host', 'd-http', 'd-region', 'd-nosig'].includes(e.deliveryId ?? ''))).toEqual([]);
  });
});

test('subscription confirmation: confirmed for an allowed topic only, and only at an SNS host', async () => {
  expect((await post(subscriptionConfirmation(key))).status).toBe(200);
  expect(confirmed).toHaveLength(1);
  expect(confirmed[0]).toMatch(/^https:\/\/sns\.eu-west-1\.amazonaws\.com\/\?Action=ConfirmSubscription/);
  expect((await post(subscriptionConfirmation(key, { topic: 'arn:aws:sns:eu-west-1:123456789012:other' }))).status).toBe(403);
  expect((await post(subscriptionConfirmation(key, { subscribeUrl: 'https://evil.example/?Action=ConfirmSubscription' }))).status).toBe(403);
  expect(confirmed).toHaveLength(1);
});

test('malformed bodies get 400 with field paths, never a 500', async () => {
  const res = await post({ Type: 'Notification', TopicArn: TOPIC });
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { details: Array<{ path: string }> } };
  expect(body.error.details.map((d) => d.path)).toEqual(expect.arrayContaining(['body.MessageId', 'body.Signature', 'body.SigningCertURL']));
  expect((await post('not json')).status).toBe(400);
  expect((await post({ a: 1 }, 'application/json')).status).toBe(400);
  expect((await post('')).status).toBe(400);
});

describe('every SES event type maps to its email event', () => {
  const now = () => new Date().toISOString();
  const cases: Array<[string, (mail: ReturnType<typeof sesMail>) => object, Record<string, unknown>]> = [
    ['Bounce Permanent', (mail) => ({ eventType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'rcpt@example.com', diagnosticCode: 'smtp; 550 no such user' }], timestamp: now() } }), { type: 'email.bounced', bounceType: 'Permanent', bounceSubType: 'General', diagnosticCode: 'smtp; 550 no such user' }],
    ['Bounce Transient', (mail) => ({ eventType: 'Bounce', mail, bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'rcpt@example.com' }], timestamp: now() } }), { type: 'email.bounced', bounceType: 'Transient', bounceSubType: 'MailboxFull' }],
    ['Bounce Undetermined', (mail) => ({ eventType: 'Bounce', mail, bounce: { bounceType: 'Undetermined', bounceSubType: 'Undetermined', bouncedRecipients: [{ emailAddress: 'rcpt@example.com' }] } }), { type: 'email.bounced', bounceType: 'Undetermined' }],
    ['Complaint', (mail) => ({ eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: 'rcpt@example.com' }], complaintFeedbackType: 'abuse', timestamp: now() } }), { type: 'email.complained', feedbackType: 'abuse' }],
    ['Delivery', (mail) => ({ eventType: 'Delivery', mail, delivery: { recipients: ['rcpt@example.com'], timestamp: now() } }), { type: 'email.delivered' }],
    ['DeliveryDelay', (mail) => ({ eventType: 'DeliveryDelay', mail, deliveryDelay: { delayType: 'MailboxFull', delayedRecipients: [{ emailAddress: 'rcpt@example.com' }], expirationTime: now(), timestamp: now() } }), { type: 'email.delivery_delayed', delayType: 'MailboxFull' }],
    ['Reject', (mail) => ({ eventType: 'Reject', mail, reject: { reason: 'Bad content' } }), { type: 'email.rejected', reason: 'Bad content' }],
    ['Send', (mail) => ({ eventType: 'Send', mail, send: {} }), { type: 'email.accepted' }],
    ['Open', (mail) => ({ eventType: 'Open', mail, open: { ipAddress: '192.0.2.77', timestamp: now(), userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148' } }), { type: 'email.opened', source: 'ses', classification: expect.objectContaining({ client: 'Apple Mail', os: 'iOS', device: 'mobile', ip: '192.0.2.0' }) }],
    ['Click', (mail) => ({ eventType: 'Click', mail, click: { ipAddress: '192.0.2.1', timestamp: now(), userAgent: 'curl/8.4.0', link: 'https://example.com/x' } }), { type: 'email.clicked', source: 'ses', url: 'https://example.com/x', classification: expect.objectContaining({ machine: true, machineReasons: expect.arrayContaining(['scanner_agent']) }) }],
    ['Subscription', (mail) => ({ eventType: 'Subscription', mail, subscription: { contactList: 'news', timestamp: now(), source: 'UnsubscribeHeader' } }), { type: 'email.unsubscribed', source: 'ses_subscription' }],
    ['Bounce as an identity notification', (mail) => ({ notificationType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bounceSubType: 'Suppressed', bouncedRecipients: [{ emailAddress: 'rcpt@example.com' }] } }), { type: 'email.bounced', bounceType: 'Permanent' }],
  ];
  test.each(cases)('%s', async (name, make, expected) => {
    const delivery = `d-map-${name.replace(/\W+/g, '-')}`;
    const mail = sesMail(tags(delivery));
    const res = await post(notification(make(mail), key, { version: '2' }));
    expect(res.status).toBe(200);
    const [ev] = await eventsOf(delivery, 1);
    expect(ev).toMatchObject({ ...expected, workspaceId: ws, campaignId: 'cmp_sns', deliveryId: delivery, messageId: mail.messageId, recipient: 'rcpt@example.com' });
  });
});

test('one event per recipient', async () => {
  const mail = sesMail(tags('d-multi'), ['a@example.com', 'b@example.com']);
  await post(notification({ eventType: 'Send', mail }, key));
  const evs = await eventsOf('d-multi', 2);
  expect(evs.map((e) => e.recipient).sort()).toEqual(['a@example.com', 'b@example.com']);
});

test('a notification without a workspace tag is dropped (200, counted), not recorded', async () => {
  const mail = sesMail({ campaign: 'cmp_sns', delivery: 'd-untagged', contact: 'c1' });
  const res = await post(notification({ eventType: 'Delivery', mail, delivery: { recipients: ['rcpt@example.com'] } }, key));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ outcome: 'dropped' });
  const metrics = await tracker.metrics.registry.getSingleMetricAsString('payam_tracker_ses_dropped_total');
  expect(metrics).toContain('reason="no_workspace_tag"');
});

test('a redelivered notification (same SES message) has the same event id and is counted once', async () => {
  const mail = sesMail({ ...tags('d-redeliver'), campaign: 'cmp_redeliver' });
  const body = { eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: 'rcpt@example.com' }], timestamp: new Date().toISOString() } };
  expect((await post(notification(body, key))).status).toBe(200);
  expect((await post(notification(body, key, { version: '2' }))).status).toBe(200); // SNS retry: new envelope, same SES message
  const evs = await eventsOf('d-redeliver', 2);
  expect(new Set(evs.map((e) => e.id)).size).toBe(1);
  const doc = await waitFor(async () => {
    const d = await tracker.stats.campaigns.findOne({ _id: `${ws}:cmp_redeliver:A` });
    return d?.c?.complained ? d : undefined;
  });
  await new Promise((r) => setTimeout(r, 500));
  expect((await tracker.stats.campaigns.findOne({ _id: doc._id }))?.c?.complained).toBe(1);
});
