import { Topics } from '@payam/contracts';
import { closeServer, listen } from '@payam/http';
import { createKafka, ensureTopics, EventPublisher } from '@payam/kafka';
import { connectMongo, ensureIndexes } from '@payam/mongo';
import { createLogger, createMetrics } from '@payam/observability';
import { exitOnSignals } from '@payam/runtime';
import { buildSegmenter } from './app';
import { loadSegmenterConfig } from './config';

async function main(): Promise<void> {
  const config = loadSegmenterConfig();
  const logger = createLogger({ service: 'segmenter', level: config.LOG_LEVEL });
  const metrics = createMetrics('segmenter');
  const conn = await connectMongo({ uri: config.MONGODB_URI, dbName: config.MONGODB_DB, logger, appName: 'segmenter' });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
  await ensureTopics(kafka, [
    Topics.contacts,
    Topics.emailEvents,
    Topics.contactEvents,
    Topics.segmentMembership,
    Topics.apiKeys,
    Topics.deadLetters,
  ]);
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  const seg = await buildSegmenter({
    conn,
    kafka,
    publisher,
    logger,
    metrics,
    consumerGroup: config.CONSUMER_GROUP,
    sweepIntervalMs: config.SWEEP_INTERVAL,
    sweepBatch: config.SWEEP_BATCH,
    recomputeBatch: config.RECOMPUTE_BATCH,
    profileCacheSize: config.PROFILE_CACHE_SIZE,
    partitionsConcurrently: config.PARTITIONS_CONCURRENTLY,
    limits: { recentIds: config.RECENT_EVENT_IDS, customEvents: config.MAX_CUSTOM_EVENTS },
  });
  await ensureIndexes(conn);
  await seg.start();
  const server = await listen(seg.app, config.PORT, config.HOST);
  logger.info({ port: config.PORT }, 'segmenter listening');
  exitOnSignals(
    [
      { name: 'http', run: () => closeServer(server, 5_000) },
      { name: 'consumers and sweep', run: () => seg.stop() },
      { name: 'kafka producer', run: () => publisher.disconnect() },
      { name: 'mongodb', run: () => conn.close() },
    ],
    config.SHUTDOWN_TIMEOUT_MS,
    logger,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
