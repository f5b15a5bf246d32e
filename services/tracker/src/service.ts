import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kafka } from 'kafkajs';
import type { Connection } from 'mongoose';
import { apiKeyModel, createApiKeyResolver } from '@payam/api-keys';
import { Topics } from '@payam/contracts';
import { closeServer, listen } from '@payam/http';
import { clusterIdOf, createKafka, ensureTopics, EventPublisher, runConsumer, subscribe, type ConsumerHandle } from '@payam/kafka';
import { connectMongo, ensureIndexes } from '@payam/mongo';
import { createLogger, createMetrics, type Logger, type Metrics } from '@payam/observability';
import type { ShutdownStep } from '@payam/runtime';
import { parseTrackingKeys, TokenSigner } from '@payam/tracking-token';
import { apiKeySubscription } from './api-keys/projection';
import { buildListener } from './app';
import { Classifier } from './classification/classifier';
import { IpRanges } from './classification/ip';
import { parseTrustProxy, type TrackerConfig } from './config';
import { Guardrail } from './guardrail/guardrail';
import { createSnsHandler } from './ses/sns-handler';
import { DEMO_MODE_WARNING, DEMO_SNS_TOPIC_ARN, demoCertificateFetcher, warnOnDemoMessages } from './ses/sns-demo';
import { confirmSubscription, downloadCertificate, SnsVerifier, type CertificateFetcher, type SubscriptionConfirmer } from './ses/sns-verifier';
import { EventRecorder } from './spool/recorder';
import { Spool } from './spool/spool';
import { StatsProjector } from './stats/projector';
import { startSeenPruner } from './stats/seen-pruner';
import { ensureStatsIndexes, statsCollections, type StatsCollections } from './stats/store';

/** The stats consumer's fetches: up to 256 KiB of events (a few hundred), or whatever came within 500 ms. */
const STATS_FETCH_MIN_BYTES = 256 * 1024;
const STATS_FETCH_MAX_WAIT_MS = 500;

/** What tests (and nothing in production) swap: the certificate download, the subscription GET, the clock. */
export interface TrackerOverrides {
  logger?: Logger;
  fetchCertificate?: CertificateFetcher;
  confirmSubscription?: SubscriptionConfirmer;
  now?: () => Date;
  /** Runs after topics exist and before the consumer groups start (tests place the groups' offsets). */
  beforeConsumers?: (kafka: Kafka) => Promise<void>;
}

export interface RunningTracker {
  server: http.Server;
  port: number;
  logger: Logger;
  metrics: Metrics;
  conn: Connection;
  kafka: Kafka;
  publisher: EventPublisher;
  recorder: EventRecorder;
  stats: StatsCollections;
  signer: TokenSigner;
  /** The shutdown steps, in order: stop accepting, stop consumers, settle the spool, flush, disconnect. */
  shutdownSteps: ShutdownStep[];
  stop(): Promise<void>;
}

