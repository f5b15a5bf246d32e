// Starts the sender in-process against the real stack with a database, consumer groups and
// workspaces of its own. Shared by the sender's test files (parts A and B).
import supertest from 'supertest';
import { SENDER_GROUPS } from './group-offsets';
import type TestAgent from 'supertest/lib/agent';
import { Topics } from '@payam/contracts';
import { createKafka, ensureTopics, EventPublisher } from '@payam/kafka';
import { connectMongo } from '@payam/mongo';
import { createLogger, createMetrics } from '@payam/observability';
import { placeGroups, stack, uniqueName } from '@payam/testkit';
import { buildSender, type BuildOptions, type Sender } from '../src/app';
import { loadSenderConfig, type SenderConfig } from '../src/config';

export const ADMIN_SECRET = 'test-admin-secret-0123456789';

export interface TestWorkspace {
  workspaceId: string;
  token: string;
  keyId: string;
}

export interface SenderHarness {
  sender: Sender;
  config: SenderConfig;
  dbName: string;
  http: TestAgent;
  /** Workspace-key request helpers. */
  as(token: string): {
    get(path: string): supertest.Test;
    post(path: string): supertest.Test;
    put(path: string): supertest.Test;
    patch(path: string): supertest.Test;
    delete(path: string): supertest.Test;
  };
  createWorkspace(name?: string): Promise<TestWorkspace>;
  close(): Promise<void>;
}

/** A consumer group (name without the test prefix) and the topics it reads. */
export interface GroupStart {
  group: string;
  topics: string[];
}

export async function startSender(
  opts: BuildOptions & {
    dbPrefix?: string;
    env?: Record<string, string>;
    /** Consumer group prefix; default a new unique one. */
    groupPrefix?: string;
    /** Groups that start at the topics' current end (default: every sender group, for a new prefix). */
    groupsAtEnd?: GroupStart[];
  } = {},
): Promise<SenderHarness> {
  const dbName = uniqueName(opts.dbPrefix ?? 'payam_test_sender');
  const logger = createLogger({ service: 'sender-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const metrics = createMetrics('sender');
  const config = loadSenderConfig({
    NODE_ENV: 'test',
    MONGODB_URI: stack.mongoUri,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SES_ENDPOINT: stack.sesEndpoint,
    MONGODB_DB: dbName,
    ADMIN_SECRET,
    REPUBLISH_INTERVAL_MS: '500',
    API_KEY_CACHE_TTL_MS: '0',
    ...opts.env,
  });
  const conn = await connectMongo({ uri: config.MONGODB_URI, dbName, logger });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'sender-test', logger });
  await ensureTopics(kafka, Object.values(Topics));
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  const groupPrefix = opts.groupPrefix ?? uniqueName('test');
  // Every group of a new prefix starts at the topics' end: a test reads only what it publishes.
  // (Committing the ends before the groups exist makes them read exactly what is published from now on, without a race.)
  const defaultGroups = opts.groupPrefix ? [] : SENDER_GROUPS.map(([group, topic]) => ({ group, topics: [topic] }));
  await placeGroups(
    (opts.groupsAtEnd ?? defaultGroups).flatMap(({ group, topics }) => topics.map((topic) => ({ groupId: `${groupPrefix}.${group}`, topic }))),
    config.KAFKA_BROKERS,
  );
  const sender = buildSender({ config, logger, metrics, conn, kafka, publisher, groupPrefix }, opts);
  await sender.start();
  const http = supertest(sender.app);

  const as = (token: string) => ({
    get: (path: string) => http.get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string) => http.post(path).set('Authorization', `Bearer ${token}`),
    put: (path: string) => http.put(path).set('Authorization', `Bearer ${token}`),
    patch: (path: string) => http.patch(path).set('Authorization', `Bearer ${token}`),
    delete: (path: string) => http.delete(path).set('Authorization', `Bearer ${token}`),
  });

  return {
    sender,
    config,
    dbName,
    http,
    as,
    async createWorkspace(name = 'Test workspace') {
      const res = await http.post('/admin/workspaces').set('Authorization', `Bearer ${ADMIN_SECRET}`).send({ name });
      if (res.status !== 201) throw new Error(`workspace create answered ${res.status}: ${JSON.stringify(res.body)}`);
      return { workspaceId: res.body.workspace.workspaceId, token: res.body.apiKey.token, keyId: res.body.apiKey.keyId };
    },
    async close() {
      await sender.stop();
      await publisher.disconnect();
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    },
  };
}
