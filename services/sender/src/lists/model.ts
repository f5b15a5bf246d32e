import { Schema, type Connection, type Model } from 'mongoose';

/** A static list. Membership lives on the contact (`ContactDoc.listIds`), so it travels in the snapshot. */
export interface ListDoc {
  _id: string;
  workspaceId: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export type ListModel = Model<ListDoc>;

const listSchema = new Schema<ListDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    name: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'lists', versionKey: false, timestamps: false },
);
listSchema.index({ workspaceId: 1, _id: 1 });

export function listModel(conn: Connection): ListModel {
  return (conn.models.List as ListModel | undefined) ?? conn.model<ListDoc>('List', listSchema);
}
