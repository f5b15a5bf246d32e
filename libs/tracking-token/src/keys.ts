export interface TrackingKey {
  /** Short id carried in every token, naming the key that signed it. */
  id: string;
  /** Base64 (standard or URL alphabet) of at least MIN_SECRET_BYTES random bytes. */
  secret: string;
}

/** 256 bits: HMAC-SHA256's block-level security needs no more, and anything less is weaker than the hash. */
export const MIN_SECRET_BYTES = 32;
export const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Decodes a key's secret, or throws naming the key id (never the secret). */
export function decodeSecret(key: TrackingKey): Buffer {
  const text = key.secret.trim();
  if (!BASE64.test(text)) throw new Error(`tracking key ${key.id}: secret is not base64`);
  const bytes = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new Error(`tracking key ${key.id}: secret has ${bytes.length} bytes, expected at least ${MIN_SECRET_BYTES}`);
  }
  return bytes;
}

/**
 * Parses TRACKING_KEYS, "k2:<base64 secret>,k1:<base64 older secret>": the first key signs,
 * every key listed verifies. Rotation: append the new key everywhere (it is now accepted), then
 * move it to the front (it now signs). Remove an old key only when the links in old messages
 * may stop working: an unsubscribe link must keep working long after its message was sent.
 */
export function parseTrackingKeys(spec: string): TrackingKey[] {
  const keys: TrackingKey[] = [];
  for (const entry of spec
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`tracking keys: expected "id:secret" entries separated by commas`);
    const key = { id: entry.slice(0, colon).trim(), secret: entry.slice(colon + 1).trim() };
    if (!KEY_ID.test(key.id)) throw new Error(`tracking keys: key id "${key.id}" must be 1-16 letters, digits, "_" or "-"`);
    if (keys.some((k) => k.id === key.id)) throw new Error(`tracking keys: key id ${key.id} appears twice`);
    decodeSecret(key);
    keys.push(key);
  }
  if (keys.length === 0) throw new Error('tracking keys: no key given');
  return keys;
}

/**
 * The one development key both the sender (signs) and the tracker (verifies) fall back to
 * outside production when TRACKING_KEYS is unset, so `npm run up` works with no environment.
 * Public by nature: both services refuse to start in production without TRACKING_KEYS.
 */
export const DEV_TRACKING_KEYS = 'dev:ZGV2LW9ubHktdHJhY2tpbmcta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiEhIQ';
