import { z } from 'zod';
import { EntityId } from './envelope';

/**
 * api-keys.v1 (compacted, keyed by keyId): the sender owns workspaces and keys and publishes
 * every key here; the tracker and the segmenter project it, so all three authenticate the
 * same workspace keys without calling each other. Only the SHA-256 of a key ever leaves the
 * sender; revocation is a new record with revokedAt set.
 */
export const ApiKeyRecord = z.object({
  id: z.uuid(),
  type: z.literal('api_key.upserted'),
  schemaVersion: z.literal(1),
  occurredAt: z.iso.datetime({ offset: true }),
  workspaceId: EntityId,
  keyId: EntityId,
  keyHash: z.string().regex(/^[a-f0-9]{64}$/, 'expected a hex SHA-256'),
  name: z.string().max(100),
  revokedAt: z.iso.datetime({ offset: true }).nullable(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;
