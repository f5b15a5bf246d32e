import type { Model } from 'mongoose';
import { z } from 'zod';
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
    if (typeof parsed.a === 'string' && /^[A-Za-z0-9_:-]{1,200}$/.test(parsed.a)) return parsed.a;
  } catch {
    // fall through
  }
  throw new InvalidInputError([{ path: 'query.cursor', message: 'not a cursor this API gave out' }]);
}

/** `?limit=&cursor=` of the workspace collections that page by id (lists, templates, layouts, partials, imports). */
export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The previous page's nextCursor. */
  cursor: z.string().max(400).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

export interface Page<T> {
  items: T[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/**
 * One page of `filter`'s documents in `_id` order (1 ascending, -1 newest first for ids that
 * sort by creation time). One more document than asked is read, so the last page says it is.
 */
export async function pageById<T extends { _id: string }>(
  model: Model<T>,
  filter: Record<string, unknown>,
  q: { limit: number; cursor?: string },
  order: 1 | -1,
): Promise<Page<T>> {
  const query: Record<string, unknown> = { ...filter };
  if (q.cursor !== undefined) query._id = { [order === 1 ? '$gt' : '$lt']: decodeIdCursor(q.cursor) };
  const docs = (await model.find(query).sort({ _id: order }).limit(q.limit + 1).lean()) as unknown as T[];
  const more = docs.length > q.limit;
  const items = more ? docs.slice(0, q.limit) : docs;
  return { items, nextCursor: more ? encodeIdCursor(items[items.length - 1]!._id) : null };
}

export function mapPage<T, U>(page: Page<T>, view: (item: T) => U): Page<U> {
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}
