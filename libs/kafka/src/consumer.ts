import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import type { z } from 'zod';
import { decodeRecord, deterministicEventId, parseWith, Topics, type FieldProblem, type ParseResult, type TopicSpec } from '@payam/contracts';
import type { KafkaLogger } from './client';
import type { EventPublisher } from './publisher';

export interface RecordMeta {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: IHeaders;
  /** Broker timestamp of the record, ms since epoch. */
  timestamp: number;
}

export interface Delivered<V> {
  value: V;
  meta: RecordMeta;
}

export interface BatchControl {
  heartbeat(): Promise<void>;
}

/**
 * One topic a consumer group reads, and what to do with its records. Give either `handle`
 * (one record at a time, in partition order) or `handleBatch` (every valid record of a fetched
 * batch at once, in partition order: the fast path for projections that bulk-write).
 */
export interface Subscription<S extends z.ZodType = z.ZodType> {
  topic: TopicSpec<S>;
  handle?: (value: z.infer<S>, meta: RecordMeta) => Promise<void>;
  /** `heartbeat` keeps the group session alive during a long batch (call it between steps). */
  handleBatch?: (records: Array<Delivered<z.infer<S>>>, batch: BatchControl) => Promise<void>;
  /** Called for a null value on a compacted topic. Ignored (and committed) when absent. */
  onTombstone?: (key: string, meta: RecordMeta) => Promise<void>;
  /**
   * Looks at the decoded JSON before the schema does: a record it refuses is committed without
   * being validated or handled (nor dead-lettered if invalid: it is none of this group's
   * business). For groups that act on a few types of a busy topic, where validating every
   * record they would ignore costs more than the handling. It sees unvalidated input, so it may
   * only ever skip: whatever it lets through is validated as usual.
   */
  prefilter?: (raw: Record<string, unknown>) => boolean;
}

export function subscribe<S extends z.ZodType>(sub: Subscription<S>): Subscription {
  return sub as unknown as Subscription;
}

/** The record's value validated, or null when the subscription's prefilter skips it. */
function decodeFor(sub: Subscription, bytes: Buffer): ParseResult<unknown> | null {
  if (!sub.prefilter) return decodeRecord(sub.topic.schema, bytes);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    return decodeRecord(sub.topic.schema, bytes);
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !sub.prefilter(raw as Record<string, unknown>)) return null;
  return parseWith(sub.topic.schema, raw);
}

/**
 * Thrown by a handler for a record that can never succeed (a poison record): it goes to
 * dead-letters.v1 and the partition moves on. Any other error is taken as transient (a
 * database that is down) and the record is retried, with backoff, until it succeeds.
 */
export class PermanentRecordError extends Error {
  constructor(
    message: string,
    readonly problems: FieldProblem[] = [{ path: '', message }],
  ) {
    super(message);
    this.name = 'PermanentRecordError';
  }
}

export interface ConsumerOptions {
  kafka: Kafka;
  groupId: string;
  logger: KafkaLogger;
  subscriptions: Subscription[];
  /** Where dead letters go; when absent they are only logged. */
  deadLetters?: EventPublisher;
  /** A new group starts at the earliest offset (default) so nothing published before it is missed. */
  fromBeginning?: boolean;
  partitionsConsumedConcurrently?: number;
  /** Upper bound of the retry backoff for transient handler errors. */
  maxRetryDelayMs?: number;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /**
   * A fetch waits until the broker has this many bytes for it, or maxWaitTimeInMs passed
   * (defaults 1 byte, 100 ms: records are handed over as soon as they exist). A projection that
   * pays per batch rather than per record trades latency for larger batches with these.
   */
  minBytes?: number;
  maxWaitTimeInMs?: number;
  /** How the group spreads partitions (default kafkajs's round robin); see CoPartitionedAssigner. */
  partitionAssigners?: PartitionAssigner[];
}

export interface ConsumerHandle {
  consumer: Consumer;
  /** Partitions this member holds per topic since the last group join (empty before the first). */
  assignment(): Readonly<Record<string, number[]>>;
  /** Finishes the batch in hand, commits it, leaves the group. */
  stop(): Promise<void>;
}

const MAX_DEAD_LETTER_VALUE = 64 * 1024;

/**
 * Runs a consumer group whose offsets are committed only after the handler finished with
 * the records (at-least-once). Handlers must therefore be idempotent, which the envelope id or
 * a natural unique key makes them.
 */
