/* eslint-disable @typescript-eslint/no-explicit-any -- the services' JSON answers, read loosely as the story reads them */
// Issue 7, "Whole-journey test": the demo's story (demo/story, the same code `npm run demo` runs)
// played on the real stack against the three services started here in-process, and every
// number that matters checked end to end: mail in the SES emulator, events in Kafka, report
// figures, segment memberships, suppression, the A/B winner and the win-back.
import type http from 'node:http';
import type { Connection } from 'mongoose';
import { Topics, type EmailEvent } from '@payam/contracts';
import { closeServer, listen } from '@payam/http';
import { createKafka, ensureTopics, EventPublisher } from '@payam/kafka';
import { connectMongo, ensureIndexes } from '@payam/mongo';
import { createLogger, createMetrics } from '@payam/observability';
import { freePort, placeGroups, stack, topicEnds, uniqueName, waitFor, type Offsets } from '@payam/testkit';
import { buildSegmenter, type Segmenter } from '../services/segmenter/src/app';
import { ADMIN_SECRET, startSender, type SenderHarness } from '../services/sender/test/sender-harness';
import { placeSenderGroups } from '../services/sender/test/group-offsets';
import { readSince, startTestTracker, TEST_KEY } from '../services/tracker/test/helpers';
import { runStory, Story, type StoryResult } from '../demo/story';
import { members } from '../demo/story/audience';
import { call, mailbox, messageFacts, type Endpoints } from '../demo/story/client';
import { recipientOf } from '../demo/story/campaigns';

jest.setTimeout(480_000);

const CONTACTS = 600;

