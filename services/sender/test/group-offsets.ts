// Consumer groups of a sender under test that start where their topics end now, instead of at
// the beginning (the default for a new group): the shared broker holds every earlier run's
// records, and replaying them only adds minutes of load.
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@payam/contracts';
import { stack } from '@payam/testkit';

/** The sender's consumer groups (without prefix) and the topic each reads. */
export const SENDER_GROUPS: ReadonlyArray<readonly [string, string]> = [
  ['sender.workers', Topics.sendJobs.name],
  ['sender.suppression', Topics.emailEvents.name],
  ['sender.experiments', Topics.emailEvents.name],
  ['sender.memberships', Topics.segmentMembership.name],
  ['sender.signals', Topics.campaignSignals.name],
];

export type TopicOffsets = Map<string, Array<{ partition: number; offset: string }>>;

function admin() {
  return new Kafka({ clientId: 'sender-test-offsets', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
}

/** The current end of every topic the sender consumes. */
export async function senderTopicEnds(): Promise<TopicOffsets> {
  const a = admin();
  await a.connect();
  try {
    const out: TopicOffsets = new Map();
    for (const topic of new Set(SENDER_GROUPS.map(([, t]) => t))) {
      out.set(topic, (await a.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high })));
    }
    return out;
  } finally {
    await a.disconnect();
  }
}

/** Commits `at` (default: the ends now) for each of the sender's groups under `groupPrefix`, before the groups exist. */
export async function placeSenderGroups(groupPrefix: string, at?: TopicOffsets): Promise<void> {
  const offsets = at ?? (await senderTopicEnds());
  const a = admin();
  await a.connect();
  try {
    for (const [group, topic] of SENDER_GROUPS) await a.setOffsets({ groupId: `${groupPrefix}.${group}`, topic, partitions: offsets.get(topic)! });
  } finally {
    await a.disconnect();
  }
}
