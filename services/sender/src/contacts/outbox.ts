import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { DomainError } from '@payam/errors';
import type { Logger } from '@payam/observability';

/**
 * Write-ahead note for contacts.v1: before contacts are written, one small document names them;
 * after their snapshots are published, it is deleted. A note older than a few seconds means a
 * crash or a Kafka outage came between the write and the publish, and the re-publisher sends
 * the named contacts' current state. One note per write (or per import chunk), never one update
 * per contact: the collection stays tiny, so the bookkeeping costs two cheap writes per batch.
 */
export interface ContactOutboxDoc {
  _id: string;
  contactIds: string[];
  at: Date;
}

export type ContactOutboxModel = Model<ContactOutboxDoc>;

const outboxSchema = new Schema<ContactOutboxDoc>(
  {
    _id: { type: String, required: true },
    contactIds: { type: [String], required: true },
    at: { type: Date, required: true },
  },
  { collection: 'contact_outbox', versionKey: false, timestamps: false },
);

export function contactOutboxModel(conn: Connection): ContactOutboxModel {
  return (conn.models.ContactOutbox as ContactOutboxModel | undefined) ?? conn.model<ContactOutboxDoc>('ContactOutbox', outboxSchema);
}

/**
 * Notes the contacts, runs the write, publishes what it returns, then clears the note. A
 * domain error from the write (nothing written) clears the note at once; any other failure
 * leaves it for the re-publisher. A failed publish is logged, not thrown: the write stands.
 */
export async function writeThenPublish<T>(
  outbox: ContactOutboxModel,
  logger: Logger,
  contactIds: string[],
  write: () => Promise<T>,
  publish: (result: T) => Promise<void>,
): Promise<T> {
  const noteId = randomUUID();
  if (contactIds.length > 0) await outbox.collection.insertOne({ _id: noteId, contactIds, at: new Date() } as never);
  let result: T;
  try {
    result = await write();
  } catch (err) {
    if (err instanceof DomainError && contactIds.length > 0) await outbox.deleteOne({ _id: noteId }).catch(() => undefined);
    throw err;
  }
  try {
    await publish(result);
    if (contactIds.length > 0) await outbox.deleteOne({ _id: noteId });
  } catch (err) {
    logger.error({ err, contacts: contactIds.length }, 'contacts written but not yet published; the re-publisher will retry');
  }
  return result;
}
