import { Topics } from '@payam/contracts';
import { closeServer, listen } from '@payam/http';
import { createKafka, ensureTopics, EventPublisher } from '@payam/kafka';
import { connectMongo } from '@payam/mongo';
import { createLogger, createMetrics } from '@payam/observability';
import { exitOnSignals } from '@payam/runtime';
import { buildSender } from './app';
import { loadSenderConfig } from './config';

/** Boot order: config → logger → mongo → kafka topics → producer → components → HTTP; SIGTERM undoes it. */
async function main(): Promise<void> {
  const config = loadSenderConfig();
  const logger = createLogger({ service: 'sender', level: config.LOG_LEVEL });
  for (const warning of config.warnings) logger.warn(warning);
  const metrics = createMetrics('sender');

  const conn = await connectMongo({ uri: config.MONGODB_URI, dbName: config.MONGODB_DB, logger, appName: 'payam-sender' });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'payam-sender', logger });
  await ensureTopics(kafka, Object.values(Topics));
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();

  const sender = buildSender(
    { config, logger, metrics, conn, kafka, publisher, groupPrefix: config.SENDER_GROUP_PREFIX },
    config.SENDER_COMPONENTS ? { only: config.SENDER_COMPONENTS } : {},
  );
  await sender.start();
  const server = await listen(sender.app, config.PORT, config.HOST);
  logger.info({ port: config.PORT, host: config.HOST }, 'sender listening');

  exitOnSignals(
    [
      { name: 'http', run: () => closeServer(server, Math.max(1000, config.SHUTDOWN_TIMEOUT_MS / 2)) },
      { name: 'components', run: () => sender.stop() },
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