export async function runConsumer(opts: ConsumerOptions): Promise<ConsumerHandle> {
  const byTopic = new Map(opts.subscriptions.map((s) => [s.topic.name, s]));
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
    minBytes: opts.minBytes ?? 1,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 100,
    ...(opts.partitionAssigners ? { partitionAssigners: opts.partitionAssigners } : {}),
  });
  let stopping = false;
  let assignment: Record<string, number[]> = {};
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assignment = e.payload.memberAssignment;
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [...byTopic.keys()], fromBeginning: opts.fromBeginning ?? true });

  const deadLetter = async (batch: EachBatchPayload['batch'], m: KafkaMessage, problems: FieldProblem[]) => {
    const value = m.value ? m.value.toString('utf8').slice(0, MAX_DEAD_LETTER_VALUE) : null;
    opts.logger.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset, problems }, 'record sent to dead letters');
    if (!opts.deadLetters) return;
    await opts.deadLetters.publish(Topics.deadLetters, [
      {
        key: `${opts.groupId}:${batch.topic}`,
        value: {
          id: deterministicEventId('dead-letter', opts.groupId, batch.topic, batch.partition, m.offset),
          type: 'dead_letter',
          schemaVersion: 1,
          occurredAt: new Date().toISOString(),
          consumerGroup: opts.groupId,
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key?.toString('utf8') ?? null,
          value,
          problems,
        },
      },
    ]);
  };

  /** Retries a step until it succeeds, unless the consumer is stopping (then the batch is abandoned uncommitted). */
  const withRetry = async (what: string, payload: EachBatchPayload, step: () => Promise<void>) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        if (err instanceof PermanentRecordError) throw err;
        if (stopping || !payload.isRunning()) throw err;
        const delay = Math.min(opts.maxRetryDelayMs ?? 15_000, 200 * 2 ** Math.min(attempt, 10));
        opts.logger.error({ err, attempt, delayMs: delay, topic: payload.batch.topic }, `${what} failed, retrying`);
        await new Promise((r) => setTimeout(r, delay));
        await payload.heartbeat();
      }
    }
  };

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const sub = byTopic.get(batch.topic);
      if (!sub || batch.messages.length === 0) return;
      const metaOf = (m: KafkaMessage): RecordMeta => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key?.toString('utf8') ?? null,
        headers: m.headers ?? {},
        timestamp: Number(m.timestamp),
      });

      if (sub.handleBatch) {
        const control: BatchControl = { heartbeat: () => payload.heartbeat() };
        const valid: Array<Delivered<unknown>> = [];
        for (const m of batch.messages) {
          if (m.value === null) {
            if (sub.onTombstone && m.key) await withRetry('tombstone', payload, () => sub.onTombstone!(m.key!.toString('utf8'), metaOf(m)));
            continue;
          }
          const decoded = decodeFor(sub, m.value);
          if (decoded === null) continue;
          if (decoded.ok) valid.push({ value: decoded.value, meta: metaOf(m) });
          else await deadLetter(batch, m, decoded.problems);
        }
        if (valid.length > 0) {
          try {
            await withRetry('batch handler', payload, () => sub.handleBatch!(valid, control));
          } catch (err) {
            if (!(err instanceof PermanentRecordError)) throw err;
            // One poison record spoils a bulk write: replay the batch one by one to find it.
            for (const item of valid) {
              await withRetry('batch handler (single)', payload, () => sub.handleBatch!([item], control)).catch(async (e) => {
                if (!(e instanceof PermanentRecordError)) throw e;
                const m = batch.messages.find((x) => x.offset === item.meta.offset)!;
                await deadLetter(batch, m, e.problems);
              });
            }
          }
        }
        const last = batch.messages[batch.messages.length - 1]!.offset;
        payload.resolveOffset(last);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        await payload.heartbeat();
        return;
      }

      let processed: string | null = null;
      for (const m of batch.messages) {
        if (!payload.isRunning() || payload.isStale()) break;
        const meta = metaOf(m);
        if (m.value === null) {
          if (sub.onTombstone && m.key) await withRetry('tombstone', payload, () => sub.onTombstone!(m.key!.toString('utf8'), meta));
        } else {
          // null: skipped by the prefilter, and committed like a handled record.
          const decoded = decodeFor(sub, m.value);
          if (decoded !== null && !decoded.ok) await deadLetter(batch, m, decoded.problems);
          else if (decoded !== null) {
            try {
              await withRetry('handler', payload, () => sub.handle!(decoded.value, meta));
            } catch (err) {
              if (!(err instanceof PermanentRecordError)) throw err;
              await deadLetter(batch, m, err.problems);
            }
          }
        }
        payload.resolveOffset(m.offset);
        processed = m.offset;
        await payload.heartbeat();
      }
      // One commit per batch: a crash before it replays the batch, which idempotent handlers absorb.
      if (processed !== null) {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(processed) + 1n).toString() }]);
      }
    },
  });

  return {
    consumer,
    assignment: () => assignment,
    stop: async () => {
      stopping = true;
      await consumer.disconnect();
    },
  };
}
