import type { Connection } from 'mongoose';
import type { Kafka } from 'kafkajs';
import { Topics } from '@payam/contracts';
import { apiKeyModel, applyApiKeyRecord, createApiKeyResolver } from '@payam/api-keys';
import { createApp } from '@payam/http';
import { CoPartitionedAssigner, partitionOfKey, runConsumer, subscribe, type ConsumerHandle, type EventPublisher } from '@payam/kafka';
import { pingMongo } from '@payam/mongo';
import type { Logger, Metrics } from '@payam/observability';
import { DEFAULT_TOPICS, incrementalSubscriptions, type TopicNames } from './evaluation/incremental';
import { systemClock, type Clock, type EvalDeps } from './evaluation/processor';
import { jobModel, jobPartModel } from './evaluation/recompute';
import { RecomputeRunner } from './evaluation/recompute-runner';
import { startSweeper } from './evaluation/sweep';
import { profileModel, ProfileStore } from './profiles/store';
import { segmenterRoutes } from './routes';
import type { ServiceDeps } from './segments/service';
import { segmentModel } from './segments/segment';
import { workspaceModel } from './segments/settings';
import { version as SERVICE_VERSION } from '../package.json';

export interface SegmenterDeps {
  conn: Connection;
  kafka: Kafka;
  publisher: EventPublisher;
  logger: Logger;
  metrics: Metrics;
  clock?: Clock;
  consumerGroup: string;
  sweepIntervalMs: number;
  sweepBatch?: number;
  recomputeBatch?: number;
  partitionsConcurrently?: number;
  limits?: { recentIds: number; customEvents: number };
  /** Input topics (the benchmark points them at its own topics). */
  topics?: TopicNames;
  /**
   * Where a new consumer group starts, per topic: tests start at the ends they saw before
   * publishing, so they do not fold every other test's history. Default: the beginning.
   */
  startOffsets?: Record<string, Array<{ partition: number; offset: string }>>;
  /** Profiles kept in memory (profiles/store.ts); default 100,000. */
  profileCacheSize?: number;
  /** Run the consumers (default true); off for an API-only instance or a CLI. */
  consume?: boolean;
}

export async function buildSegmenter(deps: SegmenterDeps) {
  const clock = deps.clock ?? systemClock;
  const changesCounter = deps.metrics.counter<'type'>('segment_membership_changes_total', 'Membership changes published', ['type']);
  const appliedCounter = deps.metrics.counter('segmenter_events_applied_total', 'Events folded into profiles');
  const profiles = profileModel(deps.conn);
  const topics = deps.topics ?? DEFAULT_TOPICS;
  const svc: ServiceDeps = {
    profiles,
    store: ProfileStore.on(deps.conn, { cacheSize: deps.profileCacheSize }),
    segments: segmentModel(deps.conn),
    workspaces: workspaceModel(deps.conn),
    jobs: jobModel(deps.conn),
    jobParts: jobPartModel(deps.conn),
    partitions: topics.contacts.partitions,
    publisher: deps.publisher,
    clock,
    logger: deps.logger,
    recomputeBatch: deps.recomputeBatch ?? 1000,
    onChanges: (changes) => changes.forEach((c) => changesCounter.inc({ type: c.type })),
  };
  const apiKeys = apiKeyModel(deps.conn);
  const app = createApp({
    service: 'segmenter',
    openapi: { title: 'payam segmenter', version: SERVICE_VERSION, description: 'Segments recomputed from the event streams as they flow, contact profiles, and custom events (POST /events).' },
    logger: deps.logger,
    metrics: deps.metrics,
    routes: segmenterRoutes(svc),
    readiness: { mongo: () => pingMongo(deps.conn) },
    apiKeys: createApiKeyResolver(apiKeys),
  });

  const consumers: ConsumerHandle[] = [];
  let sweeper: ReturnType<typeof startSweeper> | null = null;
  let recomputes: RecomputeRunner | null = null;
  let held: () => number[] = () => [];
  const evalDeps: EvalDeps = svc;

  async function seek(groupId: string, topics: string[]) {
    if (!deps.startOffsets) return;
    const admin = deps.kafka.admin();
    await admin.connect();
    try {
      for (const t of topics) {
        const partitions = deps.startOffsets[t];
        if (partitions) await admin.setOffsets({ groupId, topic: t, partitions });
      }
    } finally {
      await admin.disconnect();
    }
  }

  async function start(opts: { onApplied?: (n: number) => void } = {}) {
    if (deps.consume === false) return;
    const group = deps.consumerGroup;
    await seek(group, [topics.contacts.name, topics.emailEvents.name, topics.contactEvents.name]);
    consumers.push(
      await runConsumer({
        kafka: deps.kafka,
        groupId: `${group}.api-keys`,
        logger: deps.logger,
        deadLetters: deps.publisher,
        subscriptions: [subscribe({ topic: Topics.apiKeys, handle: async (record) => void (await applyApiKeyRecord(apiKeys, record)) })],
      }),
    );
    const pipeline = await runConsumer({
      kafka: deps.kafka,
      groupId: group,
      // Each contact's records (three topics keyed by contactId) reach one member: its profile has one writer.
      partitionAssigners: [CoPartitionedAssigner],
      logger: deps.logger,
      deadLetters: deps.publisher,
      partitionsConsumedConcurrently: deps.partitionsConcurrently ?? 3,
      subscriptions: incrementalSubscriptions(evalDeps, topics, {
        limits: deps.limits,
        onApplied: (n) => {
          appliedCounter.inc(n);
          opts.onApplied?.(n);
        },
      }),
    });
    consumers.push(pipeline);
    held = () => pipeline.assignment()[topics.contacts.name] ?? [];
    const owns = (cid: string) => held().includes(partitionOfKey(cid, topics.contacts.partitions));
    // Jobs created anywhere (and those a restart interrupted) are found by polling; each
    // instance recomputes the partitions it holds.
    const runner = new RecomputeRunner(svc, {
      partitions: topics.contacts.partitions,
      owned: held,
      batchSize: svc.recomputeBatch,
      intervalMs: deps.sweepIntervalMs,
    });
    recomputes = runner;
    svc.kickRecompute = () => void runner.kick();
    pipeline.consumer.on(pipeline.consumer.events.GROUP_JOIN, () => {
      // Profiles of partitions held before a rebalance may have been written elsewhere since.
      svc.store.forget();
      runner.assignmentChanged();
      void runner.kick();
    });
    sweeper = startSweeper(evalDeps, owns, deps.sweepIntervalMs, deps.sweepBatch ?? 500);
    runner.start();
  }

  async function stop() {
    svc.kickRecompute = undefined;
    await recomputes?.stop();
    await sweeper?.stop();
    for (const c of consumers.splice(0)) await c.stop();
  }

  return {
    app,
    deps: svc,
    start,
    stop,
    sweep: () => sweeper?.kick() ?? Promise.resolve(0),
    /** The contacts topic's partitions this instance holds (empty until it joins, or when not consuming). */
    partitionsHeld: () => held(),
  };
}

export type Segmenter = Awaited<ReturnType<typeof buildSegmenter>>;
