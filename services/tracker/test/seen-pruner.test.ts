import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { connectMongo } from '@payam/mongo';
import { createLogger } from '@payam/observability';
import { stack, uniqueName, waitFor } from '@payam/testkit';
import { pruneSeenEvents, startSeenPruner } from '../src/stats/seen-pruner';
import { statsCollections, type StatsCollections } from '../src/stats/store';
import { loadTrackerConfig } from '../src/config';

const DAY = 24 * 3600 * 1000;
const logger = createLogger({ service: 'tracker-test', level: 'silent' });
let conn: Connection;
let c: StatsCollections;

beforeAll(async () => {
  conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_seen_pruner'), logger });
  c = statsCollections(conn);
});
afterAll(async () => {
  await conn?.dropDatabase();
  await conn?.close();
});

async function seed(ages: number[]): Promise<string[]> {
  const now = Date.now();
  const docs = ages.map((age) => ({ _id: randomUUID(), at: new Date(now - age) }));
  await c.seen.insertMany(docs);
  return docs.map((d) => d._id);
}

test('ids older than the retention go, younger ones stay', async () => {
  const old = await seed([40 * DAY, 31 * DAY, 30 * DAY + 60_000]);
  const young = await seed([29 * DAY, DAY, 0]);
  expect(await pruneSeenEvents(c, 30 * DAY)).toBe(3);
  const left = (await c.seen.find({ _id: { $in: [...old, ...young] } }).toArray()).map((d) => d._id).sort();
  expect(left).toEqual([...young].sort());
  expect(await pruneSeenEvents(c, 30 * DAY)).toBe(0);
});

test('the background pruner runs on its interval and stops cleanly', async () => {
  const old = await seed([2 * DAY, 3 * DAY]);
  const young = await seed([0]);
  const pruner = startSeenPruner(c, { retentionMs: DAY, everyMs: 50, logger });
  try {
    await waitFor(async () => ((await c.seen.countDocuments({ _id: { $in: old } })) === 0 ? true : undefined), { what: 'the old ids pruned' });
  } finally {
    await pruner.stop();
  }
  expect(await c.seen.countDocuments({ _id: { $in: young } })).toBe(1);
});

test.each([
  ['STATS_SEEN_RETENTION', 'a month'],
  // 0 would prune back to back, a full pass over the collection after another.
  ['STATS_SEEN_PRUNE_EVERY', '0'],
])('%s=%s is refused with the variable named', (name, value) => {
  expect(() => loadTrackerConfig({ [name]: value })).toThrow(new RegExp(name));
});
