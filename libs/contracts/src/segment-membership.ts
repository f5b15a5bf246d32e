import { z } from 'zod';
import { EntityId, EnvelopeFields } from './envelope';

/** segment-membership.v1: a contact entered or left a segment, under a given rule version. */
export const SegmentMembershipChanged = z.object({
  ...EnvelopeFields,
  type: z.enum(['segment.entered', 'segment.exited']),
  segmentId: EntityId,
  segmentVersion: z.number().int().positive(),
});
export type SegmentMembershipChanged = z.infer<typeof SegmentMembershipChanged>;
