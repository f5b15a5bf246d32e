import { Kafka, logLevel } from 'kafkajs';
import { placeGroups, type Offsets } from './kafka-offsets';
import { stack, uniqueName } from './stack';

export interface ReadRecord {
  key: string | null;
  value: unknown;
  partition: number;
  offset: string;
  headers: Record<string, string>;
}

/**
 * Reads a topic to its current end (the high watermarks at call time) with a throwaway consumer
 * group, and returns the decoded records that pass the filter. Tests use it to assert what really
 * reached Kafka. From the beginning unless `from` (testkit's topicEnd, taken before the test
 * wrote) says where each partition starts: a busy topic on a long-lived local stack holds every
 * earlier run's records, and reading them all can take longer than the test.
 */
export async function readTopic(topic: string, filter: (r: ReadRecord) => boolean = () => true, opts: { from?: Offsets } = {}): Promise<ReadRecord[]> {
  const kafka = new Kafka({ clientId: 'payam-test-reader', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const start = new Map((opts.from ?? []).map((o) => [o.partition, BigInt(o.offset)]));
  const remaining = new Map(
    ends.filter((e) => BigInt(e.high) > (start.get(e.partition) ?? BigInt(e.low)) && BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]),
  );
  const out: ReadRecord[] = [];
  if (remaining.size === 0) return out;
  const groupId = uniqueName('test-reader');
  // The group's committed offsets are where it starts; partitions without one start at the beginning.
  if (opts.from) await placeGroups([{ groupId, topic, at: opts.from }]);
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          const end = remaining.get(partition);
          if (end === undefined) return;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          const rec: ReadRecord = {
            key: message.key?.toString('utf8') ?? null,
            value: message.value ? JSON.parse(message.value.toString('utf8')) : null,
            partition,
            offset: message.offset,
            headers,
          };
          if (filter(rec)) out.push(rec);
          if (BigInt(message.offset) + 1n >= end) {
            remaining.delete(partition);
            if (remaining.size === 0) resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}
