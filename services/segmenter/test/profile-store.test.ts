import type { Connection } from 'mongoose';
import { connectMongo } from '@payam/mongo';
import { createLogger } from '@payam/observability';
import { stack, uniqueName } from '@payam/testkit';
import { KeyedLock } from '../src/profiles/keyed-lock';
import { emptyProfile, profileId } from '../src/profiles/profile';
import { profileJournalModel, profileModel, ProfileStore, toDoc } from '../src/profiles/store';

const logger = createLogger({ service: 'profile-store-test', level: 'warn' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedLock', () => {
  test('runs sharing a key never overlap and keep their order; disjoint runs overlap', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string, keys: string[], ms: number) =>
      lock.run(keys, async () => {
        log.push(`${name}+`);
        await sleep(ms);
        log.push(`${name}-`);
      });
    await Promise.all([job('a', ['x', 'y'], 30), job('b', ['y'], 5), job('c', ['z'], 5), job('d', ['x', 'z'], 5)]);
    // b waits for a (y); c runs beside a; d waits for a (x) and c (z).
    expect(log.indexOf('b+')).toBeGreaterThan(log.indexOf('a-'));
    expect(log.indexOf('c+')).toBeLessThan(log.indexOf('a-'));
    expect(log.indexOf('d+')).toBeGreaterThan(log.indexOf('a-'));
    expect(log.indexOf('d+')).toBeGreaterThan(log.indexOf('c-'));
    expect(lock.size).toBe(0);
  });

  test('a failing run releases its keys', async () => {
    const lock = new KeyedLock();
    await expect(lock.run(['k'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run(['k'], async () => 'next')).resolves.toBe('next');
  });
});

