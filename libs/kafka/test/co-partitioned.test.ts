import { z } from 'zod';
import type { TopicSpec } from '@payam/contracts';
import { stack, uniqueName, waitFor } from '@payam/testkit';
import {
  CoPartitionedAssigner,
  EventPublisher,
  createKafka,
  ensureTopics,
  partitionOfKey,
  runConsumer,
  subscribe,
  type ConsumerHandle,
} from '../src';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

describe('CoPartitionedAssigner against the real broker', () => {
  const kafka = createKafka({ brokers: stack.kafkaBrokers, clientId: 'payam-test', logger: silent });
  const handles: ConsumerHandle[] = [];
  const value = z.object({ key: z.string() });
  // Five partitions: with kafkajs's default round robin two members would then get different
  // partition numbers of the two topics (a0 a2 a4 b1 b3 vs a1 a3 b0 b2 b4).
  const spec = (name: string): TopicSpec<typeof value> => ({
    name: uniqueName(name),
    partitions: 5,
    compacted: false,
    key: 'contactId',
    schema: value,
  });
  const a = spec('copart-a');
  const b = spec('copart-b');

  beforeAll(async () => {
    await ensureTopics(kafka, [a, b]);
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop()));
  });

  test('two members get the same partition numbers of both topics, and every key lands where partitionOfKey says', async () => {
    const group = uniqueName('copart');
    const seen = new Map<string, Array<{ member: number; topic: string; partition: number }>>();
    const member = (n: number) =>
      runConsumer({
        kafka,
        groupId: group,
        logger: silent,
        partitionAssigners: [CoPartitionedAssigner],
        subscriptions: [a, b].map((t) =>
          subscribe<typeof value>({
            topic: t,
            handle: async (v: { key: string }, meta) => {
              seen.set(v.key, [...(seen.get(v.key) ?? []), { member: n, topic: meta.topic, partition: meta.partition }]);
            },
          }),
        ),
      });
    handles.push(await member(1), await member(2));
    await waitFor(
      async () => {
        const [x, y] = handles.map((h) => h.assignment());
        return (
          (x?.[a.name]?.length ?? 0) + (y?.[a.name]?.length ?? 0) === 5 && (x?.[b.name]?.length ?? 0) + (y?.[b.name]?.length ?? 0) === 5
        );
      },
      { timeoutMs: 60_000, what: 'both members assigned' },
    );
    const [first, second] = handles.map((h) => h.assignment());
    for (const asg of [first!, second!]) {
      expect(asg[a.name]!.length).toBeGreaterThan(0);
      expect([...asg[a.name]!].sort()).toEqual([...asg[b.name]!].sort());
    }

    const publisher = new EventPublisher(kafka, silent);
    await publisher.connect();
    const keys = Array.from({ length: 60 }, (_, i) => `contact-${i}`);
    for (const t of [a, b])
      await publisher.publish(
        t,
        keys.map((key) => ({ key, value: { key } })),
      );
    await publisher.disconnect();
    await waitFor(async () => keys.every((k) => (seen.get(k)?.length ?? 0) === 2), {
      timeoutMs: 60_000,
      what: 'every key read from both topics',
    });
    for (const k of keys) {
      const [x, y] = seen.get(k)!;
      expect(x!.member).toBe(y!.member);
      expect(x!.partition).toBe(partitionOfKey(k, 5));
      expect(y!.partition).toBe(partitionOfKey(k, 5));
    }
    // Both members did some of the work (the keys spread over all five partitions).
    expect(new Set(keys.map((k) => seen.get(k)![0]!.member)).size).toBe(2);
  });
});
