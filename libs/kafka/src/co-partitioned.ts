import { AssignerProtocol, Partitioners, type PartitionAssigner, type PartitionMetadata } from 'kafkajs';

/**
 * A group assignment that gives partition p of every subscribed topic to the same member
 * (Kafka Streams calls this co-partitioning). Topics keyed by the same id with the same
 * partition count then bring all records of one key to one process: the segmenter's three
 * input topics are keyed by contactId, so each contact's profile has exactly one writer.
 * (kafkajs's default round-robin spreads the topics' partitions independently.)
 *
 * Members are ordered by id and partition p goes to member p mod n, so every member computes
 * the same answer from the same inputs.
 */
export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'payam-co-partitioned',
  version: 1,
  protocol({ topics }) {
    return {
      name: 'payam-co-partitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const plan = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((m) => m.partitionId)
        .sort((a, b) => a - b);
      for (const p of partitions) {
        const owner = plan.get(ids[p % ids.length]!)!;
        (owner[topic] ??= []).push(p);
      }
    }
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: plan.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }));
  },
});

const partitioner = Partitioners.DefaultPartitioner();
/** The metadata the partitioner reads (only its length, for a keyed message), per partition count. */
const metadataByCount = new Map<number, PartitionMetadata[]>();

/**
 * The partition EventPublisher's producers (kafkajs's default partitioner, murmur2 of the key)
 * put a key in, for a topic of `partitions` partitions: lets a member tell which keys it owns.
 * Called per profile by the sweep and a recompute, so the metadata is built once per count.
 */
export function partitionOfKey(key: string, partitions: number): number {
  let partitionMetadata = metadataByCount.get(partitions);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    metadataByCount.set(partitions, partitionMetadata);
  }
  return partitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}
