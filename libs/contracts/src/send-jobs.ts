import { z } from 'zod';
import { EntityId, EnvelopeFields } from './envelope';

/**
 * send-jobs.v1: one job per recipient of a campaign phase. The job only names the delivery;
 * the worker reads the delivery (the source of truth for its state) before sending, so a
 * redelivered job for a delivery already sent does nothing.
 */
export const SendJob = z.object({
  ...EnvelopeFields,
  type: z.literal('send.job'),
  campaignId: EntityId,
  deliveryId: EntityId,
  /** "all" for a plain campaign, "test"/"remainder" for an experiment, "trigger" for a triggered send. */
  phase: z.enum(['all', 'test', 'remainder', 'trigger']),
});
export type SendJob = z.infer<typeof SendJob>;
