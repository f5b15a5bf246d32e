import { issueApiKey } from '@payam/api-keys';
import { Topics, type Classification, type EmailEvent } from '@payam/contracts';
import { createKafka, EventPublisher } from '@payam/kafka';
import { createLogger } from '@payam/observability';
import { stack, topicEnd, uniqueName, waitFor } from '@payam/testkit';
import { collectTopic, emailEventFor, startTestTracker } from './helpers';

type Tracker = Awaited<ReturnType<typeof startTestTracker>>;
let tracker: Tracker;
let publisher: EventPublisher;
let signals: Awaited<ReturnType<typeof collectTopic<Record<string, unknown>>>>;
const ws = uniqueName('ws_stats');
const otherWs = uniqueName('ws_other');
let token: string;
let otherToken: string;

const logger = createLogger({ service: 'tracker-test', level: 'silent' });

beforeAll(async () => {
  const from = await topicEnd(Topics.campaignSignals.name);
  [tracker, signals] = await Promise.all([
    startTestTracker({ env: { GUARDRAIL_MIN_DELIVERIES: '10' } }),
    collectTopic<Record<string, unknown>>(stack.kafkaBrokers, Topics.campaignSignals.name, from, (v) => v.workspaceId === ws),
  ]);
  publisher = new EventPublisher(createKafka({ brokers: stack.kafkaBrokers, clientId: 'tracker-stats-test', logger }), logger);
  await publisher.connect();
  const mine = issueApiKey({ workspaceId: ws, name: 'report test' });
  const other = issueApiKey({ workspaceId: otherWs, name: 'other workspace' });
  token = mine.token;
  otherToken = other.token;
  await publisher.publish(Topics.apiKeys, [mine, other].map((k) => ({ key: k.record.keyId, value: k.record })));
});
afterAll(async () => {
  await publisher?.disconnect();
  await tracker?.stop();
  await signals?.stop();
});

const human: Classification = { client: 'Chrome', clientVersion: '120', os: 'Windows', device: 'desktop', machine: false, machineReasons: [], ip: '192.0.2.0', userAgent: 'x' };
const proxy: Classification = { client: 'Gmail', clientVersion: null, os: null, device: 'proxy', machine: true, machineReasons: ['gmail_image_proxy'], ip: null, userAgent: 'y' };
const scanner: Classification = { ...human, device: 'bot', machine: true, machineReasons: ['scanner_agent'] };

function ev(type: EmailEvent['type'], campaignId: string, deliveryId: string, variantId: string | null, extra: Record<string, unknown> = {}): EmailEvent {
  return emailEventFor(ws, type, campaignId, deliveryId, variantId, extra);
}

const report = (campaignId: string, key = token) => fetch(`${tracker.url}/campaigns/${campaignId}/report`, { headers: { authorization: `Bearer ${key}` } });

test('repeat opens and clicks in later batches count as totals, never as new uniques', async () => {
  const c = 'cmpRepeat';
  const open = (d: string, cls: Classification) => ev('email.opened', c, d, null, { source: 'pixel', classification: cls });
  const click = (d: string, cls: Classification) =>
    ev('email.clicked', c, d, null, { source: 'redirect', url: 'https://example.com/x', linkIndex: 0, classification: cls });
  const counts = async (opens: number) =>
    (await waitFor(async () => {
      const res = await report(c);
      if (res.status !== 200) return undefined;
      const r = (await res.json()) as { totals: { counts: Record<string, number> } };
      return r.totals.counts.opens === opens ? r.totals.counts : undefined;
    }, { what: `${opens} opens in the report` })) as Record<string, number>;
  // Three rounds, each published only after the one before was counted: separate batches, so the
  // second and third meet markers stored (and remembered) by an earlier batch.
  await publisher.publish(Topics.emailEvents, [open('r1', human), click('r1', human)].map((e) => ({ key: e.contactId, value: e })));
  expect(await counts(1)).toMatchObject({ opens: 1, uniqueOpens: 1, uniqueHumanOpens: 1, clicks: 1, uniqueClicks: 1, uniqueHumanClicks: 1 });
  await publisher.publish(Topics.emailEvents, [open('r1', proxy), open('r1', human), click('r1', human), open('r2', proxy)].map((e) => ({ key: e.contactId, value: e })));
  expect(await counts(4)).toMatchObject({ opens: 4, opensHuman: 2, uniqueOpens: 2, uniqueHumanOpens: 1, clicks: 2, uniqueClicks: 1, uniqueHumanClicks: 1 });
  await publisher.publish(Topics.emailEvents, [open('r2', human), click('r2', scanner)].map((e) => ({ key: e.contactId, value: e })));
  expect(await counts(5)).toMatchObject({ opens: 5, opensHuman: 3, uniqueOpens: 2, uniqueHumanOpens: 2, clicks: 3, uniqueClicks: 2, uniqueHumanClicks: 1 });
});

