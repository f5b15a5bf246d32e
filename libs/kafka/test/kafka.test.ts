import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, type ContactPurchase } from '@payam/contracts';
import { readTopic, stack, topicEnd, uniqueName, waitFor } from '@payam/testkit';
import {
  EventPublisher,
  InvalidEventError,
  PermanentRecordError,
  createKafka,
  ensureTopics,
  runConsumer,
  subscribe,
  type ConsumerHandle,
  type Subscription,
} from '../src';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

function purchase(workspaceId: string, contactId: string, amount: number): ContactPurchase {
  return {
    id: randomUUID(),
    type: 'contact.purchase',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    workspaceId,
    contactId,
    amount,
    currency: 'EUR',
    orderId: null,
    items: [],
  };
}

describe('kafka helpers against the real broker', () => {
  const kafka = createKafka({ brokers: stack.kafkaBrokers, clientId: 'payam-test', logger: silent });
  const publisher = new EventPublisher(kafka, silent);
  const handles: ConsumerHandle[] = [];

  beforeAll(async () => {
    await ensureTopics(kafka, Object.values(Topics));
    await publisher.connect();
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop()));
    await publisher.disconnect();
  });

  /** A consumer of this suite (stopped after it) in a new group, dead letters to the real topic. */
  async function consume(groupId: string, subscription: Subscription): Promise<void> {
    handles.push(await runConsumer({ kafka, groupId, logger: silent, deadLetters: publisher, subscriptions: [subscription] }));
  }

  test('ensureTopics creates the topics with their partitions and compaction, and is idempotent', async () => {
    await ensureTopics(kafka, Object.values(Topics));
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [Topics.contacts.name, Topics.emailEvents.name] });
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: Topics.contacts.name, configNames: ['cleanup.policy'] }],
    });
    await admin.disconnect();
    expect(meta.topics.find((t) => t.name === Topics.emailEvents.name)!.partitions).toHaveLength(Topics.emailEvents.partitions);
    expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('compact');
  });

  test('a record published (acks=all) is consumed through the real broker, in order per key', async () => {
    const ws = uniqueName('ws');
    const seen: number[] = [];
    handles.push(
      await runConsumer({
        kafka,
        groupId: uniqueName('g'),
        logger: silent,
        subscriptions: [
          subscribe({
            topic: Topics.contactEvents,
            handle: async (e) => {
              if (e.workspaceId === ws && e.type === 'contact.purchase') seen.push(e.amount);
            },
          }),
        ],
      }),
    );
    // Concurrent publishes are coalesced; each resolves only when acknowledged.
    await Promise.all([1, 2, 3, 4, 5].map((n) => publisher.publish(Topics.contactEvents, [{ key: 'c1', value: purchase(ws, 'c1', n) }])));
    await waitFor(() => seen.length === 5, { what: 'five purchases' });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  test('an invalid value is refused before it reaches Kafka', async () => {
    const bad = { ...purchase('w', 'c', 1), currency: 'euro' };
    await expect(publisher.publish(Topics.contactEvents, [{ key: 'c', value: bad }])).rejects.toBeInstanceOf(InvalidEventError);
  });

  test('records that fail their schema, or a handler permanently, go to dead-letters.v1 and the partition moves on', async () => {
    const ws = uniqueName('ws');
    const group = uniqueName('g');
    const raw = new Kafka({ brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    await raw.send({ topic: Topics.contactEvents.name, messages: [{ key: 'k', value: '{"not":"an event"}' }] });
    await raw.disconnect();
    await publisher.publish(Topics.contactEvents, [
      { key: 'k', value: purchase(ws, 'poison', 13) },
      { key: 'k', value: purchase(ws, 'fine', 7) },
    ]);
    const applied: string[] = [];
    await consume(
      group,
      subscribe({
        topic: Topics.contactEvents,
        handle: async (e) => {
          if (e.workspaceId !== ws) return;
          if (e.contactId === 'poison') throw new PermanentRecordError('contact is poison');
          applied.push(e.contactId);
        },
      }),
    );
    await waitFor(() => applied.includes('fine'), { what: 'the record after the poison one' });
    const letters = await waitFor(async () => {
      const found = await readTopic(Topics.deadLetters.name, (r) => (r.value as { consumerGroup: string }).consumerGroup === group);
      return found.length >= 2 ? found : undefined;
    });
    const reasons = letters.map((l) => (l.value as { problems: Array<{ message: string }> }).problems[0]!.message);
    expect(reasons).toEqual(expect.arrayContaining(['contact is poison']));
    expect(reasons.some((r) => r !== 'contact is poison')).toBe(true);
  });

  test.each(['handle', 'handleBatch'] as const)(
    'with %s, a prefilter skips records before validation: never handled nor dead-lettered; what it lets through is validated as usual',
    async (mode) => {
      const ws = uniqueName('ws');
      const group = uniqueName('g');
      const lettersFrom = await topicEnd(Topics.deadLetters.name);
      const raw = new Kafka({ brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
      await raw.connect();
      await raw.send({
        topic: Topics.contactEvents.name,
        messages: [
          { key: 'k', value: JSON.stringify({ ...purchase(ws, 'skipped', 1), type: 'contact.other' }) },
          { key: 'k', value: JSON.stringify({ type: 'contact.other', not: 'an event' }) },
          { key: 'k', value: JSON.stringify({ type: 'contact.purchase', workspaceId: ws, not: 'an event' }) },
          { key: 'k', value: JSON.stringify(purchase(ws, 'kept', 2)) },
        ],
      });
      await raw.disconnect();
      const applied: string[] = [];
      const keep = (e: { workspaceId: string; contactId: string }) => {
        if (e.workspaceId === ws) applied.push(e.contactId);
      };
      const prefilter = (r: Record<string, unknown>) => r.type === 'contact.purchase';
      await consume(
        group,
        mode === 'handle'
          ? subscribe({ topic: Topics.contactEvents, prefilter, handle: async (e) => keep(e) })
          : subscribe({ topic: Topics.contactEvents, prefilter, handleBatch: async (rs) => rs.forEach((r) => keep(r.value)) }),
      );
      await waitFor(() => applied.includes('kept'), { what: 'the record after the skipped ones' });
      expect(applied).toEqual(['kept']);
      // Dead letters are published before the records after them are handled: all are there now.
      // (The new group reads the topic from the beginning: earlier runs' records are letters too.)
      const letters = await readTopic(Topics.deadLetters.name, (r) => (r.value as { consumerGroup: string }).consumerGroup === group, { from: lettersFrom });
      const mine = letters.map((l) => JSON.parse((l.value as { value: string }).value) as Record<string, unknown>).filter((v) => JSON.stringify(v).includes(ws));
      expect(mine).toEqual([{ type: 'contact.purchase', workspaceId: ws, not: 'an event' }]);
    },
  );

  test('a transient handler error is retried, and offsets are committed only after processing: a restart resumes', async () => {
    const ws = uniqueName('ws');
    const group = uniqueName('g');
    let failuresLeft = 2;
    const applied: number[] = [];
    const handler = async (e: ContactPurchase) => {
      if (e.workspaceId !== ws) return;
      if (failuresLeft-- > 0) throw new Error('database briefly unavailable');
      applied.push(e.amount);
    };
    const sub = () =>
      subscribe({ topic: Topics.contactEvents, handle: async (e) => (e.type === 'contact.purchase' ? handler(e) : undefined) });
    const first = await runConsumer({ kafka, groupId: group, logger: silent, subscriptions: [sub()], maxRetryDelayMs: 300 });
    await publisher.publish(Topics.contactEvents, [{ key: 'x', value: purchase(ws, 'x', 1) }]);
    await waitFor(() => applied.length === 1, { what: 'the retried record' });
    await first.stop();

    await publisher.publish(Topics.contactEvents, [{ key: 'x', value: purchase(ws, 'x', 2) }]);
    const second = await runConsumer({ kafka, groupId: group, logger: silent, subscriptions: [sub()] });
    handles.push(second);
    await waitFor(() => applied.length === 2, { what: 'the record published while stopped' });
    await new Promise((r) => setTimeout(r, 500));
    expect(applied).toEqual([1, 2]); // resumed after 1, did not repeat it
  });
});
