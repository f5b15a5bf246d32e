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
  /**
   * The recipient as audience resolution saw it, so the worker reads no contact (a contacts
   * query scans the whole collection on FerretDB v1). `version` is the contact's version then:
   * the worker applies any later status, address or erasure change from the sender's contact
   * change log. `attributes` (the template data) is left out when large (the worker then reads
   * the contact, as for a job without this field, published before it existed).
   */
  contact: z
    .object({
      email: z.string().min(3).max(254),
      version: z.number().int().nonnegative(),
      attributes: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
export type SendJob = z.infer<typeof SendJob>;
