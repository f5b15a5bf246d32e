import { InvalidInputError } from '@payam/errors';

/**
 * Opaque page cursors over an `_id` order (contacts ascending, campaigns newest first): the last
 * id of a page, wrapped so that clients treat it as a token rather than build one.
 */
export function encodeIdCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ a: lastId }), 'utf8').toString('base64url');
}

/** The id inside a cursor encodeIdCursor gave out; anything else is a 400 on query.cursor. */
export function decodeIdCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    if (typeof parsed.a === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(parsed.a)) return parsed.a;
  } catch {
    // fall through
  }
  throw new InvalidInputError([{ path: 'query.cursor', message: 'not a cursor this API gave out' }]);
}