/** Boots the tracker: config → logger → mongo → kafka topics → spool → consumers → HTTP. */
export async function startTracker(cfg: TrackerConfig, o: TrackerOverrides = {}): Promise<RunningTracker> {
  const logger = o.logger ?? createLogger({ service: 'tracker', level: cfg.LOG_LEVEL });
  const metrics = createMetrics('tracker');

  const conn = await connectMongo({ uri: cfg.MONGODB_URI, dbName: cfg.MONGODB_DB, logger, appName: 'payam-tracker' });
  const keys = apiKeyModel(conn);
  await ensureIndexes(conn);
  const stats = statsCollections(conn);
  await ensureStatsIndexes(stats);

  const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'payam-tracker', logger });
  await ensureTopics(kafka, [Topics.emailEvents, Topics.apiKeys, Topics.campaignSignals, Topics.deadLetters]);
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  // Extra producers for the hot path only; the spool replay and everything else use `publisher`.
  const hotPublishers = [publisher];
  for (let i = 1; i < cfg.KAFKA_HOT_PRODUCERS; i++) hotPublishers.push(new EventPublisher(kafka, logger));
  await Promise.all(hotPublishers.slice(1).map((p) => p.connect()));
  let turn = 0;

  const spool = await Spool.open(cfg.SPOOL_DIR);
  if (spool.pending > 0) logger.warn({ pending: spool.pending, dir: cfg.SPOOL_DIR }, 'spool has events from before: replaying');
  const recorder = new EventRecorder({
    publish: (records, options) => hotPublishers[turn++ % hotPublishers.length]!.publish(Topics.emailEvents, records, options),
    replayPublish: (records, options) => publisher.publish(Topics.emailEvents, records, options),
    publishDeadLetters: (letters) => publisher.publish(Topics.deadLetters, letters.map((l) => ({ key: `${l.consumerGroup}:${l.topic}`, value: l }))),
    spool,
    logger,
    metrics,
    publishTimeoutMs: cfg.KAFKA_PUBLISH_TIMEOUT_MS,
  });

  const classifier = new Classifier({
    appleProxyRanges: IpRanges.fromFile(cfg.MPP_RANGES_FILE),
    storeRawIp: cfg.STORE_RAW_IP,
    clickTooFastMs: cfg.CLICK_TOO_FAST,
    clickBurstWindowMs: cfg.CLICK_BURST_WINDOW,
  });
  const trackingKeys = parseTrackingKeys(cfg.TRACKING_KEYS);
  const signer = new TokenSigner({ keys: trackingKeys, signingKeyId: cfg.TRACKING_SIGNING_KEY_ID ?? trackingKeys[0]!.id });
  const fetchCertificate = o.fetchCertificate ?? downloadCertificate;
  const verifier = new SnsVerifier({
    allowedTopicArns: cfg.SNS_DEMO_MODE ? [...cfg.SNS_ALLOWED_TOPIC_ARNS, DEMO_SNS_TOPIC_ARN] : cfg.SNS_ALLOWED_TOPIC_ARNS,
    ...(cfg.SNS_REGION ? { region: cfg.SNS_REGION } : {}),
    fetchCertificate: cfg.SNS_DEMO_MODE ? demoCertificateFetcher(fetchCertificate) : fetchCertificate,
  });
  if (cfg.SNS_DEMO_MODE) {
    logger.warn({ topicArn: DEMO_SNS_TOPIC_ARN }, DEMO_MODE_WARNING);
    verifier.verify = warnOnDemoMessages(verifier.verify.bind(verifier), logger);
  }
  const handleSns = createSnsHandler({
    verifier,
    confirmSubscription: o.confirmSubscription ?? confirmSubscription,
    classifier,
    recorder,
    logger,
    metrics,
    ...(o.now ? { now: o.now } : {}),
  });

  const guardrail = new Guardrail(
    stats,
    publisher,
    { complaintRate: cfg.GUARDRAIL_COMPLAINT_RATE, minDeliveries: cfg.GUARDRAIL_MIN_DELIVERIES },
    logger,
    metrics,
  );
  const consumers: ConsumerHandle[] = [];
  const pruner = cfg.RUN_CONSUMERS ? startSeenPruner(stats, { retentionMs: cfg.STATS_SEEN_RETENTION, everyMs: cfg.STATS_SEEN_PRUNE_EVERY, logger }) : null;
  if (cfg.RUN_CONSUMERS) {
    await o.beforeConsumers?.(kafka);
    const projector = new StatsProjector(stats, logger, { clusterId: await clusterIdOf(kafka), guardrail });
    consumers.push(
      await runConsumer({
        kafka,
        groupId: cfg.API_KEYS_GROUP_ID,
        logger,
        subscriptions: [apiKeySubscription(keys)],
        deadLetters: publisher,
      }),
    );
    consumers.push(
      await runConsumer({
        kafka,
        groupId: cfg.STATS_GROUP_ID,
        logger,
        deadLetters: publisher,
        // Larger, fewer batches: since the offset claims, the projector's FerretDB writes are per
        // batch (a claim and one upsert per touched document), not per event. Reports lag by up to
        // the wait. bench:tracker as booted, three interleaved pairs: 3,670 / 3,645 / 3,252
        // against 3,245 / 3,432 / 2,928 req/s with the defaults (1 byte, 100 ms).
        minBytes: STATS_FETCH_MIN_BYTES,
        maxWaitTimeInMs: STATS_FETCH_MAX_WAIT_MS,
        subscriptions: [subscribe({ topic: Topics.emailEvents, handleBatch: (records) => projector.handleBatch(records) })],
      }),
    );
  }

  const listener = buildListener({
    logger,
    metrics,
    tokens: signer,
    classifier,
    recorder,
    handleSns,
    stats,
    apiKeys: createApiKeyResolver(keys),
    // Not Kafka and not MongoDB: with Kafka down the tracker still answers (the spool), and
    // MongoDB only serves reports. Taking the edge out of the balancer would lose real events.
    readiness: { spool: async () => {} },
    trustProxy: parseTrustProxy(cfg.TRUST_PROXY),
    ...(o.now ? { now: o.now } : {}),
  });
  const server = await listen(listener, cfg.PORT, cfg.HOST);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, spoolDir: cfg.SPOOL_DIR, mppRanges: cfg.MPP_RANGES_FILE }, 'tracker listening');

  const shutdownSteps: ShutdownStep[] = [
    { name: 'http', run: () => closeServer(server, 5_000) },
    { name: 'consumers', run: async () => void (await Promise.all(consumers.map((c) => c.stop()))) },
    { name: 'stats pruner', run: async () => void (await pruner?.stop()) },
    { name: 'spool replay', run: () => recorder.stop() },
    { name: 'spool', run: () => spool.close() },
    { name: 'kafka producers', run: async () => void (await Promise.all(hotPublishers.map((p) => p.disconnect()))) },
    { name: 'mongodb', run: () => conn.close() },
  ];
  return {
    server,
    port,
    logger,
    metrics,
    conn,
    kafka,
    publisher,
    recorder,
    stats,
    signer,
    shutdownSteps,
    stop: async () => {
      for (const step of shutdownSteps)
        await step.run().catch((err: unknown) => logger.error({ err, step: step.name }, 'stop step failed'));
    },
  };
}
