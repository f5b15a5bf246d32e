import { createHash, randomBytes } from 'node:crypto';

/**
 * `pk_<keyId>_<secret>`: the key id is plain hex (no "_"), the secret 32 random bytes as 43
 * base64url characters. The prefix makes a leaked key easy to recognise (secret scanners, logs),
 * and the id lets us name the key in logs without ever logging the secret.
 */
const TOKEN = /^pk_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  keyId: string;
  /** Shown to the user once; only its hash is stored or published. */
  token: string;
}

export function generateApiKey(): GeneratedApiKey {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, token: `pk_${keyId}_${secret}` };
}

/**
 * Hex SHA-256 of the whole token. A fast unsalted hash is right here, unlike for passwords:
 * the token carries 256 random bits, so there is no dictionary to try and brute force is out
 * of reach, and a slow hash would only cost CPU on every authenticated request. Being
 * deterministic, it is also what lets us look a key up by its hash.
 */
export function hashApiKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The key id of a well-formed token, or null; lets garbage be refused without a database read. */
export function parseApiKeyToken(token: string): string | null {
  return TOKEN.exec(token)?.[1] ?? null;
}
