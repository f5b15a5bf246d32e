// Tracker hot-path benchmark (npm run bench:tracker). Loopback only, bounded in requests and time.
//
// 1. A bare Node http server answering the same GIF: the baseline, measured in this run.
// 2. The tracker (child process, booted like main.ts against the local stack), as booted and then
//    edge-only: a mix of pixel and click requests, 50 connections; every answer waits for Kafka's
//    ack (acks=all) or the spool.
// 3. Events of this run's unique workspace are counted in email-events.v1 and compared with the
//    answered requests.
// Goals: ratio_vs_bare >= 0.35, p99 < 20 ms, events_in_kafka == answered (both runs). Last line: one JSON object.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@payam/contracts';
import { ensureTopics } from '@payam/kafka';
import { connectMongo } from '@payam/mongo';
import { createLogger } from '@payam/observability';
import { stack } from '@payam/testkit';
import { TokenSigner } from '@payam/tracking-token';
import { cpuSecondsOf, scriptPid, startPortChild, stopChild } from '../child-process';

const CONNECTIONS = 50;
// Both servers get the same warm-up and load. 20,000 requests of warm-up: after 5,000 the JIT
// had not settled, and a 40,000-request run measured both servers below their steady rate.
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60_000);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

function startChild(script: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  // BENCH_PROFILE_DIR=<dir>: each server writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  return startPortChild(path.join(__dirname, script), env, profile);
}

async function load(port: number, requests: Array<{ path: string }>, amount: number) {
  return autocannon({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, amount, timeout: 30, requests });
}

/**
 * The measured load, and the server process's CPU per request over it (µs): steadier than the
 * rate on a machine whose stolen CPU moves by the minute. Only the server's own process: the
 * broker's and FerretDB's CPU are not in it.
 */
async function measured(child: ChildProcess, port: number, requests: Array<{ path: string }>) {
  const pid = scriptPid(child);
  const before = cpuSecondsOf(pid);
  const result = await load(port, requests, REQUESTS);
  return { result, cpuUsPerRequest: ((cpuSecondsOf(pid) - before) * 1e6) / result.requests.total };
}

async function topicEnds(kafka: Kafka): Promise<Array<{ partition: number; offset: string }>> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets('email-events.v1');
  await admin.disconnect();
  return ends.map((e) => ({ partition: e.partition, offset: e.high }));
}

