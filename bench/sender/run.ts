// Sender benchmark: messages/second through the whole worker path (Kafka job → claim → render →
// tracking → SendEmail → event → outcome) into an SES endpoint that answers at once, against a
// raw SDK SendEmail loop with the same concurrency into the same endpoint in the same run; then
// the wall time of a campaign of BENCH_RECIPIENTS (default 100k) at a 1,000/s limit (ideal:
// recipients / 1000 s). Ends with one JSON line. Not a test: nothing is asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { Topics } from '@payam/contracts';
import type { Kafka } from 'kafkajs';
import { createKafka, ensureTopics, EventPublisher } from '@payam/kafka';
import { connectMongo } from '@payam/mongo';
import { createLogger, createMetrics } from '@payam/observability';
import { freePort, stack, uniqueName } from '@payam/testkit';
import { buildSender } from '../../services/sender/src/app';
import { loadSenderConfig } from '../../services/sender/src/config';
import { contactModel, type ContactDoc } from '../../services/sender/src/contacts/model';
import { startPortChild, stopChild } from '../child-process';

/** The raw loop's concurrency (it is CPU-bound well before this). */
const CONCURRENCY = 32;
/** The workers' SENDER_WORKER_CONCURRENCY (the service default for the rate unless set). */
const WORKER_CONCURRENCY = process.env.BENCH_WORKER_CONCURRENCY;
/**
 * Send-worker processes of the 100k campaign: this one plus BENCH_WORKER_PROCESSES - 1 spawned
 * `SENDER_COMPONENTS=send-worker` processes in the same consumer group (the scale-out shape; the
 * rate is split between them). The throughput ratio is always measured with this process alone.
 */
const WORKER_PROCESSES = Number(process.env.BENCH_WORKER_PROCESSES ?? 1);
const ROOT = path.join(__dirname, '..', '..');
const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 100_000);
const THROUGHPUT_N = Number(process.env.BENCH_THROUGHPUT_MESSAGES ?? Math.min(RECIPIENTS, 10_000));
const log = (msg: string) => process.stderr.write(`[bench:sender] ${msg}\n`);

/**
 * The SES endpoint that answers at once (fake-ses.ts), in a process of its own: in this one it
 * took a share of the CPU that the sender, whose SES is elsewhere, never pays.
 */
async function startFakeSes() {
  const { child, port } = await startPortChild(path.join(__dirname, 'fake-ses.ts'));
  const endpoint = `http://127.0.0.1:${port}`;
  const stats = async (prefix: string) => (await (await fetch(`${endpoint}/_stats?prefix=${encodeURIComponent(prefix)}`)).json()) as { count: number; duplicates: number };
  return {
    endpoint,
    count: async (prefix: string) => (await stats(prefix)).count,
    duplicates: async () => (await stats('')).duplicates,
    stop: () => stopChild(child, 15_000),
  };
}
type FakeSes = Awaited<ReturnType<typeof startFakeSes>>;

async function rawLoop(endpoint: string, n: number): Promise<number> {
  // The same SDK settings as the sender's SesMessenger (one attempt, the middleware stack resolved
  // once): the ratio compares the worker path with the SDK call it wraps, not two configurations.
  const client = new SESv2Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1, cacheMiddleware: true });
  // Untimed warm-up: a cold SDK and JIT made the baseline swing between 1,000 and 2,100 msg/s.
  await sendRaw(client, Math.min(2_000, n), 'warm');
  const started = performance.now();
  await sendRaw(client, n, 'raw');
  client.destroy();
  return n / ((performance.now() - started) / 1000);
}

async function sendRaw(client: SESv2Client, n: number, prefix: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        await client.send(
          new SendEmailCommand({
            FromEmailAddress: 'news@shop.example.com',
            Destination: { ToAddresses: [`${prefix}-${i}@bench.example.com`] },
            Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Html: { Data: '<p>Hi</p>' }, Text: { Data: 'Hi' } } } },
          }),
        );
      }
    }),
  );
}