describe('ProfileStore on the real database', () => {
  let conn: Connection;
  const ws = uniqueName('ws_store');

  beforeAll(async () => {
    conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('segstore'), logger });
  });
  afterAll(async () => {
    await conn.dropDatabase();
    await conn.close();
  });

  test('writes through: a saved profile is read back with its revision, from memory and from the database', async () => {
    const store = ProfileStore.on(conn);
    const p = emptyProfile(ws, 'c1');
    p.known = true;
    p.attrs = { plan: 'pro' };
    expect(await store.save([p])).toEqual([]);
    expect(p.rev).toBe(1);
    p.attrs = { plan: 'team' };
    expect(await store.save([p])).toEqual([]);
    expect(p.rev).toBe(2);
    const cached = (await store.load([{ ws, cid: 'c1' }])).get(profileId(ws, 'c1'))!;
    const stored = (await store.load([{ ws, cid: 'c1' }], true)).get(profileId(ws, 'c1'))!;
    for (const got of [cached, stored])
      expect({ rev: got.rev, attrs: got.attrs, known: got.known }).toEqual({ rev: 2, attrs: { plan: 'team' }, known: true });
  });

  test("a caller's own copies are used on a cache miss, except for profiles written since it read them", async () => {
    const store = ProfileStore.on(conn);
    const [a, b] = [emptyProfile(ws, 'seed-a'), emptyProfile(ws, 'seed-b')];
    a.attrs = { v: 'stored' };
    b.attrs = { v: 'stored' };
    await store.save([a, b]);
    const written = store.trackWrites();
    // What a recompute's cursor read: copies that say "copy", so the test sees which was used.
    const copies = new Map([a, b].map((p) => [profileId(ws, p.cid), toDoc({ ...p, attrs: { v: 'copy' } }, p.rev)]));
    b.attrs = { v: 'written after the copy' };
    await store.save([b]);
    store.forget(); // a cache miss for both, as after an eviction
    const got = await store.load([a, b].map((p) => ({ ws, cid: p.cid })), false, { docs: copies, written });
    written.stop();
    expect(got.get(profileId(ws, 'seed-a'))!.attrs).toEqual({ v: 'copy' });
    expect(got.get(profileId(ws, 'seed-b'))!.attrs).toEqual({ v: 'written after the copy' });
    expect(got.get(profileId(ws, 'seed-b'))!.rev).toBe(2);
  });

  test('a profile another process created meanwhile comes back as a conflict, and the fresh read sees it', async () => {
    const mine = ProfileStore.on(conn);
    const theirs = ProfileStore.on(conn);
    const before = (await mine.load([{ ws, cid: 'c2' }])).get(profileId(ws, 'c2'))!;
    expect(before.rev).toBe(0);
    const other = emptyProfile(ws, 'c2');
    other.attrs = { by: 'theirs' };
    expect(await theirs.save([other])).toEqual([]);
    before.attrs = { by: 'mine' };
    expect(await mine.save([before, emptyProfile(ws, 'c3')])).toEqual([profileId(ws, 'c2')]);
    const reread = (await mine.load([{ ws, cid: 'c2' }], true)).get(profileId(ws, 'c2'))!;
    expect(reread.attrs).toEqual({ by: 'theirs' });
    expect((await mine.load([{ ws, cid: 'c3' }], true)).get(profileId(ws, 'c3'))!.rev).toBe(1);
  });

  test('many replaces go as one journalled delete + insert; a crash between them is restored from the journal', async () => {
    const store = ProfileStore.on(conn);
    const many = Array.from({ length: 40 }, (_, i) => emptyProfile(ws, `bulk-${i}`));
    await store.save(many);
    for (const p of many) p.attrs = { round: 2 };
    expect(await store.save(many)).toEqual([]);
    const back = await ProfileStore.on(conn).load(
      many.map((p) => ({ ws, cid: p.cid })),
      true,
    );
    expect([...back.values()].map((p) => [p.rev, p.attrs])).toEqual(many.map(() => [2, { round: 2 }]));
    expect(await profileJournalModel(conn).countDocuments({})).toBe(0);

    // The crash: journal written, old versions deleted, new ones not inserted yet.
    const crashed = emptyProfile(ws, 'bulk-0');
    crashed.attrs = { round: 3 };
    const doc = toDoc({ ...crashed, rev: 2 }, 3);
    await profileJournalModel(conn).collection.insertOne({ _id: doc._id, doc } as never);
    await profileModel(conn).deleteOne({ _id: doc._id });
    const restored = (await ProfileStore.on(conn).load([{ ws, cid: 'bulk-0' }])).get(doc._id)!;
    expect([restored.rev, restored.attrs]).toEqual([3, { round: 3 }]);
    expect(await profileModel(conn).exists({ _id: doc._id })).not.toBeNull();
    expect(await profileJournalModel(conn).countDocuments({})).toBe(0);
  });

  test('after forget() (a rebalance) a profile is read again from the database', async () => {
    const store = ProfileStore.on(conn);
    const p = emptyProfile(ws, 'moved');
    await store.save([p]);
    // Another process wrote it while this one did not hold its partition.
    const elsewhere = toDoc({ ...p, attrs: { by: 'other owner' } }, 5);
    await profileModel(conn).replaceOne({ _id: elsewhere._id }, elsewhere);
    expect((await store.load([{ ws, cid: 'moved' }])).get(elsewhere._id)!.rev).toBe(1);
    store.forget();
    const now = (await store.load([{ ws, cid: 'moved' }])).get(elsewhere._id)!;
    expect([now.rev, now.attrs]).toEqual([5, { by: 'other owner' }]);
  });

  test('delete removes the profile from memory and the database', async () => {
    const store = ProfileStore.on(conn);
    const p = emptyProfile(ws, 'c4');
    await store.save([p]);
    await store.delete(p);
    expect((await store.load([{ ws, cid: 'c4' }])).get(profileId(ws, 'c4'))!.rev).toBe(0);
    expect(await profileModel(conn).exists({ _id: profileId(ws, 'c4') })).toBeNull();
  });
});
