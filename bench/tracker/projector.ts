// Stats projector catch-up benchmark (npm run bench:projector). Publishes BENCH_EVENTS opens and
// clicks of one run's workspace to email-events.v1, then starts the projector (as service.ts
// wires it) at the offsets noted before, and measures how fast it works through them: the rate
// at which it can keep up with the edge. BENCH_CAMPAIGNS × BENCH_VARIANTS sets how many stats
// documents a batch touches (1 × 1 is bench:tracker's mix; BENCH_DELIVERIES spreads them over
// the partitions). BENCH_MIX=lifecycle publishes instead what a stream carries per message: its
// sent, accepted (SES Send) and delivered events, then one open. Reports the operations each
// MongoDB update command carried. Last line: one JSON object.
import { randomBytes } from 'node:crypto';
import { deterministicEventId, randomEventId, Topics, type Classification, type EmailEvent } from '@payam/contracts';
import { clusterIdOf, createKafka, ensureTopics, EventPublisher, runConsumer, subscribe } from '@payam/kafka';
import { connectMongo } from '@payam/mongo';
import { createLogger } from '@payam/observability';
import { StatsProjector } from '../../services/tracker/src/stats/projector';
import { ensureStatsIndexes, statsCollections, type StatsCollections } from '../../services/tracker/src/stats/store';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const CAMPAIGNS = Number(process.env.BENCH_CAMPAIGNS ?? 1);
const VARIANTS = Number(process.env.BENCH_VARIANTS ?? 1);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 200);
const MIX = process.env.BENCH_MIX ?? 'opens';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const mongoUri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';

const human: Classification = { client: 'Gmail', clientVersion: null, os: 'Android', device: 'mobile', machine: false, machineReasons: [], ip: '192.0.2.0', userAgent: 'bench' };
const machine: Classification = { ...human, client: null, os: null, device: 'proxy', machine: true, machineReasons: ['apple_mpp'] };

/** The fields every event of delivery `d` shares. */
function envelope(ws: string, d: number, variantId: string | null) {
  return {
    schemaVersion: 1 as const,
    occurredAt: new Date().toISOString(),
    workspaceId: ws,
    contactId: `c${d}`,
    campaignId: `cmp${d % CAMPAIGNS}`,
    deliveryId: `d${d}`,
    variantId,
    messageId: null as string | null,
    recipient: null as string | null,
  };
}

/** The i-th event of the lifecycle mix: per delivery, sent, accepted, delivered, then an open. */
function lifecycleEventAt(ws: string, i: number): EmailEvent {
  const d = Math.floor(i / 4);
  const base = { ...envelope(ws, d, null), messageId: `m${d}`, recipient: `r${d}@example.com` };
  const id = (type: string) => deterministicEventId(type, ws, `d${d}`);
  switch (i % 4) {
    case 0:
      return { ...base, id: id('email.sent'), type: 'email.sent', subject: 'Hello' };
    case 1:
      return { ...base, id: id('email.accepted'), type: 'email.accepted' };
    case 2:
      return { ...base, id: id('email.delivered'), type: 'email.delivered', smtpResponse: '250 ok', processingTimeMs: 900 };
    default:
      return { ...base, id: randomEventId(), messageId: null, recipient: null, type: 'email.opened', source: 'pixel', classification: i % 3 === 0 ? machine : human };
  }
}

function eventAt(ws: string, i: number): EmailEvent {
  if (MIX === 'lifecycle') return lifecycleEventAt(ws, i);
  const d = i % DELIVERIES;
  const base = { ...envelope(ws, d, VARIANTS > 1 ? `v${Math.floor(d / CAMPAIGNS) % VARIANTS}` : null), id: randomEventId() };
  const classification = i % 3 === 0 ? machine : human;
  return i % 2 === 0
    ? { ...base, type: 'email.opened', source: 'pixel', classification }
    : { ...base, type: 'email.clicked', source: 'redirect', url: `https://example.com/p/${d}`, linkIndex: d % 5, classification };
}

/** Counts the operations of every update command the projector sends (bulkWrite = one command). */
function countOps(stats: StatsCollections): number[] {
  const sizes: number[] = [];
  for (const coll of [stats.campaigns, stats.hourly] as const) {
    const c = coll as unknown as { bulkWrite: (ops: unknown[], o?: unknown) => Promise<unknown>; updateOne: (...a: unknown[]) => Promise<unknown> };
    const bulkWrite = c.bulkWrite.bind(c);
    const updateOne = c.updateOne.bind(c);
    c.bulkWrite = (ops, o) => (sizes.push(ops.length), bulkWrite(ops, o));
    c.updateOne = (...a) => (sizes.push(1), updateOne(...a));
  }
  return sizes;
}

async function main(): Promise<void> {
  const logger = createLogger({ service: 'bench-projector', level: 'warn' });
  const ws = `ws_bench_proj_${Date.now().toString(36)}`;
  const kafka = createKafka({ brokers, clientId: 'bench-projector', logger });
  await ensureTopics(kafka, [Topics.emailEvents, Topics.deadLetters]);
  const admin = kafka.admin();
  await admin.connect();
  const from = await admin.fetchTopicOffsets(Topics.emailEvents.name);
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  for (let i = 0; i < EVENTS; i += 2000) {
    const chunk = Array.from({ length: Math.min(2000, EVENTS - i) }, (_, j) => eventAt(ws, i + j));
    await publisher.publish(Topics.emailEvents, chunk.map((e) => ({ key: e.contactId, value: e })), { validate: false });
  }
  const groupId = `bench-projector-${randomBytes(4).toString('hex')}`;
  await admin.setOffsets({ groupId, topic: Topics.emailEvents.name, partitions: from.map((p) => ({ partition: p.partition, offset: p.high })) });
  await admin.disconnect();

  const conn = await connectMongo({ uri: mongoUri, dbName: `payam_bench_projector_${randomBytes(4).toString('hex')}`, logger, appName: 'bench-projector' });
  const stats = statsCollections(conn);
  await ensureStatsIndexes(stats);
  const sizes = countOps(stats);
  const projector = new StatsProjector(stats, logger, { clusterId: await clusterIdOf(kafka) });
  let ours = 0;
  let projected = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const started = Date.now();
  const consumer = await runConsumer({
    kafka,
    groupId,
    logger,
    deadLetters: publisher,
    subscriptions: [
      subscribe({
        topic: Topics.emailEvents,
        handleBatch: async (records) => {
          await projector.handleBatch(records);
          projected += records.length;
          ours += records.filter((r) => r.value.workspaceId === ws).length;
          if (ours >= EVENTS) done();
        },
      }),
    ],
  });
  await finished;
  const seconds = (Date.now() - started) / 1000;
  await consumer.stop();
  await publisher.disconnect();
  const doc = await stats.campaigns.findOne({ workspaceId: ws }, { sort: { _id: 1 } });
  await conn.dropDatabase();
  await conn.close();

  const sorted = [...sizes].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      events: EVENTS,
      mix: MIX,
      stats_docs: CAMPAIGNS * VARIANTS,
      seconds: Math.round(seconds * 10) / 10,
      events_per_s: Math.round(projected / seconds),
      update_commands: sizes.length,
      ops_per_command_p50: sorted[Math.floor(sorted.length / 2)] ?? 0,
      ops_per_command_max: sorted[sorted.length - 1] ?? 0,
      sample_opens: doc?.c?.opens ?? 0,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
