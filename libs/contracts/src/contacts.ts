import { z } from 'zod';
import { EntityId } from './envelope';

export const ContactStatus = z.enum(['subscribed', 'unsubscribed', 'bounced', 'complained']);
export type ContactStatus = z.infer<typeof ContactStatus>;

/** Free JSON attributes of a contact (size is limited where they are written). */
export const ContactAttributes = z.record(z.string().max(100), z.unknown());
export type ContactAttributes = z.infer<typeof ContactAttributes>;

/**
 * contacts.v1 is compacted and keyed by contactId: the latest snapshot is the contact. An
 * erased contact is a tombstone (a null value) whose `workspace-id` header names its workspace.
 * `version` grows with every change, so a consumer can ignore a snapshot older than what it has.
 */
export const ContactSnapshot = z.object({
  id: z.uuid(),
  type: z.literal('contact.snapshot'),
  schemaVersion: z.literal(1),
  occurredAt: z.iso.datetime({ offset: true }),
  workspaceId: EntityId,
  contactId: EntityId,
  version: z.number().int().nonnegative(),
  email: z.email(),
  status: ContactStatus,
  attributes: ContactAttributes,
  listIds: z.array(EntityId),
  createdAt: z.iso.datetime({ offset: true }),
});
export type ContactSnapshot = z.infer<typeof ContactSnapshot>;

/** Kafka header on a contacts.v1 tombstone: the value is null, so the workspace travels here. */
export const TOMBSTONE_WORKSPACE_HEADER = 'workspace-id';
