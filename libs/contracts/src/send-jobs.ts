import { z } from 'zod';
import { EntityId, EnvelopeFields } from './envelope';

/**
 * send-jobs.v1: one job per recipient of a campaign phase. The job names the delivery and
 * carries what the worker needs of it (the A/B variant), so the worker does not read the
 * delivery before sending: a job is only published for a queued delivery, and the worker's
 * unique claim makes a redelivered job for a delivery already sent do nothing.
 */
export const SendJob = z.object({
  ...EnvelopeFields,
  type: z.literal('send.job'),
  campaignId: EntityId,
  deliveryId: EntityId,
  /** "all" for a plain campaign, "test"/"remainder" for an experiment, "trigger" for a triggered send. */
  phase: z.enum(['all', 'test', 'remainder', 'trigger']),
  /**
   * The delivery's A/B variant (null: a plain campaign). Absent in jobs published before the
   * field existed: the worker then reads the delivery for it.
   */
  variantId: z.string().min(1).max(32).nullable().optional(),
});
export type SendJob = z.infer<typeof SendJob>;
