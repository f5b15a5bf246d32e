import { z } from 'zod';

/**
 * dead-letters.v1: a record a consumer could not accept (not JSON, not the topic's schema, or a
 * handler's permanent error). Kept, with why, instead of being dropped or blocking its partition.
 */
export const DeadLetter = z.object({
  id: z.uuid(),
  type: z.literal('dead_letter'),
  schemaVersion: z.literal(1),
  occurredAt: z.iso.datetime({ offset: true }),
  consumerGroup: z.string(),
  topic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  key: z.string().nullable(),
  /** The record value as received (UTF-8), cut at 64 KiB. */
  value: z.string().nullable(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type DeadLetter = z.infer<typeof DeadLetter>;