/** Counts this run's events between the offsets noted before the run and the topic's end now. */
async function countEvents(kafka: Kafka, from: Array<{ partition: number; offset: string }>, workspaceId: string): Promise<{ events: number; distinctIds: number }> {
  const ends = await topicEnds(kafka);
  const start = new Map(from.map((f) => [f.partition, BigInt(f.offset)]));
  const remaining = new Map(ends.filter((e) => BigInt(e.offset) > (start.get(e.partition) ?? 0n)).map((e) => [e.partition, BigInt(e.offset)]));
  const ids = new Set<string>();
  let events = 0;
  if (remaining.size === 0) return { events, distinctIds: 0 };
  const groupId = `bench-tracker-count-${randomBytes(4).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({ groupId, topic: 'email-events.v1', partitions: from });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 10 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'email-events.v1' });
  const needle = `"workspaceId":"${workspaceId}"`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('counting events took longer than 120 s')), 120_000);
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          const end = remaining.get(batch.partition);
          for (const m of batch.messages) {
            if (end === undefined || BigInt(m.offset) >= end) continue;
            const text = m.value?.toString('utf8') ?? '';
            if (text.includes(needle)) {
              events++;
              ids.add((JSON.parse(text) as { id: string }).id);
            }
            if (BigInt(m.offset) + 1n >= end) {
              remaining.delete(batch.partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            }
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { events, distinctIds: ids.size };
}

async function main(): Promise<void> {
  const workspaceId = `ws_bench_${Date.now().toString(36)}`;
  const secret = randomBytes(32).toString('base64');
  const signer = new TokenSigner({ keys: [{ id: 'b1', secret }], signingKeyId: 'b1' });
  const issuedAt = Math.floor(Date.now() / 1000) - 3600;
  // 200 deliveries; per delivery one pixel and one click: the mix is half and half.
  const requests: Array<{ path: string }> = [];
  for (let i = 0; i < 200; i++) {
    const base = { workspaceId, contactId: `c${i}`, campaignId: 'bench', deliveryId: `d${i}`, variantId: null, issuedAt };
    requests.push({ path: `/o/${signer.sign({ ...base, kind: 'open' })}.gif` });
    requests.push({ path: `/c/${signer.sign({ ...base, kind: 'click', url: `https://example.com/p/${i}`, linkIndex: i % 5 })}` });
  }

  // Baseline.
  const bare = await startChild('bare-server.ts', process.env);
  await load(bare.port, requests, WARMUP);
  const { result: bareResult, cpuUsPerRequest: bareCpu } = await measured(bare.child, bare.port, requests);
  await stopChild(bare.child);

  // The tracker, twice: as main.ts boots it (the stats projector and the api-keys projection in
  // the process, writing to FerretDB on the same two cores), then as an edge-only instance
  // (RUN_CONSUMERS=false, the scale-out shape of README "Scaling out"), whose projector work runs
  // elsewhere and is measured by bench:projector.
  const kafka = new Kafka({ clientId: 'bench-tracker', brokers, logLevel: logLevel.NOTHING });
  // A brand-new broker has no topics yet: the offsets noted before the run need email-events.v1.
  await ensureTopics(kafka, [Topics.emailEvents]);
  const from = await topicEnds(kafka);
  const booted = await trackerRun(secret, requests, {});
  const edge = await trackerRun(secret, requests, { RUN_CONSUMERS: 'false' });
  const answered = booted.answered + edge.answered;
  const counted = await countEvents(kafka, from, workspaceId);

  // Requests per second over the whole measured run (autocannon's per-second average is coarse).
  const bareRps = rps(bareResult);
  const ratio = (r: Result) => Math.round((rps(r) / bareRps) * 1000) / 1000;
  const cpuRatio = (us: number) => Math.round((bareCpu / us) * 1000) / 1000;
  const summary = {
    bare_rps: Math.round(bareRps),
    tracker_rps: Math.round(rps(booted.result)),
    tracker_p50_ms: booted.result.latency.p50,
    edge_rps: Math.round(rps(edge.result)),
    edge_p50_ms: edge.result.latency.p50,
    bare_p99_ms: bareResult.latency.p99,
    errors: booted.errors + edge.errors,
    non_2xx_3xx: booted.non2xx3xx + edge.non2xx3xx,
    distinct_event_ids: counted.distinctIds,
    // CPU per request of the server process alone (µs): bare, the tracker as booted (its projector's consumer included, FerretDB not), edge-only.
    bare_cpu_us_per_req: Math.round(bareCpu),
    tracker_cpu_us_per_req: Math.round(booted.cpuUsPerRequest),
    edge_cpu_us_per_req: Math.round(edge.cpuUsPerRequest),
    cpu_ratio_vs_bare: cpuRatio(booted.cpuUsPerRequest),
    edge_cpu_ratio_vs_bare: cpuRatio(edge.cpuUsPerRequest),
  };
  console.log(`bench:tracker ${JSON.stringify(summary)}`);
  console.log(
    JSON.stringify({
      ratio_vs_bare: ratio(booted.result),
      p99_ms: booted.result.latency.p99,
      edge_ratio_vs_bare: ratio(edge.result),
      edge_p99_ms: edge.result.latency.p99,
      answered,
      events_in_kafka: counted.events,
    }),
  );
}

type Result = Awaited<ReturnType<typeof autocannon>>;

function rps(r: Result): number {
  return r.requests.total / r.duration;
}

/** One tracker process (booted like main.ts, `env` on top): warm-up, then the measured load. */
async function trackerRun(secret: string, requests: Array<{ path: string }>, env: NodeJS.ProcessEnv) {
  const dbName = `payam_bench_tracker_${randomBytes(4).toString('hex')}`;
  const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'bench-tracker-spool-'));
  const tracker = await startChild('tracker-server.ts', {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_DB: dbName,
    TRACKING_KEYS: `b1:${secret}`,
    SPOOL_DIR: spoolDir,
    STATS_GROUP_ID: `bench-tracker-stats-${randomBytes(4).toString('hex')}`,
    API_KEYS_GROUP_ID: `bench-tracker-keys-${randomBytes(4).toString('hex')}`,
    ...env,
  });
  let warm: Result;
  let result: Result;
  let cpuUsPerRequest: number;
  try {
    warm = await load(tracker.port, requests, WARMUP);
    ({ result, cpuUsPerRequest } = await measured(tracker.child, tracker.port, requests));
  } finally {
    await stopChild(tracker.child);
    await dropRunState(dbName, spoolDir);
  }
  return {
    result,
    cpuUsPerRequest,
    answered: warm['2xx'] + warm['3xx'] + result['2xx'] + result['3xx'],
    errors: result.errors + warm.errors,
    non2xx3xx: result.non2xx - result['3xx'] + (warm.non2xx - warm['3xx']),
  };
}

/** A run's database (its stats, ~20 MB) and spool go with it: runs used to leave one of each behind. */
async function dropRunState(dbName: string, spoolDir: string): Promise<void> {
  const conn = await connectMongo({ uri: stack.mongoUri, dbName, logger: createLogger({ service: 'bench-tracker', level: 'warn' }) });
  try {
    await conn.dropDatabase();
  } finally {
    await conn.close();
  }
  rmSync(spoolDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
