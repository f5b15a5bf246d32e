// The local stack's FerretDB answers `_id` lookups from an index (infra/local/ferretdb/id_index.py):
// a FerretDB started by stack.sh comes with the indexer, every collection created later gets the
// index within a pass, a dropped database is not brought back, `…_unindexed` databases are left
// alone, and stop ends both processes. Run on its own port and a throwaway state folder (the
// FerretDB binary is the shared, already built one), so the test run's stack is untouched.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient, ObjectId, type Document } from 'mongodb';

const run = promisify(execFile);
const script = path.join(__dirname, '..', '..', 'infra', 'local', 'stack.sh');
const port = 27_117;
const state = mkdtempSync(path.join(tmpdir(), 'payam-ferretdb-'));
const env: NodeJS.ProcessEnv = { ...process.env, PAYAM_STATE: state, PAYAM_FERRETDB_PORT: String(port) };
delete env.MONGODB_URI;
let client: MongoClient;

const pid = (name: string) => Number(readFileSync(path.join(state, 'pids', `${name}.pid`), 'utf8'));
const alive = (p: number) => {
  try {
    process.kill(p, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * SQLite's plan for find(filter), as FerretDB's explain reports it. An EXPLAIN does not check the
 * schema version, so a FerretDB connection that has only read since the index appeared explains
 * the old plan (its queries do check, and use the index): a write first makes it read the schema.
 */
async function plan(db: string, filter: Document): Promise<string> {
  const docs = client.db(db).collection<Document>('docs');
  await docs.insertOne({ probe: true });
  await docs.deleteMany({ probe: true });
  const explained = await docs.find(filter).explain();
  return JSON.stringify((explained as { queryPlanner?: unknown }).queryPlanner ?? explained);
}

/** The lookup indexes in a database file, read by SQLite itself (python3's sqlite3, as the indexer). */
async function lookupIndexes(db: string): Promise<string[]> {
  const file = path.join(state, 'ferretdb', 'data', `${db}.sqlite`);
  const { stdout } = await run('python3', [
    '-c',
    'import sqlite3,sys; c=sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True); print("\\n".join(r[0] for r in c.execute("select sql from sqlite_master where name like \'%__payam_id_lookup\'")))',
    file,
  ]);
  return stdout.split('\n').filter(Boolean);
}

async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await run('bash', [script, 'start', 'ferretdb'], { env });
  client = await MongoClient.connect(`mongodb://127.0.0.1:${port}/`);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await run('bash', [script, 'stop'], { env });
}, 60_000);

test.each([
  ['a string _id', 'text_ids', (i: number) => `doc-${i}`],
  ['an ObjectId _id', 'object_ids', (i: number) => new ObjectId(i.toString(16).padStart(24, '0'))],
])('a collection created after start answers a find by %s from the lookup index', async (_, db, id) => {
  const docs = client.db(db).collection<{ _id: string | ObjectId; n: number }>('docs');
  await docs.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: id(i), n: i })));
  await eventually(async () => (await lookupIndexes(db)).length === 1);
  // On exactly the expression FerretDB filters by.
  expect(await lookupIndexes(db)).toEqual([expect.stringMatching(/ON "docs_\w+" \(_ferretdb_sjson->'\$\._id'\)$/)]);
  expect(await plan(db, { _id: id(7) })).toMatch(/SEARCH \S+ USING INDEX \S+__payam_id_lookup/);
  // The index changes how rows are found, never which: the same documents come back.
  expect(await docs.findOne({ _id: id(7) })).toEqual({ _id: id(7), n: 7 });
  await docs.replaceOne({ _id: id(8) }, { n: 80 });
  await docs.deleteOne({ _id: id(9) });
  expect(await docs.find({}, { sort: { n: 1 } }).toArray()).toHaveLength(49);
  expect(await docs.findOne({ _id: id(8) })).toEqual({ _id: id(8), n: 80 });
  // FerretDB's own index list is unchanged: the lookup index is invisible to clients.
  expect((await docs.indexes()).map((i) => i.name)).toEqual(['_id_']);
});

test('a database named …_unindexed keeps FerretDB’s scan (what bench:store compares against)', async () => {
  await client.db('plain_unindexed').collection('docs').insertMany([{ _id: 'a' as never }, { _id: 'b' as never }]);
  await new Promise((r) => setTimeout(r, 1_000)); // five passes of the indexer
  expect(await lookupIndexes('plain_unindexed')).toEqual([]);
  expect(await plan('plain_unindexed', { _id: 'a' })).toMatch(/SCAN/);
});

test('a dropped database is not created again by the indexer', async () => {
  const file = path.join(state, 'ferretdb', 'data', 'dropped_db.sqlite');
  await client.db('dropped_db').collection('docs').insertOne({ n: 1 });
  await eventually(async () => (await lookupIndexes('dropped_db')).length === 1);
  await client.db('dropped_db').dropDatabase();
  await new Promise((r) => setTimeout(r, 1_000));
  expect(existsSync(file)).toBe(false);
});

test('stop ends FerretDB and its indexer', async () => {
  const ferretdb = pid('ferretdb');
  const indexer = pid('ferretdb-index');
  expect(alive(indexer)).toBe(true);
  await client.close();
  await run('bash', [script, 'stop', 'ferretdb'], { env });
  expect(alive(ferretdb)).toBe(false);
  expect(alive(indexer)).toBe(false);
  expect(existsSync(path.join(state, 'pids', 'ferretdb-index.pid'))).toBe(false);
});
