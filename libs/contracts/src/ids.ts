import { hash, randomUUID } from 'node:crypto';

/**
 * A UUID (version 8 layout, RFC 9562) derived from the given parts: the same parts always give
 * the same id. Used for events whose source may deliver twice (SNS retries, job redelivery),
 * so that every consumer's de-duplication on the envelope id makes the second copy a no-op.
 */
export function deterministicEventId(...parts: Array<string | number>): string {
  // crypto.hash (one shot) costs about half of createHash().update().digest() for a short input.
  const h = hash('sha256', parts.map(String).join('\u001f'), 'buffer');
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function randomEventId(): string {
  return randomUUID();
}
