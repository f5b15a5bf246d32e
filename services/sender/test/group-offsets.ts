// Consumer groups of a sender under test that start where their topics end now, instead of at
// the beginning (the default for a new group): the shared broker holds every earlier run's
// records, and replaying them only adds minutes of load.
import { Topics } from '@payam/contracts';
import { placeGroups, topicEnds, type Offsets } from '@payam/testkit';

/** The sender's consumer groups (without prefix) and the topic each reads. */
export const SENDER_GROUPS: ReadonlyArray<readonly [string, string]> = [
  ['sender.workers', Topics.sendJobs.name],
  ['sender.suppression', Topics.emailEvents.name],
  ['sender.experiments', Topics.emailEvents.name],
  ['sender.memberships', Topics.segmentMembership.name],
  ['sender.signals', Topics.campaignSignals.name],
];

export type TopicOffsets = Record<string, Offsets>;

/** The current end of every topic the sender consumes. */
export function senderTopicEnds(): Promise<TopicOffsets> {
  return topicEnds([...new Set(SENDER_GROUPS.map(([, t]) => t))]);
}

/** Commits `at` (default: the ends now) for each of the sender's groups under `groupPrefix`, before the groups exist. */
export async function placeSenderGroups(groupPrefix: string, at?: TopicOffsets): Promise<void> {
  await placeGroups(SENDER_GROUPS.map(([group, topic]) => ({ groupId: `${groupPrefix}.${group}`, topic, at: at?.[topic] })));
}