test('the report of a scripted campaign: counts per variant, uniques, human vs total, links, breakdowns, hourly, rates', async () => {
  const c = 'cmpR';
  const unsub = ev('email.unsubscribed', c, 'd1', 'A', { source: 'one_click' });
  const open = (d: string, v: string, cls: Classification) => ev('email.opened', c, d, v, { source: 'pixel', classification: cls });
  const click = (d: string, v: string, link: number, cls: Classification) =>
    ev('email.clicked', c, d, v, { source: 'redirect', url: `https://example.com/${link}`, linkIndex: link, classification: cls });
  // An SES open notification that SNS delivered twice: one id, two records.
  const dupOpen = ev('email.opened', c, 'd1', 'A', { source: 'ses', classification: human });
  const delivered1 = ev('email.delivered', c, 'd1', 'A');
  const events: EmailEvent[] = [
    ...(['d1', 'd2'] as const).map((d) => ev('email.sent', c, d, 'A', { subject: 'Hi' })),
    ...(['d3', 'd4'] as const).map((d) => ev('email.sent', c, d, 'B', { subject: 'Hello' })),
    ev('email.failed', c, 'd5', 'A', { code: 'suppressed', reason: 'on the suppression list' }),
    delivered1,
    delivered1, // a redelivered copy: counted by its marker only, without an id check
    ev('email.delivered', c, 'd2', 'A'),
    ev('email.bounced', c, 'd3', 'B', { bounceType: 'Transient', bounceSubType: 'MailboxFull' }),
    ev('email.delivered', c, 'd3', 'B'),
    ev('email.bounced', c, 'd4', 'B', { bounceType: 'Permanent', bounceSubType: 'General' }),
    ev('email.complained', c, 'd2', 'A'),
    unsub,
    unsub, // a redelivered copy
    ev('email.unsubscribed', c, 'd1', 'A', { source: 'ses_subscription' }), // same recipient by another path
    dupOpen,
    dupOpen,
    open('d1', 'A', human),
    open('d1', 'A', proxy),
    open('d2', 'A', { ...proxy, client: 'Apple Mail', machineReasons: ['apple_mpp'] }),
    open('d3', 'B', human),
    click('d1', 'A', 0, human),
    click('d1', 'A', 0, human),
    click('d1', 'A', 1, human),
    click('d2', 'A', 0, scanner),
  ];
  await publisher.publish(Topics.emailEvents, events.map((e) => ({ key: e.contactId, value: e })));

  const body = await waitFor(async () => {
    const res = await report(c);
    if (res.status !== 200) return undefined;
    const r = (await res.json()) as { totals: { counts: Record<string, number> } };
    return r.totals.counts.clicks === 4 && r.totals.counts.opens === 5 && r.totals.counts.unsubscribed === 1 ? r : undefined;
  }, { what: 'the complete report' }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any

  expect(body.totals.counts).toEqual({
    sent: 4, failed: 1, accepted: 0, rejected: 0, delivered: 3, delayed: 0, bouncedHard: 1, bouncedSoft: 1, complained: 1, unsubscribed: 1,
    opens: 5, opensHuman: 3, uniqueOpens: 3, uniqueHumanOpens: 2, clicks: 4, clicksHuman: 3, uniqueClicks: 2, uniqueHumanClicks: 1,
  });
  expect(body.totals.rates).toEqual({
    delivery: 0.75, bounce: 0.5, complaint: 0.333333, unsubscribe: 0.333333,
    open: { total: 1, human: 0.666667 }, clickThrough: { total: 0.666667, human: 0.333333 }, clickToOpen: { total: 0.666667, human: 0.5 },
  });
  const a = body.variants.find((v: { variantId: string }) => v.variantId === 'A');
  const b = body.variants.find((v: { variantId: string }) => v.variantId === 'B');
  expect(a.counts).toMatchObject({ sent: 2, delivered: 2, complained: 1, uniqueOpens: 2, uniqueHumanOpens: 1, uniqueClicks: 2, uniqueHumanClicks: 1 });
  expect(b.counts).toMatchObject({ sent: 2, delivered: 1, bouncedHard: 1, bouncedSoft: 1, uniqueOpens: 1, uniqueHumanOpens: 1, clicks: 0 });
  expect(body.links).toEqual([
    { key: 'i0', url: 'https://example.com/0', clicks: 3, clicksHuman: 2, uniqueClicks: 2, uniqueHumanClicks: 1 },
    { key: 'i1', url: 'https://example.com/1', clicks: 1, clicksHuman: 1, uniqueClicks: 1, uniqueHumanClicks: 1 },
  ]);
  expect(body.clients.Chrome).toEqual({ opens: 3, opensHuman: 3, clicks: 4, clicksHuman: 3 });
  expect(body.clients.Gmail).toEqual({ opens: 1, opensHuman: 0, clicks: 0, clicksHuman: 0 });
  expect(body.devices.proxy.opens).toBe(2);
  expect(body.os.Windows.opensHuman).toBe(3);
  expect(body.hourly).toHaveLength(1);
  expect(body.hourly[0]).toMatchObject({ hour: '2030-01-02T10:00:00.000Z', sent: 4, opens: 5, clicks: 4 });
});

test('report access: no key 401, another workspace 404, unknown campaign 404, bad id 400 with the field path', async () => {
  await waitFor(async () => (await report('cmpR')).status === 200);
  expect((await fetch(`${tracker.url}/campaigns/cmpR/report`)).status).toBe(401);
  const other = await waitFor(async () => {
    const res = await report('cmpR', otherToken);
    return res.status === 401 ? undefined : res;
  });
  expect(other.status).toBe(404);
  expect((await report('nope')).status).toBe(404);
  const bad = await report('bad%20id!');
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: { details: Array<{ path: string }> } }).error.details[0]!.path).toBe('params.campaignId');
});

