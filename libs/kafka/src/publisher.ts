import { CompressionTypes, Partitioners, type IHeaders, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import type { z } from 'zod';
import { formatProblems, describeIssues, type TopicSpec } from '@payam/contracts';
import type { KafkaLogger } from './client';

export interface OutgoingRecord<V> {
  key: string;
  /** null publishes a tombstone (compacted topics only). */
  value: V | null;
  headers?: IHeaders;
}

interface Pending {
  topic: string;
  messages: TopicMessages['messages'];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface PublishOptions {
  /**
   * false skips the schema check, for values this process built itself from data it already
   * validated (the tracker's opens and clicks, built from a verified token), where a second full
   * parse would cost more than the rest of the request. The caller owns the proof: a test that
   * every value it builds passes the schema. Input from outside is always validated.
   */
  validate?: boolean;
}

export class InvalidEventError extends Error {
  constructor(topic: string, detail: string) {
    super(`refusing to publish an invalid record to ${topic}: ${detail}`);
    this.name = 'InvalidEventError';
  }
}

/**
 * The one way services write to Kafka. The producer is idempotent with acks=all, so a retried
 * send never duplicates a record and a publish() resolves only once every in-sync replica has
 * it: only then may the caller count the event as recorded.
 *
 * Concurrent publish() calls are coalesced: while one send is in flight the next callers'
 * records queue up and go out together in the following send. A busy HTTP edge (the tracker)
 * thus gets large batches without adding latency when it is idle.
 */
export class EventPublisher {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private sending = false;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly logger: KafkaLogger,
    private readonly opts: { maxBatchRecords?: number; compression?: boolean } = {},
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { initialRetryTime: 100, retries: 10, maxRetryTime: 5000 },
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Validates every value against the topic's schema, then resolves when Kafka acknowledged all. */
  publish<S extends z.ZodType>(
    spec: TopicSpec<S>,
    records: Array<OutgoingRecord<z.input<S>>>,
    options: PublishOptions = {},
  ): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const validate = options.validate ?? true;
    let messages: TopicMessages['messages'];
    try {
      messages = records.map((r) => {
        if (r.value === null) {
          if (!spec.compacted) throw new InvalidEventError(spec.name, 'tombstones only go to compacted topics');
          return { key: r.key, value: null, headers: r.headers };
        }
        if (!validate) return { key: r.key, value: JSON.stringify(r.value), headers: r.headers };
        const parsed = spec.schema.safeParse(r.value);
        if (!parsed.success) throw new InvalidEventError(spec.name, formatProblems(describeIssues(parsed.error)));
        return { key: r.key, value: JSON.stringify(parsed.data), headers: r.headers };
      });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic: spec.name, messages, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        const byTopic = new Map<string, TopicMessages['messages']>();
        for (const p of batch) {
          const list = byTopic.get(p.topic) ?? [];
          list.push(...p.messages);
          byTopic.set(p.topic, list);
        }
        try {
          await this.producer.sendBatch({
            acks: -1,
            compression: this.opts.compression ? CompressionTypes.GZIP : CompressionTypes.None,
            topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          });
          for (const p of batch) p.resolve();
        } catch (err) {
          this.logger.error({ err, records: batch.length }, 'kafka publish failed');
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private takeBatch(): Pending[] {
    const max = this.opts.maxBatchRecords ?? 5000;
    let count = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || count + this.queue[n]!.messages.length <= max)) {
      count += this.queue[n]!.messages.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** Waits for queued records to be sent, then disconnects. */
  async disconnect(): Promise<void> {
    while (this.sending || this.queue.length > 0) await new Promise((r) => setTimeout(r, 10));
    if (this.connected) await this.producer.disconnect();
    this.connected = false;
  }
}
