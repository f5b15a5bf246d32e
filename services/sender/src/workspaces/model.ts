import { Schema, type Connection, type Model } from 'mongoose';

export interface WorkspaceDoc {
  _id: string;
  name: string;
  createdAt: Date;
}

export type WorkspaceModel = Model<WorkspaceDoc>;

const workspaceSchema = new Schema<WorkspaceDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'workspaces', versionKey: false, timestamps: false },
);

export function workspaceModel(conn: Connection): WorkspaceModel {
  return (conn.models.Workspace as WorkspaceModel | undefined) ?? conn.model<WorkspaceDoc>('Workspace', workspaceSchema);
}