/**
 * The sender's consumer groups with the topics they read. The bench's groups are new, and a new
 * group starts at the earliest offset: on a machine where earlier runs and tests left hundreds
 * of thousands of jobs and events in the shared topics, the bench would time their replay. A
 * long-running sender has committed offsets, so the bench's groups start at the topics' ends.
 */
const SENDER_GROUPS: Array<[group: string, topic: string]> = [
  ['sender.workers', Topics.sendJobs.name],
  ['sender.suppression', Topics.emailEvents.name],
  ['sender.experiments', Topics.emailEvents.name],
  ['sender.memberships', Topics.segmentMembership.name],
  ['sender.signals', Topics.campaignSignals.name],
];

async function startGroupsAtEnd(kafka: Kafka, groupPrefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const [group, topic] of SENDER_GROUPS) {
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({ groupId: `${groupPrefix}.${group}`, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the send workers' group has its members and partitions (joining is start-up, not sending). */
async function workersJoined(kafka: Kafka, groupPrefix: string, members: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let i = 0; i < 600; i++) {
      const { groups } = await admin.describeGroups([`${groupPrefix}.sender.workers`]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length >= members) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the send workers did not join their group within 60 s');
  } finally {
    await admin.disconnect();
  }
}

/** A worker-only sender process (main.ts with SENDER_COMPONENTS=send-worker); resolves once it answers /healthz. */
async function startWorkerProcess(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/sender/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, SENDER_COMPONENTS: 'send-worker', PORT: String(port), LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`worker process exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('worker process did not start within 60 s');
}

async function campaignRun(
  endpoint: string,
  rate: number,
  n: number,
  ses: FakeSes,
  workerProcesses = 1,
): Promise<{ sendSeconds: number; completedSeconds: number }> {
  const dbName = uniqueName('payam_bench_sender');
  const logger = createLogger({ service: 'bench-sender', level: process.env.BENCH_LOG_LEVEL ?? 'warn' });
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    MONGODB_URI: stack.mongoUri,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    MONGODB_DB: dbName,
    SES_ENDPOINT: endpoint,
    SES_MAX_SEND_RATE: String(rate),
    ...(WORKER_CONCURRENCY ? { SENDER_WORKER_CONCURRENCY: WORKER_CONCURRENCY } : {}),
    SENDER_SCHEDULER_INTERVAL_MS: '250',
  };
  const config = loadSenderConfig(env);
  const conn = await connectMongo({ uri: config.MONGODB_URI, dbName, logger });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'bench-sender', logger });
  await ensureTopics(kafka, Object.values(Topics));
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  const groupPrefix = uniqueName('bench');
  await startGroupsAtEnd(kafka, groupPrefix);
  const sender = buildSender({ config, logger, metrics: createMetrics('sender'), conn, kafka, publisher, groupPrefix });
  const workers: ChildProcess[] = [];
  try {
    await sender.start();
    for (let i = 1; i < workerProcesses; i++) workers.push(await startWorkerProcess({ ...env, SENDER_GROUP_PREFIX: groupPrefix }, await freePort()));
    const ctx = sender.ctx;
    const ws = await ctx.workspaces.createWorkspace('bench', 'bench');
    const workspaceId = ws.workspace.workspaceId;
    const list = await ctx.lists.create(workspaceId, 'bench');
    const tpl = await ctx.templates.create(workspaceId, {
      name: 'bench',
      subject: 'Hello {{first_name}}',
      preheader: '',
      html: '<html><body><p>Hi {{first_name}}</p><p><a href="https://shop.example.com/a">A</a> <a href="https://shop.example.com/b">B</a></p></body></html>',
      text: null,
      layoutId: null,
    });
    const prefix = `${uniqueName('b').toLowerCase()}.`;
    const now = new Date();
    for (let i = 0; i < n; i += 1000) {
      const docs: ContactDoc[] = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) {
        docs.push({
          _id: `ct_${prefix.replace('.', '')}_${String(j).padStart(7, '0')}`,
          workspaceId,
          email: `${prefix}${j}@bench.example.com`,
          status: 'subscribed',
          attributes: { first_name: `N${j}` },
          listIds: [list.listId],
          version: 1,
          createdAt: now,
          updatedAt: now,
          erasedAt: null,
        });
      }
      await contactModel(conn).collection.insertMany(docs as never[]);
    }
    await workersJoined(kafka, groupPrefix, workerProcesses);
    log(`seeded ${n} contacts; starting a campaign at ${rate}/s`);
    const campaign = await ctx.campaigns.create(workspaceId, {
      name: 'bench',
      templateId: (tpl as unknown as { templateId: string }).templateId,
      audience: { lists: [list.listId], segments: [], excludeLists: [], excludeSegments: [] },
      trigger: null,
      from: { name: 'Bench', address: 'news@shop.example.com' },
      replyTo: [],
      configurationSet: null,
      tags: {},
    });
    const started = performance.now();
    await ctx.campaigns.start(workspaceId, campaign._id);
    let sendSeconds = 0;
    let lastProgress = started;
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      const sent = await ses.count(prefix);
      if (!sendSeconds && sent >= n) sendSeconds = (performance.now() - started) / 1000;
      if (performance.now() - lastProgress >= 10_000) {
        lastProgress = performance.now();
        log(`  ${((lastProgress - started) / 1000).toFixed(0)} s: ${sent} sent`);
      }
      const c = await ctx.campaigns.model.findById(campaign._id, { state: 1 }).lean();
      if (c?.state === 'completed') break;
      if ((performance.now() - started) / 1000 > Math.max(600, (n / rate) * 5)) throw new Error('campaign did not complete in time');
    }
    const completedSeconds = (performance.now() - started) / 1000;
    return { sendSeconds: sendSeconds || completedSeconds, completedSeconds };
  } finally {
    await Promise.all(workers.map((w) => stopChild(w, 15_000)));
    await sender.stop();
    await publisher.disconnect();
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
  }
}

async function main(): Promise<void> {
  const ses = await startFakeSes();
  const { endpoint } = ses;

  const raw = await rawLoop(endpoint, THROUGHPUT_N);
  log(`raw SDK loop: ${raw.toFixed(0)} msg/s (${THROUGHPUT_N} messages, concurrency ${CONCURRENCY})`);
  const unlimited = await campaignRun(endpoint, 1_000_000, THROUGHPUT_N, ses);
  const workerRate = THROUGHPUT_N / unlimited.sendSeconds;
  log(`worker path: ${workerRate.toFixed(0)} msg/s (${THROUGHPUT_N} in ${unlimited.sendSeconds.toFixed(1)} s; completed after ${unlimited.completedSeconds.toFixed(1)} s)`);
  const limited = await campaignRun(endpoint, 1000, RECIPIENTS, ses, WORKER_PROCESSES);
  log(`${RECIPIENTS} recipients at 1000/s with ${WORKER_PROCESSES} worker process(es): all sent after ${limited.sendSeconds.toFixed(1)} s, completed after ${limited.completedSeconds.toFixed(1)} s (ideal ${(RECIPIENTS / 1000).toFixed(0)} s)`);
  const duplicates = await ses.duplicates();
  await ses.stop();
  const line = {
    ratio_vs_raw_sdk: Math.round((workerRate / raw) * 1000) / 1000,
    campaign_100k_s: Math.round(limited.completedSeconds * 10) / 10,
    duplicates,
    raw_sdk_msgs_per_s: Math.round(raw),
    worker_msgs_per_s: Math.round(workerRate),
    recipients: RECIPIENTS,
    all_sent_s: Math.round(limited.sendSeconds * 10) / 10,
    worker_processes: WORKER_PROCESSES,
  };
  process.stdout.write(JSON.stringify(line) + '\n');
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
