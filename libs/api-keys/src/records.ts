import { randomUUID } from 'node:crypto';
import type { ApiKeyRecord } from '@payam/contracts';
import { generateApiKey, hashApiKey } from './token';

export interface IssuedApiKey {
  token: string;
  record: ApiKeyRecord;
}

/** A new key for a workspace and the api-keys.v1 record that announces it (for the sender). */
export function issueApiKey(input: { workspaceId: string; name: string; now?: Date }): IssuedApiKey {
  const { keyId, token } = generateApiKey();
  const record: ApiKeyRecord = {
    id: randomUUID(),
    type: 'api_key.upserted',
    schemaVersion: 1,
    occurredAt: (input.now ?? new Date()).toISOString(),
    workspaceId: input.workspaceId,
    keyId,
    keyHash: hashApiKey(token),
    name: input.name,
    revokedAt: null,
  };
  return { token, record };
}

/** The record that revokes a key: the same key with revokedAt set, newer than what it replaces. */
export function revokeApiKeyRecord(
  key: Pick<ApiKeyRecord, 'workspaceId' | 'keyId' | 'keyHash' | 'name'>,
  now: Date = new Date(),
): ApiKeyRecord {
  return {
    id: randomUUID(),
    type: 'api_key.upserted',
    schemaVersion: 1,
    occurredAt: now.toISOString(),
    workspaceId: key.workspaceId,
    keyId: key.keyId,
    keyHash: key.keyHash,
    name: key.name,
    revokedAt: now.toISOString(),
  };
}
