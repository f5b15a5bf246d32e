import { Schema, type Connection, type Model } from 'mongoose';
import { stack, uniqueName } from '@payam/testkit';
import { connectMongo, findByIds, idReadPlan } from '../src';

interface Doc {
  _id: string;
  workspaceId: string;
  n: number;
}

const silent = { info: () => undefined, error: () => undefined };
const id = (i: number) => `d${String(i).padStart(5, '0')}`;

describe('findByIds against the real MongoDB-protocol server', () => {
  let conn: Connection;
  let Docs: Model<Doc>;
  let ferret: boolean;
  beforeAll(async () => {
    conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_byids'), logger: silent });
    Docs = conn.model<Doc>('ByIdDoc', new Schema<Doc>({ _id: String, workspaceId: String, n: Number }, { versionKey: false }));
    const all = Array.from({ length: 2000 }, (_, i) => ({ _id: id(i), workspaceId: 'ws_a', n: i }));
    for (let i = 0; i < all.length; i += 500) await Docs.collection.insertMany(all.slice(i, i + 500) as never[]);
    ferret = 'ferretdbVersion' in (await conn.db!.admin().command({ buildInfo: 1 }));
  });
  afterAll(async () => {
    await conn.dropDatabase();
    await conn.close();
  });

  test.each([
    // 50 ids among 2,000 documents: lookups on FerretDB (a `$in` would decode all 2,000).
    ['few ids in a large collection', 50, 'lookups'],
    // 500 ids among 2,000: the `$in` reads fewer documents than 500 lookups cost.
    ['many ids for the collection', 500, 'in'],
  ] as const)('%s: reads each present id once, leaves out missing ones, applies the projection', async (_, count, ferretPlan) => {
    expect(await idReadPlan(Docs, count)).toBe(ferret ? ferretPlan : 'in');
    const wanted = Array.from({ length: count }, (_, k) => id(k * 3));
    // Duplicates and ids that do not exist ride along.
    const asked = [...wanted, wanted[0]!, wanted[1]!, 'd_missing_1', 'd_missing_2'];
    const got = await findByIds(Docs, asked, { n: 1 });
    const present = wanted.filter((w) => Number(w.slice(1)) < 2000);
    expect(got.map((d) => d._id).sort()).toEqual(present.sort());
    expect(got.find((d) => d._id === id(3))).toEqual({ _id: id(3), n: 3 });
  });

  test('no ids reads nothing; a collection that does not exist yet reads as empty', async () => {
    expect(await findByIds(Docs, [])).toEqual([]);
    const Absent = conn.model<Doc>('ByIdAbsent', new Schema<Doc>({ _id: String, workspaceId: String, n: Number }, { versionKey: false }));
    expect(await idReadPlan(Absent, 10)).toBe('in');
    expect(await findByIds(Absent, ['x1', 'x2'])).toEqual([]);
  });
});

describe('idReadPlan when the server cannot be asked', () => {
  // A stand-in connection (unit scope: only what idReadPlan calls), whose first buildInfo fails.
  function flakyConnection() {
    const buildInfo = jest.fn().mockRejectedValueOnce(new Error('connection reset')).mockResolvedValue({ version: '7.0.42', ferretdbVersion: 'v1.24.0' });
    const db = { admin: () => ({ command: buildInfo }), command: async () => ({ count: 50_000 }) };
    const model = { db: { db } as unknown as Connection, collection: { collectionName: 'suppressions' } } as unknown as Pick<Model<unknown>, 'db' | 'collection'>;
    return { model, buildInfo };
  }

  it('reads by $in while buildInfo fails, and asks again on the next read', async () => {
    const { model, buildInfo } = flakyConnection();
    expect(await idReadPlan(model, 200)).toBe('in');
    expect(await idReadPlan(model, 200)).toBe('lookups');
    expect(await idReadPlan(model, 200)).toBe('lookups');
    // Asked twice: once failing, once answered and then believed.
    expect(buildInfo).toHaveBeenCalledTimes(2);
  });
});
