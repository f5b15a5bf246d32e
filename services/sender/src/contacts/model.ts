import { Schema, type Connection, type Model } from 'mongoose';
import type { ContactStatus } from '@payam/contracts';

export type { ContactStatus } from '@payam/contracts';

export interface ContactDoc {
  /** The contact id (`ct_…`). */
  _id: string;
  workspaceId: string;
  /** Normalised: trimmed, lower-case. Erased contacts carry a placeholder (see erase). */
  email: string;
  status: ContactStatus;
  attributes: Record<string, unknown>;
  listIds: string[];
  /** Grows with every change; the version of the contacts.v1 snapshot. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** Set when the contact was erased: the data is gone, the id stays so later sends skip it. */
  erasedAt: Date | null;
}

export type ContactModel = Model<ContactDoc>;

const contactSchema = new Schema<ContactDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    email: { type: String, required: true },
    status: { type: String, required: true, enum: ['subscribed', 'unsubscribed', 'bounced', 'complained'] },
    attributes: { type: Schema.Types.Mixed, default: {} },
    listIds: { type: [String], default: [] },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    erasedAt: { type: Date, default: null },
  },
  { collection: 'contacts', versionKey: false, timestamps: false, minimize: false },
);
contactSchema.index({ workspaceId: 1, email: 1 }, { unique: true });
contactSchema.index({ workspaceId: 1, _id: 1 });
contactSchema.index({ workspaceId: 1, listIds: 1 });
contactSchema.index({ workspaceId: 1, status: 1 });

export function contactModel(conn: Connection): ContactModel {
  return (conn.models.Contact as ContactModel | undefined) ?? conn.model<ContactDoc>('Contact', contactSchema);
}
