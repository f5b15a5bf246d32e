import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { placeGroups, stack, topicEnd, uniqueName } from '@payam/testkit';
import type { EmailEvent } from '@payam/contracts';
import { createLogger } from '@payam/observability';
import { TokenSigner, type TokenPayload } from '@payam/tracking-token';
import { loadTrackerConfig } from '../src/config';
import { startTracker, type RunningTracker, type TrackerOverrides } from '../src/service';

export const TEST_KEY = { id: 'k1', secret: randomBytes(32).toString('base64') };
export const signer = new TokenSigner({ keys: [TEST_KEY], signingKeyId: 'k1' });
/** Same key id, another secret: what a forger with a guessed id would produce. */
export const wrongKeySigner = new TokenSigner({ keys: [{ id: 'k1', secret: randomBytes(32).toString('base64') }], signingKeyId: 'k1' });

/** An event of workspace `ws` with its envelope filled in (`extra`: the type's own fields, or overrides), for tests that publish or project events directly. */
export function emailEventFor(
  ws: string,
  type: EmailEvent['type'],
  campaignId: string,
  deliveryId: string,
  variantId: string | null,
  extra: Record<string, unknown> = {},
): EmailEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    occurredAt: '2030-01-02T10:15:00.000Z',
    workspaceId: ws,
    contactId: `c-${deliveryId}`,
    campaignId,
    deliveryId,
    variantId,
    messageId: null,
    recipient: null,
    ...extra,
  } as EmailEvent;
}

export function tokenFor(p: Partial<TokenPayload> & Pick<TokenPayload, 'kind' | 'workspaceId'>): string {
  return signer.sign({
    contactId: 'c1',
    campaignId: 'cmp1',
    deliveryId: 'd1',
    variantId: null,
    issuedAt: Math.floor(Date.now() / 1000) - 3600,
    ...p,
  } as TokenPayload);
}

/** Records of `topic` from the given offsets up to the current end, decoded, that pass the filter. */
export async function readSince<T = Record<string, unknown>>(
  brokers: string[],
  topic: string,
  from: Array<{ partition: number; offset: string }>,
  filter: (v: T) => boolean,
): Promise<T[]> {
  const kafka = new Kafka({ clientId: 'tracker-test-reader', brokers, logLevel: logLevel.NOTHING });
  const ends = await topicEnd(topic, brokers);
  const start = new Map(from.map((f) => [f.partition, BigInt(f.offset)]));
  const remaining = new Map(ends.filter((e) => BigInt(e.offset) > (start.get(e.partition) ?? 0n)).map((e) => [e.partition, BigInt(e.offset)]));
  const out: T[] = [];
  if (remaining.size === 0) return out;
  const groupId = uniqueName('tracker-test-reader');
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({ groupId, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: String(start.get(e.partition) ?? 0n) })) });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          const end = remaining.get(batch.partition);
          for (const m of batch.messages) {
            if (end === undefined || BigInt(m.offset) >= end) continue;
            const v = m.value ? (JSON.parse(m.value.toString('utf8')) as T) : null;
            if (v !== null && filter(v)) out.push(v);
            if (BigInt(m.offset) + 1n >= end) {
              remaining.delete(batch.partition);
              if (remaining.size === 0) resolve();
            }
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

export interface TestTrackerOptions extends TrackerOverrides {
  env?: Record<string, string>;
  brokers?: string[];
}

/** A tracker in this process on a free port, with its own database, spool dir and consumer groups. */
export async function startTestTracker(opts: TestTrackerOptions = {}): Promise<RunningTracker & { url: string; statsGroup: string }> {
  const statsGroup = uniqueName('tracker-stats-test');
  const brokers = opts.brokers ?? stack.kafkaBrokers;
  const cfg = loadTrackerConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    MONGODB_URI: stack.mongoUri,
    MONGODB_DB: uniqueName('payam_test_tracker'),
    KAFKA_BROKERS: brokers.join(','),
    PORT: '0',
    HOST: '127.0.0.1',
    SPOOL_DIR: mkdtempSync(path.join(os.tmpdir(), 'tracker-spool-')),
    TRACKING_KEYS: `${TEST_KEY.id}:${TEST_KEY.secret}`,
    STATS_GROUP_ID: statsGroup,
    API_KEYS_GROUP_ID: uniqueName('tracker-api-keys-test'),
    SNS_ALLOWED_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:123456789012:ses-events',
    ...opts.env,
  });
  const tracker = await startTracker(cfg, {
    logger: createLogger({ service: 'tracker', level: process.env.TRACKER_TEST_LOG ?? 'silent' }),
    beforeConsumers: () => placeGroups([{ groupId: statsGroup, topic: 'email-events.v1' }], brokers),
    ...opts,
  });
  return Object.assign(tracker, { url: `http://127.0.0.1:${tracker.port}`, statsGroup });
}

/** A background reader collecting every record of `topic` from `from` on that passes the filter. */
export async function collectTopic<T = Record<string, unknown>>(
  brokers: string[],
  topic: string,
  from: Array<{ partition: number; offset: string }>,
  filter: (v: T) => boolean,
): Promise<{ items: T[]; stop: () => Promise<void> }> {
  const kafka = new Kafka({ clientId: 'tracker-test-collector', brokers, logLevel: logLevel.NOTHING });
  const groupId = uniqueName('tracker-test-collector');
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({ groupId, topic, partitions: from });
  await admin.disconnect();
  const items: T[] = [];
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  void consumer.run({
    eachMessage: async ({ message }) => {
      const v = message.value ? (JSON.parse(message.value.toString('utf8')) as T) : null;
      if (v !== null && filter(v)) items.push(v);
    },
  });
  await joined;
  return { items, stop: () => consumer.disconnect() };
}
