import type { Connection, FilterQuery, Model, ProjectionType } from 'mongoose';

/**
 * On FerretDB, a collection more than this many times the number of ids is read by lookups of
 * one `_id` each rather than one `$in` (measured on the local stack, 200 ids: a `$in` 79 ms among
 * 1,000 documents and 3.6-3.8 s among 50,000; 200 lookups 0.2-0.26 s at either size).
 */
const SCAN_RATIO = 10;
/** How long a collection's size is believed (a collStats: ~0.1 s at 50,000 documents on FerretDB). */
const SIZE_TTL_MS = 60_000;
const LOOKUPS_IN_FLIGHT = 16;

interface ServerFacts {
  ferret: Promise<boolean>;
  sizes: Map<string, { at: number; count: Promise<number> }>;
}
const facts = new WeakMap<Connection, ServerFacts>();

function factsOf(conn: Connection): ServerFacts {
  let f = facts.get(conn);
  if (!f) {
    const ferret = conn.db!.admin().command({ buildInfo: 1 }).then(
      (info) => 'ferretdbVersion' in info,
      () => {
        // A failed buildInfo (a connection blip at start) says nothing about the server: this read
        // takes the `$in`, right on both, and the next one asks again.
        facts.delete(conn);
        return false;
      },
    );
    f = { ferret, sizes: new Map() };
    facts.set(conn, f);
  }
  return f;
}

function sizeOf(conn: Connection, f: ServerFacts, collection: string): Promise<number> {
  const hit = f.sizes.get(collection);
  if (hit && Date.now() - hit.at < SIZE_TTL_MS) return hit.count;
  // A collection that does not exist yet (or stats that fail) reads as empty: the `$in` is right then.
  const count = conn.db!.command({ collStats: collection }).then(
    (s) => Number(s.count ?? 0),
    () => 0,
  );
  f.sizes.set(collection, { at: Date.now(), count });
  return count;
}

/**
 * How findByIds reads `idCount` ids from this model's collection: one `$in`, or one lookup per id.
 * MongoDB answers a `$in` on `_id` from its index: always `in`. FerretDB v1 hands only an exact
 * `{_id}` to SQLite (README "Storage on FerretDB"); a `$in` decodes and matches every document
 * in Go, so there a collection much larger than the id list is read by lookups.
 */
export async function idReadPlan(model: Pick<Model<unknown>, 'db' | 'collection'>, idCount: number): Promise<'in' | 'lookups'> {
  const f = factsOf(model.db);
  if (!(await f.ferret)) return 'in';
  return (await sizeOf(model.db, f, model.collection.collectionName)) > idCount * SCAN_RATIO ? 'lookups' : 'in';
}

/**
 * The documents with these `_id`s (each once, in no particular order; missing ids are left out),
 * read the cheapest way the server allows (idReadPlan). For hot reads of a few hundred ids from
 * a collection that grows without bound: suppressions, contacts.
 */
export async function findByIds<T extends { _id: string }>(model: Model<T>, ids: string[], projection?: ProjectionType<T>): Promise<T[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  if ((await idReadPlan(model, unique.length)) === 'in') {
    return (await model.find({ _id: { $in: unique } } as FilterQuery<T>, projection).lean()) as unknown as T[];
  }
  const found: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(LOOKUPS_IN_FLIGHT, unique.length) }, async () => {
      while (next < unique.length) {
        const id = unique[next++]!;
        const doc = (await model.findOne({ _id: id } as FilterQuery<T>, projection).lean()) as unknown as T | null;
        if (doc !== null) found.push(doc);
      }
    }),
  );
  return found;
}
