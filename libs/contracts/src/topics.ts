import type { z } from 'zod';
import { ApiKeyRecord } from './api-keys';
import { CampaignSignal } from './campaign-signals';
import { ContactEvent } from './contact-events';
import { ContactSnapshot } from './contacts';
import { EmailEvent } from './email-events';
import { SegmentMembershipChanged } from './segment-membership';
import { SendJob } from './send-jobs';
import { DeadLetter } from './dead-letters';

export interface TopicSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  partitions: number;
  /** Compacted topics keep the latest record per key; a null value is a tombstone. */
  compacted: boolean;
  /** What the record key is. */
  key: 'contactId' | 'keyId' | 'campaignId' | 'source';
  schema: S;
}

function topic<S extends z.ZodType>(spec: TopicSpec<S>): TopicSpec<S> {
  return spec;
}

/** Every topic of the suite (DESIGN.md, "Event streams"). Partition counts are the defaults ensureTopics creates. */
export const Topics = {
  contacts: topic({ name: 'contacts.v1', partitions: 6, compacted: true, key: 'contactId', schema: ContactSnapshot }),
  emailEvents: topic({ name: 'email-events.v1', partitions: 6, compacted: false, key: 'contactId', schema: EmailEvent }),
  contactEvents: topic({ name: 'contact-events.v1', partitions: 6, compacted: false, key: 'contactId', schema: ContactEvent }),
  segmentMembership: topic({
    name: 'segment-membership.v1',
    partitions: 6,
    compacted: false,
    key: 'contactId',
    schema: SegmentMembershipChanged,
  }),
  sendJobs: topic({ name: 'send-jobs.v1', partitions: 6, compacted: false, key: 'contactId', schema: SendJob }),
  apiKeys: topic({ name: 'api-keys.v1', partitions: 1, compacted: true, key: 'keyId', schema: ApiKeyRecord }),
  campaignSignals: topic({ name: 'campaign-signals.v1', partitions: 3, compacted: false, key: 'campaignId', schema: CampaignSignal }),
  deadLetters: topic({ name: 'dead-letters.v1', partitions: 1, compacted: false, key: 'source', schema: DeadLetter }),
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics]['name'];
