import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { stack } from './stack';

export type Offsets = Array<{ partition: number; offset: string }>;

function admin(brokers: string[]) {
  return new Kafka({ clientId: 'payam-test-offsets', brokers, logLevel: logLevel.NOTHING }).admin();
}

/** Where each topic ends now (its high watermarks), per partition. */
export async function topicEnds(topics: string[], brokers: string[] = stack.kafkaBrokers): Promise<Record<string, Offsets>> {
  const a = admin(brokers);
  await a.connect();
  try {
    const out: Record<string, Offsets> = {};
    for (const t of topics) out[t] = (await a.fetchTopicOffsets(t)).map((p) => ({ partition: p.partition, offset: p.high }));
    return out;
  } finally {
    await a.disconnect();
  }
}

/** Where one topic ends now. */
export async function topicEnd(topic: string, brokers: string[] = stack.kafkaBrokers): Promise<Offsets> {
  return (await topicEnds([topic], brokers))[topic]!;
}

/**
 * Commits offsets for consumer groups before they exist, so each starts at `at` (default: where
 * its topic ends now) instead of at the beginning: the shared broker holds every earlier run's
 * records, and a test group replaying them would spend its time catching up.
 */
export async function placeGroups(
  placements: Array<{ groupId: string; topic: string; at?: Offsets }>,
  brokers: string[] = stack.kafkaBrokers,
): Promise<void> {
  if (placements.length === 0) return;
  const a = admin(brokers);
  await a.connect();
  try {
    for (const { groupId, topic, at } of placements) {
      const partitions = at ?? (await a.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
      await a.setOffsets({ groupId, topic, partitions });
    }
  } finally {
    await a.disconnect();
  }
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
