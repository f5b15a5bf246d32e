/**
 * Segmenter benchmark (not a test; no assertions). In one run, on the real stack:
 *  1. events applied per second by the segmenter vs a raw kafkajs consume of the same topic;
 *  2. event-to-membership-change latency (p50/p95), one event at a time;
 *  3. full recompute of BENCH_CONTACTS (default 1,000,000) synthetic contacts with 10 segments.
 * Ends with one JSON line. BENCH_EVENTS, BENCH_CONTACTS shrink it for a quick run.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, type ContactEvent, type TopicSpec } from '@payam/contracts';
import { createKafka, ensureTopics, EventPublisher } from '@payam/kafka';
import { connectMongo, ensureIndexes } from '@payam/mongo';
import { createLogger, createMetrics } from '@payam/observability';
import { buildSegmenter } from '../../services/segmenter/src/app';
import { systemClock } from '../../services/segmenter/src/evaluation/processor';
import { createRecomputeJob, runRecompute } from '../../services/segmenter/src/evaluation/recompute';
import { emptyProfile } from '../../services/segmenter/src/profiles/profile';
import { applyEvent, applySnapshot } from '../../services/segmenter/src/profiles/reducer';
import { toDoc } from '../../services/segmenter/src/profiles/store';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const MONGO = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 50);
const tag = `${Date.now().toString(36)}_${randomUUID().slice(0, 6)}`;
const logger = createLogger({ service: 'bench-segmenter', level: 'warn' });

const SEGMENTS: unknown[] = [
  { event: 'contact.purchase', within: '30d', count: { gte: 1 } },
  { sum: 'purchase.amount', value: { gte: 500 } },
  { profile: 'lifecycle', op: 'eq', value: 'customer' },
  { profile: 'tier', op: 'eq', value: 'silver' },
  { not: { last: 'contact.purchase', within: '90d' } },
  { attr: 'country', op: 'eq', value: 'DE' },
  { all: [{ attr: 'plan', op: 'in', value: ['pro', 'team'] }, { event: 'contact.signup', count: { gte: 1 } }] },
  { event: 'contact.custom', name: 'demo', within: '14d', count: { gte: 1 } },
  { bucket: { lt: 10 }, salt: 'holdout' },
  { profile: 'rfm.total', op: 'gte', value: 10 },
];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

function purchaseEvent(ws: string, cid: string, amount: number, at = Date.now()): ContactEvent {
  return { id: randomUUID(), schemaVersion: 1, occurredAt: new Date(at).toISOString(), workspaceId: ws, contactId: cid, type: 'contact.purchase', amount, currency: 'EUR', orderId: null, items: [] };
}

async function rawConsume(topic: string, n: number): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-raw-${tag}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) JSON.parse(m.value!.toString('utf8'));
        seen += batch.messages.length;
        if (seen >= n) resolve();
      },
    });
  });
  const s = (Date.now() - started) / 1000;
  await consumer.disconnect();
  return n / s;
}

async function main(): Promise<void> {
  const kafka = createKafka({ brokers: BROKERS, clientId: 'bench-segmenter', logger });
  const benchTopic: TopicSpec = { ...Topics.contactEvents, name: `bench-contact-events-${tag}` };
  const benchContacts: TopicSpec = { ...Topics.contacts, name: `bench-contacts-${tag}` };
  const benchEmail: TopicSpec = { ...Topics.emailEvents, name: `bench-email-events-${tag}` };
  await ensureTopics(kafka, [benchTopic, benchContacts, benchEmail, Topics.segmentMembership, Topics.apiKeys, Topics.deadLetters]);
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  const ws = `ws_bench_${tag}`;

  // 1. Throughput: publish EVENTS purchases over 5,000 contacts, then consume raw and with the segmenter.
  console.error(`publishing ${EVENTS} events to ${benchTopic.name}`);
  for (let i = 0; i < EVENTS; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, EVENTS - i) }, (_, j) => purchaseEvent(ws, `c${(i + j) % 5000}`, 10 + ((i + j) % 90)));
    await publisher.publish(benchTopic, batch.map((e) => ({ key: e.contactId, value: e })));
  }
  const rawRate = await rawConsume(benchTopic.name, EVENTS);
  console.error(`raw kafkajs consume: ${rawRate.toFixed(0)} events/s`);

  const conn = await connectMongo({ uri: MONGO, dbName: `payam_bench_segmenter_${tag}`, logger, maxPoolSize: 20 });
  const seg = await buildSegmenter({
    conn,
    kafka,
    publisher,
    logger,
    metrics: createMetrics('segmenter'),
    consumerGroup: `bench-segmenter-${tag}`,
    sweepIntervalMs: 1000,
    topics: { contacts: benchContacts, emailEvents: benchEmail, contactEvents: benchTopic },
  });
  await ensureIndexes(conn);
  for (const rule of SEGMENTS.slice(0, 3)) await seg.deps.segments.create({ _id: `seg_${randomUUID().slice(0, 8)}`, workspaceId: ws, name: 'b', rule, version: 1, template: null, deleted: false, createdAt: new Date(), updatedAt: new Date() });
  let applied = 0;
  const started = Date.now();
  await seg.start({ onApplied: (n) => (applied += n) });
  while (applied < EVENTS) await new Promise((r) => setTimeout(r, 50));
  const segRate = EVENTS / ((Date.now() - started) / 1000);
  console.error(`segmenter applied: ${segRate.toFixed(0)} events/s (ratio ${(segRate / rawRate).toFixed(2)})`);

  // 2. Latency: a known contact buys; time until the "bought in 30 days" change is published.
  const latencies: number[] = [];
  const waiting = new Map<string, number>();
  seg.deps.onChanges = (changes) => {
    for (const c of changes) {
      const t0 = waiting.get(c.contactId);
      if (t0 !== undefined && c.type === 'segment.entered') {
        latencies.push(Date.now() - t0);
        waiting.delete(c.contactId);
      }
    }
  };
  const snap = (cid: string) => ({ id: randomUUID(), type: 'contact.snapshot' as const, schemaVersion: 1 as const, occurredAt: new Date().toISOString(), workspaceId: ws, contactId: cid, version: 1, email: `${cid}@bench.test`, status: 'subscribed' as const, attributes: {}, listIds: [], createdAt: new Date().toISOString() });
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const cid = `lat${i}`;
    await publisher.publish(benchContacts, [{ key: cid, value: snap(cid) }]);
    await new Promise((r) => setTimeout(r, 150));
    waiting.set(cid, Date.now());
    await publisher.publish(benchTopic, [{ key: cid, value: purchaseEvent(ws, cid, 5) }]);
    const deadline = Date.now() + 10_000;
    while (waiting.has(cid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }
  await seg.stop();
  console.error(`latency p50 ${pct(latencies, 50)} ms, p95 ${pct(latencies, 95)} ms (${latencies.length} samples)`);

  // 3. Full recompute: CONTACTS synthetic profiles written straight to the store, 10 segments.
  const rws = `ws_bench_rc_${tag}`;
  const now = Date.now();
  let t = Date.now();
  for (let i = 0; i < CONTACTS; i += 2000) {
    const docs = [];
    for (let j = i; j < Math.min(CONTACTS, i + 2000); j++) {
      const p = emptyProfile(rws, `c${j}`);
      applySnapshot(p, { ...snap(`c${j}`), workspaceId: rws, contactId: `c${j}`, attributes: { country: j % 3 ? 'FR' : 'DE', plan: j % 4 ? 'free' : 'pro' } });
      if (j % 2) applyEvent(p, purchaseEvent(rws, `c${j}`, j % 700, now - (j % 200) * 86_400_000), now);
      docs.push(toDoc(p, 1));
    }
    await seg.deps.profiles.insertMany(docs, { ordered: false, lean: true });
    if (i % 100_000 === 0) console.error(`seeded ${i + docs.length}/${CONTACTS} (${((Date.now() - t) / 1000).toFixed(0)} s)`);
  }
  console.error(`seeded ${CONTACTS} profiles in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  for (const [i, rule] of SEGMENTS.entries()) await seg.deps.segments.create({ _id: `seg_rc${i}_${tag}`, workspaceId: rws, name: `s${i}`, rule, version: 1, template: null, deleted: false, createdAt: new Date(), updatedAt: new Date() });
  const deps = { ...seg.deps, clock: systemClock, onChanges: undefined };
  const job = await createRecomputeJob(deps, rws);
  t = Date.now();
  const done = await runRecompute(deps, job, {
    batchSize: Number(process.env.BENCH_RECOMPUTE_BATCH ?? 2000),
    onProgress: (p, total) => {
      if (p % 100_000 < 2000) console.error(`recompute ${p}/${total} (${((Date.now() - t) / 1000).toFixed(0)} s)`);
    },
  });
  const recomputeS = (Date.now() - t) / 1000;
  console.error(`recompute ${done.status}: ${done.processed} contacts, ${done.changes} changes in ${recomputeS.toFixed(1)} s`);

  await conn.db?.dropDatabase();
  await conn.close();
  await publisher.disconnect();
  console.log(
    JSON.stringify({
      ratio_vs_raw_consume: Number((segRate / rawRate).toFixed(3)),
      latency_p50_ms: pct(latencies, 50),
      latency_p95_ms: pct(latencies, 95),
      recompute_1m_s: Number(((recomputeS * 1_000_000) / CONTACTS).toFixed(1)),
      recompute_contacts: CONTACTS,
      recompute_measured_s: Number(recomputeS.toFixed(1)),
      raw_events_per_s: Math.round(rawRate),
      segmenter_events_per_s: Math.round(segRate),
    }),
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