test('guardrail: complaint rate above the threshold after the minimum deliveries publishes one campaign.guardrail_tripped', async () => {
  const c = 'cmpG';
  const delivered = Array.from({ length: 12 }, (_, i) => ev('email.delivered', c, `g${i}`, null));
  await publisher.publish(Topics.emailEvents, delivered.map((e) => ({ key: e.contactId, value: e })));
  await publisher.publish(Topics.emailEvents, [ev('email.complained', c, 'g1', null)].map((e) => ({ key: e.contactId, value: e })));
  const [signal] = await waitFor(() => (signals.items.length > 0 ? signals.items : undefined), { what: 'the guardrail signal' });
  expect(signal).toMatchObject({ type: 'campaign.guardrail_tripped', campaignId: c, workspaceId: ws, rule: 'complaint_rate', complaints: 1, threshold: 0.003 });
  // Partitions are consumed independently: the complaint may be counted before the last deliveries.
  expect(signal!.deliveries).toBeGreaterThanOrEqual(10);
  expect(signal!.reason).toContain('complaint rate');
  // More complaints do not send it again.
  await publisher.publish(Topics.emailEvents, [ev('email.complained', c, 'g2', null)].map((e) => ({ key: e.contactId, value: e })));
  await waitFor(async () => ((await tracker.stats.campaigns.findOne({ _id: `${ws}:${c}:_` }))?.c?.complained === 2 ? true : undefined));
  await new Promise((r) => setTimeout(r, 300));
  expect(signals.items).toHaveLength(1);
});

test('below the minimum deliveries nothing is published, whatever the rate', async () => {
  const c = 'cmpSmall';
  const events = [ev('email.delivered', c, 's1', null), ev('email.complained', c, 's1', null)];
  await publisher.publish(Topics.emailEvents, events.map((e) => ({ key: e.contactId, value: e })));
  await waitFor(async () => ((await tracker.stats.campaigns.findOne({ _id: `${ws}:${c}:_` }))?.c?.complained === 1 ? true : undefined));
  expect(signals.items.filter((s) => s.campaignId === c)).toHaveLength(0);
});
