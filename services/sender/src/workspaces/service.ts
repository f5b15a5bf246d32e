import { apiKeyModel, applyApiKeyRecord, issueApiKey, revokeApiKeyRecord, type ApiKeyDoc, type ApiKeyModel } from '@payam/api-keys';
import { deterministicEventId, Topics, type ApiKeyRecord } from '@payam/contracts';
import { NotFoundError } from '@payam/errors';
import type { EventPublisher } from '@payam/kafka';
import { findOwned } from '@payam/mongo';
import type { Logger } from '@payam/observability';
import type { Connection } from 'mongoose';
import { newId } from '../ids';
import { workspaceModel, type WorkspaceDoc, type WorkspaceModel } from './model';

export interface WorkspaceView {
  workspaceId: string;
  name: string;
  createdAt: string;
}

export interface ApiKeyView {
  keyId: string;
  workspaceId: string;
  name: string;
  revokedAt: string | null;
  updatedAt: string;
}

export interface IssuedKey extends ApiKeyView {
  /** The only time the secret is shown. */
  token: string;
}

export function workspaceView(doc: WorkspaceDoc): WorkspaceView {
  return { workspaceId: doc._id, name: doc.name, createdAt: doc.createdAt.toISOString() };
}

function keyView(doc: Pick<ApiKeyDoc, '_id' | 'workspaceId' | 'name' | 'revokedAt' | 'updatedAt'>): ApiKeyView {
  return {
    keyId: doc._id,
    workspaceId: doc.workspaceId,
    name: doc.name,
    revokedAt: doc.revokedAt ? doc.revokedAt.toISOString() : null,
    updatedAt: doc.updatedAt.toISOString(),
  };
}

/** The api-keys.v1 record for a stored key: deterministic, so re-publishing it is a no-op downstream. */
export function recordOfStoredKey(doc: ApiKeyDoc): ApiKeyRecord {
  return {
    id: deterministicEventId('api-key', doc._id, doc.updatedAt.toISOString()),
    type: 'api_key.upserted',
    schemaVersion: 1,
    occurredAt: doc.updatedAt.toISOString(),
    workspaceId: doc.workspaceId,
    keyId: doc._id,
    keyHash: doc.keyHash,
    name: doc.name,
    revokedAt: doc.revokedAt ? doc.revokedAt.toISOString() : null,
  };
}

/**
 * Workspaces and their API keys. The sender is the source of truth for keys: it stores them
 * (hashed, through the same projection the tracker and segmenter use) and then publishes each
 * to api-keys.v1. A crash between the two is healed by the key re-publisher, which publishes
 * every stored key again at boot (records are deterministic, so that is a no-op downstream).
 */
export class WorkspaceService {
  readonly workspaces: WorkspaceModel;
  readonly keys: ApiKeyModel;

  constructor(
    conn: Connection,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
  ) {
    this.workspaces = workspaceModel(conn);
    this.keys = apiKeyModel(conn);
  }

  async createWorkspace(name: string, keyName = 'default'): Promise<{ workspace: WorkspaceView; apiKey: IssuedKey }> {
    const doc = await this.workspaces.create({ _id: newId('ws'), name, createdAt: new Date() });
    const apiKey = await this.issueKey(doc._id, keyName);
    return { workspace: workspaceView(doc.toObject()), apiKey };
  }

  async getWorkspace(workspaceId: string): Promise<WorkspaceView> {
    const doc = await this.workspaces.findById(workspaceId).lean();
    if (!doc) throw new NotFoundError('workspace', workspaceId);
    return workspaceView(doc);
  }

  async issueKey(workspaceId: string, name: string): Promise<IssuedKey> {
    await this.getWorkspace(workspaceId);
    const { token, record } = issueApiKey({ workspaceId, name });
    await applyApiKeyRecord(this.keys, record);
    await this.publish(record);
    return { ...keyView({ _id: record.keyId, workspaceId, name, revokedAt: null, updatedAt: new Date(record.occurredAt) }), token };
  }

  async listKeys(workspaceId: string): Promise<ApiKeyView[]> {
    await this.getWorkspace(workspaceId);
    const docs = await this.keys.find({ workspaceId }, { keyHash: 0 }).sort({ _id: 1 }).lean();
    return docs.map(keyView);
  }

  /** Revoking twice is fine: the second answers the key as it is. */
  async revokeKey(workspaceId: string, keyId: string): Promise<ApiKeyView> {
    const doc = await findOwned<ApiKeyDoc>(this.keys, workspaceId, keyId);
    if (!doc) throw new NotFoundError('api key', keyId);
    if (doc.revokedAt) return keyView(doc);
    const record = revokeApiKeyRecord({ workspaceId, keyId, keyHash: doc.keyHash, name: doc.name });
    await applyApiKeyRecord(this.keys, record);
    await this.publish(record);
    return keyView({ ...doc, revokedAt: new Date(record.revokedAt!), updatedAt: new Date(record.occurredAt) });
  }

  /** Publishes every stored key again (boot-time healing of a crash between store and publish). */
  async republishAll(): Promise<number> {
    let n = 0;
    let batch: ApiKeyRecord[] = [];
    for await (const doc of this.keys.find().sort({ _id: 1 }).lean().cursor()) {
      batch.push(recordOfStoredKey(doc as ApiKeyDoc));
      if (batch.length >= 500) {
        await this.publishMany(batch);
        n += batch.length;
        batch = [];
      }
    }
    await this.publishMany(batch);
    return n + batch.length;
  }

  private async publish(record: ApiKeyRecord): Promise<void> {
    try {
      await this.publishMany([record]);
    } catch (err) {
      // Stored already; the next boot's re-publish delivers it. The caller still gets its key.
      this.logger.error({ err, keyId: record.keyId }, 'api key stored but not yet published');
    }
  }

  private async publishMany(records: ApiKeyRecord[]): Promise<void> {
    await this.publisher.publish(
      Topics.apiKeys,
      records.map((r) => ({ key: r.keyId, value: r })),
    );
  }
}
