import type { Connection } from 'mongoose';
import type { Kafka } from 'kafkajs';
import type { EventPublisher } from '@payam/kafka';
import { connectMongo, ensureIndexes } from '@payam/mongo';
import { createLogger, createMetrics } from '@payam/observability';
import { stack } from '@payam/testkit';
import { buildSegmenter, type Segmenter } from '../src/app';
import type { Clock } from '../src/evaluation/processor';

export const testLogger = createLogger({ service: 'segmenter-test', level: 'warn' });

/** A started segmenter on the real stack, as the integration tests run it (sweep every 200 ms). */
export async function bootSegmenter(opts: {
  kafka: Kafka;
  publisher: EventPublisher;
  dbName: string;
  group: string;
  clock: Clock;
  /** Only for a group's first member: offsets can be set only while the group is empty. */
  startOffsets?: Record<string, Array<{ partition: number; offset: string }>>;
  recomputeBatch?: number;
}): Promise<{ conn: Connection; seg: Segmenter }> {
  const conn = await connectMongo({ uri: stack.mongoUri, dbName: opts.dbName, logger: testLogger });
  const seg = await buildSegmenter({
    conn,
    kafka: opts.kafka,
    publisher: opts.publisher,
    logger: testLogger,
    metrics: createMetrics('segmenter'),
    clock: opts.clock,
    consumerGroup: opts.group,
    sweepIntervalMs: 200,
    recomputeBatch: opts.recomputeBatch,
    startOffsets: opts.startOffsets,
  });
  await ensureIndexes(conn);
  await seg.start();
  return { conn, seg };
}
