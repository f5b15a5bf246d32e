import { Schema, type Connection, type Model } from 'mongoose';

export type ImportFormat = 'csv' | 'json' | 'ndjson';
export type ImportState = 'running' | 'completed' | 'failed';

export interface ImportRowError {
  /** CSV: the line in the file (the header is line 1); JSON array: the element's 1-based index; NDJSON: the line. */
  row: number;
  message: string;
}

export interface ImportDoc {
  _id: string;
  workspaceId: string;
  format: ImportFormat;
  /** Every imported contact is also added to this list, when given. */
  listId: string | null;
  state: ImportState;
  bytes: number;
  processed: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  /** The first 100 row errors. */
  errors: ImportRowError[];
  /** Why the whole import stopped (unreadable file, shutdown), when it did. */
  failure: string | null;
  /** Which process runs it, and when it last reported: a stale running import was interrupted. */
  owner: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export type ImportModel = Model<ImportDoc>;

const importSchema = new Schema<ImportDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    format: { type: String, required: true },
    listId: { type: String, default: null },
    state: { type: String, required: true },
    bytes: { type: Number, default: 0 },
    processed: { type: Number, default: 0 },
    created: { type: Number, default: 0 },
    updated: { type: Number, default: 0 },
    unchanged: { type: Number, default: 0 },
    failed: { type: Number, default: 0 },
    errors: { type: [{ _id: false, row: Number, message: String }], default: [] },
    failure: { type: String, default: null },
    owner: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
  },
  { collection: 'contact_imports', versionKey: false, timestamps: false, suppressReservedKeysWarning: true },
);
importSchema.index({ workspaceId: 1, _id: 1 });
importSchema.index({ state: 1, updatedAt: 1 });

export function importModel(conn: Connection): ImportModel {
  return (conn.models.ContactImport as ImportModel | undefined) ?? conn.model<ImportDoc>('ContactImport', importSchema);
}
