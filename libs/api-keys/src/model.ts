import { Schema, type Connection, type Model } from 'mongoose';
import type { ApiKeyRecord } from '@payam/contracts';

export interface ApiKeyDoc {
  /** The key id. */
  _id: string;
  workspaceId: string;
  keyHash: string;
  name: string;
  revokedAt: Date | null;
  /** occurredAt of the record stored, not the write time: ordering follows the producer. */
  updatedAt: Date;
}

export type ApiKeyModel = Model<ApiKeyDoc>;

const apiKeySchema = new Schema<ApiKeyDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    keyHash: { type: String, required: true },
    name: { type: String, required: true },
    revokedAt: { type: Date, default: null },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'api_keys', versionKey: false, timestamps: false },
);
// Every authenticated request looks its key up by hash.
apiKeySchema.index({ keyHash: 1 }, { unique: true });

/** The api_keys model on a service's connection (created once per connection). */
export function apiKeyModel(connection: Connection): ApiKeyModel {
  return (connection.models.ApiKey as ApiKeyModel | undefined) ?? connection.model<ApiKeyDoc>('ApiKey', apiKeySchema);
}

export type ApplyResult = 'applied' | 'stale';

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * Projects one api-keys.v1 record. Idempotent and order-safe without transactions (FerretDB
 * has none): the conditional upsert only replaces a stored key that is not newer; when a newer
 * one is stored, the filter misses, the upsert tries to insert the same _id and the unique _id
 * refuses it, which we read as "stale". A replay of the same record applies again, harmlessly.
 */
export async function applyApiKeyRecord(model: ApiKeyModel, record: ApiKeyRecord): Promise<ApplyResult> {
  const occurredAt = new Date(record.occurredAt);
  const doc = {
    workspaceId: record.workspaceId,
    keyHash: record.keyHash,
    name: record.name,
    revokedAt: record.revokedAt === null ? null : new Date(record.revokedAt),
    updatedAt: occurredAt,
  };
  try {
    await model.updateOne({ _id: record.keyId, updatedAt: { $lte: occurredAt } }, { $set: doc }, { upsert: true });
    return 'applied';
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // Either a newer record is stored (stale: ignore) or another key has this hash (a real error).
    const stored = await model.findById(record.keyId, { updatedAt: 1 }).lean();
    if (stored && stored.updatedAt.getTime() > occurredAt.getTime()) return 'stale';
    throw err;
  }
}
