import { Schema, type Connection, type Model } from 'mongoose';

export type SuppressionReason = 'bounce' | 'complaint' | 'unsubscribe' | 'manual';

export interface SuppressionDoc {
  /** `<workspaceId>:<email>`: one entry per address per workspace, so suppressing is an idempotent upsert. */
  _id: string;
  workspaceId: string;
  /** Normalised (trimmed, lower-case). */
  email: string;
  reason: SuppressionReason;
  /** The email event that caused it (null for the API). */
  sourceEventId: string | null;
  createdAt: Date;
}

export type SuppressionModel = Model<SuppressionDoc>;

const suppressionSchema = new Schema<SuppressionDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    email: { type: String, required: true },
    reason: { type: String, required: true, enum: ['bounce', 'complaint', 'unsubscribe', 'manual'] },
    sourceEventId: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'suppressions', versionKey: false, timestamps: false },
);
suppressionSchema.index({ workspaceId: 1, email: 1 }, { unique: true });

/** Email events already applied: makes a redelivered event a no-op. */
export interface SuppressionEventDoc {
  _id: string;
  at: Date;
}

const suppressionEventSchema = new Schema<SuppressionEventDoc>(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'suppression_events', versionKey: false, timestamps: false },
);

export function suppressionModel(conn: Connection): SuppressionModel {
  return (conn.models.Suppression as SuppressionModel | undefined) ?? conn.model<SuppressionDoc>('Suppression', suppressionSchema);
}

export function suppressionEventModel(conn: Connection): Model<SuppressionEventDoc> {
  return (
    (conn.models.SuppressionEvent as Model<SuppressionEventDoc> | undefined) ??
    conn.model<SuppressionEventDoc>('SuppressionEvent', suppressionEventSchema)
  );
}

export function suppressionKey(workspaceId: string, email: string): string {
  return `${workspaceId}:${email}`;
}
