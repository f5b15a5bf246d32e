import { z } from 'zod';

/** Every event on every topic starts with these fields (DESIGN.md, "Event streams"). */
export const EnvelopeFields = {
  /** Unique per event; deterministic where the source can be redelivered, so a replay is a no-op. */
  id: z.uuid(),
  schemaVersion: z.literal(1),
  occurredAt: z.iso.datetime({ offset: true }),
  workspaceId: z.string().min(1).max(64),
  contactId: z.string().min(1).max(64),
};

/** Identifiers we mint: workspace, contact, campaign, delivery ids. Opaque strings, URL-safe. */
export const EntityId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'expected an id of letters, digits, "_" or "-"');
export type EntityId = z.infer<typeof EntityId>;