const logger = createLogger({ service: 'journey-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const log: string[] = [];
const t0 = Date.now();

let sender: SenderHarness;
let senderServer: http.Server;
let tracker: Awaited<ReturnType<typeof startTestTracker>>;
let segmenter: Segmenter;
let segConn: Connection;
let segServer: http.Server;
let segPublisher: EventPublisher;
let endpoints: Endpoints;
let emailEventsFrom: Offsets;

beforeAll(async () => {
  const bootKafka = createKafka({ brokers: stack.kafkaBrokers, clientId: 'journey-test', logger });
  await ensureTopics(bootKafka, Object.values(Topics));
  // Every group of the three services starts where its topics end now: the shared broker holds
  // every earlier run's records, and a group replaying them would not catch up within the test.
  const ends = await topicEnds(Object.values(Topics).map((t) => t.name));
  emailEventsFrom = ends[Topics.emailEvents.name]!;

  const trackerStats = uniqueName('journey_tracker_stats');
  const trackerKeys = uniqueName('journey_tracker_api_keys');
  // The sender puts the tracker's address in every link: the tracker's port is chosen first,
  // so the three services can start side by side (each consumer group join takes seconds).
  const trackerPort = await freePort();
  const groupPrefix = uniqueName('journey');
  const segGroup = uniqueName('journey_segmenter');
  const timed = async <T>(what: string, p: Promise<T>): Promise<T> => {
    const began = Date.now();
    const v = await p;
    log.push(`[boot] ${what} started in ${((Date.now() - began) / 1000).toFixed(1)}s`);
    return v;
  };
  await Promise.all([
    timed('tracker', (async () => {
      tracker = await startTestTracker({
        env: { PORT: String(trackerPort), SNS_DEMO_MODE: 'true', STATS_GROUP_ID: trackerStats, API_KEYS_GROUP_ID: trackerKeys, MONGODB_DB: uniqueName('payam_test_journey_tracker') },
        beforeConsumers: () =>
          placeGroups([
            { groupId: trackerStats, topic: Topics.emailEvents.name, at: ends[Topics.emailEvents.name]! },
            { groupId: trackerKeys, topic: Topics.apiKeys.name, at: ends[Topics.apiKeys.name]! },
          ]),
      });
    })()),
    timed('sender', (async () => {
      await placeSenderGroups(groupPrefix);
      sender = await startSender({
        dbPrefix: 'payam_test_journey_sender',
        groupPrefix,
        env: {
          TRACKING_BASE_URL: `http://127.0.0.1:${trackerPort}`,
          TRACKING_KEYS: `${TEST_KEY.id}:${TEST_KEY.secret}`,
          SES_MAX_SEND_RATE: '500',
          SENDER_SCHEDULER_INTERVAL_MS: '200',
          SENDER_WORKER_HEARTBEAT_MS: '500',
        },
      });
      senderServer = await listen(sender.sender.app, 0, '127.0.0.1');
    })()),
    timed('segmenter', (async () => {
      segConn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_journey_segmenter'), logger });
      segPublisher = new EventPublisher(bootKafka, logger);
      await segPublisher.connect();
      await placeGroups([{ groupId: `${segGroup}.api-keys`, topic: Topics.apiKeys.name, at: ends[Topics.apiKeys.name]! }]);
      segmenter = await buildSegmenter({
        conn: segConn,
        kafka: bootKafka,
        publisher: segPublisher,
        logger,
        metrics: createMetrics('segmenter'),
        consumerGroup: segGroup,
        sweepIntervalMs: 1000,
        startOffsets: ends,
      });
      await ensureIndexes(segConn);
      await segmenter.start();
      segServer = await listen(segmenter.app, 0, '127.0.0.1');
    })()),
  ]);
  const url = (s: http.Server) => `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  endpoints = { sender: url(senderServer), tracker: tracker.url, segmenter: url(segServer), ses: stack.sesEndpoint, adminSecret: ADMIN_SECRET };
}, 120_000);

afterAll(async () => {
  if (segServer) await closeServer(segServer, 2000);
  await segmenter?.stop();
  await segPublisher?.disconnect();
  await segConn?.db?.dropDatabase().catch(() => undefined);
  await segConn?.close();
  if (senderServer) await closeServer(senderServer, 2000);
  await sender?.close();
  await tracker?.conn.dropDatabase().catch(() => undefined);
  await tracker?.stop();
});

const emailsOf = (r: StoryResult) => ({
  warm: r.warmup.emails,
  test: r.ab.testEmails,
  remainder: r.ab.remainderEmails,
  winback: r.winback.emails,
});

const recipientsOnce = (emails: Array<Parameters<typeof recipientOf>[0]>) => {
  const rs = emails.map(recipientOf);
  return { list: rs, set: new Set(rs) };
};

test('the demo story, end to end on the real stack', async () => {
  const r = await runStory({
    endpoints,
    contacts: CONTACTS,
    decision: 'manual',
    // Bounded, but generous: the segmenter shares FerretDB and email-events.v1 with every other test run.
    stepTimeoutMs: 150_000,
    log: (line) => log.push(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}`),
  }).catch((err: Error) => {
    throw new Error(`${err.message}\nstory so far:\n${log.join('\n')}`);
  });
  const s = new Story({ endpoints, contacts: CONTACTS, decision: 'manual', stepTimeoutMs: 60_000, log: () => undefined });
  s.token = r.token;
  s.workspaceId = r.workspaceId;
  const byEmail = new Map(r.people.map((p) => [p.email, p]));
  const contactOf = (email: string) => byEmail.get(email)!.contactId;

  // --- the import ---
  expect(r.imported).toEqual({ processed: CONTACTS, created: CONTACTS, failed: 0 });

  // --- emails in the SES emulator, per phase: every recipient exactly once ---
  const m = emailsOf(r);
  const warmCount = Math.min(300, Math.max(100, Math.round(CONTACTS / 10)));
  const warm = recipientsOnce(m.warm);
  expect(warm.list).toHaveLength(warmCount);
  expect(warm.set).toEqual(new Set(r.people.slice(0, warmCount).map((p) => p.email)));

  const engagedIds = new Set([...r.warmup.engagement.humanOpeners, ...r.warmup.engagement.humanClickers]);
  const engagedEmails = new Set(r.people.filter((p) => engagedIds.has(p.contactId)).map((p) => p.email));
  const test = recipientsOnce(m.test);
  const remainder = recipientsOnce(m.remainder);
  expect(test.set.size).toBe(test.list.length);
  expect(remainder.set.size).toBe(remainder.list.length);
  expect(m.test.length).toBe(Math.round(engagedEmails.size * 0.5));
  expect(m.test.map((e) => messageFacts(e).variantId).sort()).toEqual(expect.arrayContaining(['A', 'B']));
  // The remainder: everyone engaged not in the test cohort, except the complainer (suppressed).
  expect(remainder.set.has(r.ab.complained.email)).toBe(false);
  expect(test.set.has(r.ab.complained.email)).toBe(false);
  const expectedRemainder = new Set([...engagedEmails].filter((e) => !test.set.has(e) && e !== r.ab.complained.email));
  expect(remainder.set).toEqual(expectedRemainder);
  expect(m.remainder.every((e) => messageFacts(e).variantId === 'B')).toBe(true);
  // The remainder's resolution left out the complainer (and the hard-bounced test recipient) by contact status.
  expect(r.ab.campaign.audienceCounts).toMatchObject({ complained: 1, bounced: 1 });
  // Nothing else of the A/B campaign went anywhere (the mailbox since the story started, all our addresses).
  const everything = await mailbox(endpoints.ses, t0, new Set(r.people.map((p) => p.email)));
  const ofCampaign = (id: string) => everything.filter((e) => messageFacts(e).campaignId === id);
  expect(ofCampaign(r.warmup.campaignId)).toHaveLength(warmCount);
  expect(ofCampaign(r.ab.campaignId)).toHaveLength(m.test.length + m.remainder.length);

  // --- the win-back: the dormant contact got exactly one, nobody else any ---
  const winback = ofCampaign(r.winback.campaignId);
  expect(winback.map(recipientOf)).toEqual([r.winback.contact.email]);
  expect(winback[0]!.subject).toBe(`We miss you, ${r.winback.contact.firstName}`);

  // --- suppression after the complaint (and the hard bounce) ---
  const sup = await call(endpoints.sender, 'GET', `/suppressions/${encodeURIComponent(r.ab.complained.email)}`, { token: r.token });
  expect(sup.status).toBe(200);
  expect(sup.body.reason).toBe('complaint');
  const bounceSup = await call(endpoints.sender, 'GET', `/suppressions/${encodeURIComponent(r.ab.bounced.email)}`, { token: r.token });
  expect(bounceSup.status).toBe(200);
  expect(bounceSup.body.reason).toBe('bounce');
  const notSup = await call(endpoints.sender, 'GET', `/suppressions/${encodeURIComponent(r.winback.contact.email)}`, { token: r.token });
  expect(notSup.status).toBe(404);

  // --- the winner ---
  expect(r.ab.decision.winnerId).toBe('B');
  expect(r.ab.decision.basis).toBe('manual');
  expect(r.ab.decision.reason).toEqual(expect.any(String));
  expect(r.ab.experiment.decision).toMatchObject({ winnerId: 'B', basis: 'manual' });
  expect(r.ab.campaign.state).toBe('completed');

  // --- events in Kafka for this workspace ---
  const warmEng = r.warmup.engagement;
  const abEng = r.ab.engagement;
  const sentTotal = m.warm.length + m.test.length + m.remainder.length + m.winback.length;
  const expected = {
    'email.sent': sentTotal,
    'email.delivered': m.test.length - 1 + m.remainder.length,
    'email.bounced': 1,
    'email.complained': 1,
    humanOpens: warmEng.humanOpeners.size + abEng.humanOpeners.size,
    machineOpens: warmEng.proxyOpeners.size + abEng.proxyOpeners.size,
    humanClicks: warmEng.humanClickers.size + abEng.humanClickers.size,
    machineClicks: warmEng.scannerClicked.size + abEng.scannerClicked.size,
  };
  let events: EmailEvent[] = [];
  const tally = () => {
    const n = (type: string, machine?: boolean) =>
      events.filter((e) => e.type === type && (machine === undefined || (e as any).classification?.machine === machine)).length;
    return {
      'email.sent': n('email.sent'),
      'email.delivered': n('email.delivered'),
      'email.bounced': n('email.bounced'),
      'email.complained': n('email.complained'),
      humanOpens: n('email.opened', false),
      machineOpens: n('email.opened', true),
      humanClicks: n('email.clicked', false),
      machineClicks: n('email.clicked', true),
    };
  };
  await waitFor(
    async () => {
      events = await readSince<EmailEvent>(stack.kafkaBrokers, Topics.emailEvents.name, emailEventsFrom, (e) => e.workspaceId === r.workspaceId);
      return JSON.stringify(tally()) === JSON.stringify(expected);
    },
    { timeoutMs: 30_000, intervalMs: 1000, what: 'the email events of the workspace in email-events.v1' },
  ).catch(() => undefined);
  expect(tally()).toEqual(expected);
  // Ids are deterministic: no event twice.
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

  // --- the tracker's report figures ---
  const warmCounts = r.warmup.report.totals.counts;
  expect(warmCounts.sent).toBe(m.warm.length);
  expect(warmCounts.uniqueHumanOpens).toBe(warmEng.humanOpeners.size);
  expect(warmCounts.uniqueOpens).toBe(new Set([...warmEng.humanOpeners, ...warmEng.proxyOpeners]).size);
  expect(warmCounts.uniqueHumanOpens).toBeLessThan(warmCounts.uniqueOpens);
  expect(warmCounts.uniqueHumanClicks).toBe(warmEng.humanClickers.size);
  expect(warmCounts.uniqueClicks).toBe(new Set([...warmEng.humanClickers, ...warmEng.scannerClicked]).size);
  const ab = await waitFor(
    async () => {
      const rep = (await call(endpoints.tracker, 'GET', `/campaigns/${r.ab.campaignId}/report`, { token: r.token })).body;
      const c = rep?.totals?.counts;
      return c && c.sent === m.test.length + m.remainder.length && c.uniqueHumanOpens === abEng.humanOpeners.size && c.uniqueHumanClicks === abEng.humanClickers.size ? rep : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 1000, what: 'the A/B report with every event' },
  ).catch(() => r.ab.report);
  const abCounts = ab.totals.counts;
  expect(abCounts.sent).toBe(m.test.length + m.remainder.length);
  expect(abCounts.delivered).toBe(m.test.length - 1 + m.remainder.length);
  expect(abCounts.bouncedHard).toBe(1);
  expect(abCounts.uniqueHumanOpens).toBe(abEng.humanOpeners.size);
  expect(abCounts.uniqueOpens).toBe(new Set([...abEng.humanOpeners, ...abEng.proxyOpeners]).size);
  expect(abCounts.uniqueHumanClicks).toBe(abEng.humanClickers.size);
  const variant = (id: string) => ab.variants.find((v: any) => v.variantId === id);
  const sentB = m.test.filter((e) => messageFacts(e).variantId === 'B').length + m.remainder.length;
  expect(variant('A').counts.sent).toBe(m.test.length - m.test.filter((e) => messageFacts(e).variantId === 'B').length);
  expect(variant('B').counts.sent).toBe(sentB);

  // --- segment memberships ---
  const seg = (k: string) => members(s, r.segments[k]!);
  expect(await seg('loyalty.gold')).toEqual(r.purchases.expected.gold);
  expect(await seg('loyalty.silver')).toEqual(r.purchases.expected.silver);
  expect(r.purchases.expected.gold.size).toBeGreaterThan(0);
  expect(r.purchases.expected.silver.size).toBeGreaterThan(0);
  const allHuman = new Set([...engagedIds, ...abEng.humanOpeners, ...abEng.humanClickers]);
  expect(await seg('engagement.engaged')).toEqual(allHuman);
  expect(await seg('engagement.dormant')).toEqual(new Set([r.winback.contact.contactId]));
  expect(await seg('deliverability.complainers')).toEqual(new Set([contactOf(r.ab.complained.email)]));
  expect(await seg('deliverability.hard_bounces')).toEqual(new Set([contactOf(r.ab.bounced.email)]));

  process.stdout.write(`${log.join('\n')}\n[${((Date.now() - t0) / 1000).toFixed(0)}s] journey checked\n`);
});
