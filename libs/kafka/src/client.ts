import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';

/** The minimal logger shape we need (pino's Logger satisfies it). */
export interface KafkaLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: KafkaLogger;
}

/** kafkajs log lines into our structured logger instead of its own console format. */
function pinoLogCreator(logger: KafkaLogger): logCreator {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const entry = { kafka: extra };
      if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO)
        logger.debug(entry, message); // kafkajs is chatty at INFO
      else logger.debug(entry, message);
    };
}

export function createKafka(opts: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(opts.logger),
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // Long enough to ride out a broker restart; the publisher and runner add their own policies on top.
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
  });
}
