import type { Kafka } from 'kafkajs';
import type { TopicSpec } from '@payam/contracts';

/**
 * Creates the topics a service uses, with their partition counts and cleanup policies. Safe
 * to call at every boot: existing topics are left as they are (partitions are never reduced).
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[], replicationFactor = -1): Promise<void> {
  // Services booting together on a fresh broker race to create the same topics; the loser sees
  // transient errors (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE) that kafkajs marks
  // retriable. Try again rather than fail the boot.
  for (let attempt = 1; ; attempt++) {
    try {
      return await createMissing(kafka, specs, replicationFactor);
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}

async function createMissing(kafka: Kafka, specs: readonly TopicSpec[], replicationFactor: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return await waitUntilServed(kafka, specs);
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor, // -1: the broker's default.replication.factor
        configEntries: s.compacted
          ? [
              { name: 'cleanup.policy', value: 'compact' },
              // Tombstones stay a day so a consumer that was down for hours still sees deletions.
              { name: 'delete.retention.ms', value: String(24 * 3600 * 1000) },
            ]
          : [],
      })),
    });
  } catch (err) {
    // Two services booting at once may race to create the same topic: that one is fine.
    if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
  } finally {
    await admin.disconnect();
  }
  await waitUntilServed(kafka, specs);
}

/**
 * A topic created a moment ago (by us or by another process) may not have its partition leaders
 * yet: requests then fail with NOT_LEADER_FOR_PARTITION. Returns once every topic answers an
 * offsets request, so callers can use the topics at once.
 */
async function waitUntilServed(kafka: Kafka, specs: readonly TopicSpec[], timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (const spec of specs) {
      for (;;) {
        try {
          await admin.fetchTopicOffsets(spec.name);
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * The cluster's id: the same for as long as the broker's storage lives (formatting it anew gives
 * a new one), so state keyed by offsets can tell a wiped broker, whose offsets restart at 0.
 */
export async function clusterIdOf(kafka: Kafka): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect();
  }
}
