import { Schema, type Connection, type Model } from 'mongoose';
import { stack, uniqueName } from '@payam/testkit';
import { connectMongo, ensureIndexes, findOwned, isDuplicateKeyError, pingMongo } from '../src';

interface OwnedDoc {
  _id: string;
  workspaceId: string;
  name: string;
}

const silent = { info: () => undefined, error: () => undefined };

describe('mongo helper against the real MongoDB-protocol server', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_mongo'), logger: silent });
  });
  afterAll(async () => {
    await conn.dropDatabase();
    await conn.close();
  });

  test.each([
    ['its own workspace', 'ws_a', 'owned-1', { _id: 'owned-1', workspaceId: 'ws_a', name: 'first' }],
    ["another workspace's key", 'ws_b', 'owned-1', null],
    ['an id that does not exist', 'ws_a', 'owned-none', null],
  ])('findOwned: a document read by %s', async (_, workspaceId, id, expected) => {
    const Owned = (conn.models.Owned as Model<OwnedDoc> | undefined) ?? conn.model<OwnedDoc>('Owned', new Schema<OwnedDoc>({ _id: String, workspaceId: String, name: String }, { versionKey: false }));
    await Owned.updateOne({ _id: 'owned-1' }, { $set: { workspaceId: 'ws_a', name: 'first' } }, { upsert: true });
    expect(await findOwned(Owned, workspaceId, id)).toEqual(expected);
  });

  test('a close() it was asked for logs no error; it says the connection closed', async () => {
    const said: Array<[level: string, msg: string | undefined]> = [];
    const logger = { info: (_: object, msg?: string) => said.push(['info', msg]), error: (_: object, msg?: string) => said.push(['error', msg]) };
    const own = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_mongo_close'), logger });
    await own.close();
    await new Promise((r) => setImmediate(r));
    expect(said).toEqual([
      ['info', 'mongodb connected'],
      ['info', 'mongodb connection closed'],
    ]);
  });

  test('answers a ping', async () => {
    await expect(pingMongo(conn)).resolves.toBeUndefined();
  });

  test('writes a mongoose document and reads it back; a unique index rejects a duplicate', async () => {
    const Person = conn.model(
      'Person',
      new Schema({ workspaceId: String, email: String, attrs: Schema.Types.Mixed, at: Date }).index({ workspaceId: 1, email: 1 }, { unique: true }),
    );
    await ensureIndexes(conn);
    const at = new Date('2026-11-22T10:00:00Z');
    const created = await Person.create({ workspaceId: 'w1', email: 'a@example.com', attrs: { tier: 'gold', n: 3 }, at });
    const read = await Person.findById(created._id).lean();
    expect(read).toMatchObject({ workspaceId: 'w1', email: 'a@example.com', attrs: { tier: 'gold', n: 3 }, at });

    const dup = await Person.create({ workspaceId: 'w1', email: 'a@example.com' }).catch((e: unknown) => e);
    expect(isDuplicateKeyError(dup)).toBe(true);
    // Same email in another workspace is a different contact.
    await expect(Person.create({ workspaceId: 'w2', email: 'a@example.com' })).resolves.toBeDefined();
    expect(await Person.countDocuments({ email: 'a@example.com' })).toBe(2);
  });

  test('ensureIndexes is idempotent', async () => {
    await ensureIndexes(conn);
    await ensureIndexes(conn);
    const indexes = await conn.collection('people').indexes();
    expect(indexes.some((i) => i.unique && i.key.workspaceId === 1 && i.key.email === 1)).toBe(true);
  });
});
