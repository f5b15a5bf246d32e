import mongoose, { type Connection } from 'mongoose';

export interface MongoLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface MongoOptions {
  uri: string;
  /** Each service owns its own database (DESIGN.md); tests use a unique name per run. */
  dbName: string;
  logger: MongoLogger;
  appName?: string;
  maxPoolSize?: number;
}

/**
 * One connection per service. Indexes are created explicitly at boot by ensureIndexes (not by
 * mongoose's autoIndex, which would race with the first requests and hide failures).
 * retryWrites is off: FerretDB v1 does not implement retryable writes, and our writes are
 * idempotent upserts or guarded state transitions that are safe to retry at our level.
 */
export async function connectMongo(opts: MongoOptions): Promise<Connection> {
  const conn = mongoose.createConnection(opts.uri, {
    dbName: opts.dbName,
    appName: opts.appName,
    maxPoolSize: opts.maxPoolSize ?? 20,
    minPoolSize: 0,
    serverSelectionTimeoutMS: 5000,
    connectTimeoutMS: 5000,
    socketTimeoutMS: 60_000,
    retryWrites: false,
    autoIndex: false,
    autoCreate: true,
  });
  await conn.asPromise();
  opts.logger.info({ db: opts.dbName }, 'mongodb connected');
  // A close() we asked for (shutdown) is no outage: only an unasked disconnect is logged as an error.
  let closing = false;
  conn.on('disconnecting', () => {
    closing = true;
  });
  conn.on('disconnected', () => {
    if (closing) opts.logger.info({ db: opts.dbName }, 'mongodb connection closed');
    else opts.logger.error({ db: opts.dbName }, 'mongodb disconnected');
  });
  return conn;
}

/** Creates the declared indexes of every model on the connection (idempotent). */
export async function ensureIndexes(conn: Connection): Promise<void> {
  for (const model of Object.values(conn.models)) {
    await model.createCollection().catch((err: { codeName?: string }) => {
      if (err.codeName !== 'NamespaceExists') throw err;
    });
    await model.createIndexes();
  }
}

/** Readiness probe: the server answers a ping. */
export async function pingMongo(conn: Connection): Promise<void> {
  const db = conn.db;
  if (!db) throw new Error('mongodb connection not open');
  await db.admin().command({ ping: 1 });
}

export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}

/** Indexes of the documents an unordered insertMany skipped because they already existed; null for any other error. */
export function duplicateIndexes(err: unknown): Set<number> | null {
  const e = err as { writeErrors?: unknown; result?: { writeErrors?: unknown } } | null;
  const list = (e?.writeErrors ?? e?.result?.writeErrors) as Array<{ index: number; code?: number; err?: { code?: number } }> | undefined;
  const arr = Array.isArray(list) ? list : list ? [list] : [];
  if (arr.length === 0) return null;
  const out = new Set<number>();
  for (const w of arr) {
    if ((w.code ?? w.err?.code) !== 11000) return null;
    out.add(w.index);
  }
  return out;
}

/** What insertNew writes through: a mongoose model's `.collection` or a driver collection. */
export interface Inserter {
  insertMany(docs: never[], options: { ordered: boolean }): Promise<unknown>;
}

/**
 * insertMany, unordered, that tolerates documents already present (the idempotent, insert-only
 * writes every service relies on): returns the indexes this call inserted. Any other error is
 * rethrown.
 */
export async function insertNew<T>(collection: Inserter, docs: T[]): Promise<Set<number>> {
  const inserted = new Set(docs.map((_, i) => i));
  if (docs.length === 0) return inserted;
  try {
    await collection.insertMany(docs as never[], { ordered: false });
  } catch (err) {
    const dups = duplicateIndexes(err);
    if (!dups) throw err;
    for (const i of dups) inserted.delete(i);
  }
  return inserted;
}

/**
 * The document with this _id when it belongs to `workspaceId`, else null (so another workspace's
 * id reads as missing). It filters by _id alone and checks the owner in code: an exact {_id} is
 * the one filter FerretDB v1 pushes down to SQLite (indexed by the local stack: ~1 ms at any
 * size), while {_id, workspaceId} makes it decode and match the whole collection in Go (seconds
 * at 100,000 contacts). On MongoDB both are one index lookup.
 */
export async function findOwned<T extends { workspaceId: string }>(
  model: { findOne(filter: { _id: string }): { lean<R>(): PromiseLike<R | null> } },
  workspaceId: string,
  id: string,
): Promise<T | null> {
  const doc = await model.findOne({ _id: id }).lean<T>();
  return doc !== null && doc.workspaceId === workspaceId ? doc : null;
}

export { startPruner, type Pruner, type PrunerLogger } from './pruner';
export { findByIds, idReadPlan } from './by-ids';
