import type { ApiKeyResolver, Principal } from '@payam/http';
import type { ApiKeyModel } from './model';
import { hashApiKey, parseApiKeyToken } from './token';

export interface ApiKeyResolverOptions {
  /**
   * How long an answer is reused. A revocation therefore takes effect within this time (plus
   * the time the api-keys.v1 record takes to reach this service's projection). Default 5 s.
   */
  cacheTtlMs?: number;
  /** Bound on cached answers, so a flood of random keys cannot grow memory without limit. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  expiresAt: number;
  principal: Promise<Principal | null>;
}

/**
 * Resolves a presented key to its workspace: looks the hash up in api_keys and refuses revoked
 * keys. Both hits and misses are cached for the TTL (a client retrying a wrong key does not hit
 * the database each time); concurrent requests with one key share a single lookup.
 */
export function createApiKeyResolver(model: ApiKeyModel, opts: ApiKeyResolverOptions = {}): ApiKeyResolver {
  const ttl = opts.cacheTtlMs ?? 5_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  // Keyed by hash, so plaintext keys are not kept in memory longer than the request.
  const cache = new Map<string, Entry>();

  async function lookup(keyId: string, keyHash: string): Promise<Principal | null> {
    const doc = await model.findOne({ keyHash }, { workspaceId: 1, revokedAt: 1 }).lean();
    if (!doc || doc._id !== keyId || doc.revokedAt !== null) return null;
    return { workspaceId: doc.workspaceId, keyId: doc._id };
  }

  return {
    resolve(token: string): Promise<Principal | null> {
      const keyId = parseApiKeyToken(token);
      if (keyId === null) return Promise.resolve(null);
      const keyHash = hashApiKey(token);
      const t = now();
      const cached = cache.get(keyHash);
      if (cached && cached.expiresAt > t) return cached.principal;
      cache.delete(keyHash);
      if (cache.size >= maxEntries) {
        // Map keeps insertion order: drop the oldest entry.
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      const principal = lookup(keyId, keyHash);
      cache.set(keyHash, { expiresAt: t + ttl, principal });
      // A failed lookup (database down) must not be remembered as an answer.
      principal.catch(() => {
        if (cache.get(keyHash)?.principal === principal) cache.delete(keyHash);
      });
      return principal;
    },
  };
}
