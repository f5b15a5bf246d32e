import { applyUpdates, UPDATES_PER_COMMAND, type BulkWritable } from '../src/stats/increments';

/** A collection that records the size of every command it gets. */
function fakeCollection(sizes: number[], ids: string[]): BulkWritable {
  return {
    bulkWrite: async (ops) => {
      sizes.push(ops.length);
      for (const op of ops) ids.push(String((op as unknown as { updateOne: { filter: { _id: string } } }).updateOne.filter._id));
    },
  };
}

test('every document update is written, in commands of at most UPDATES_PER_COMMAND, never mixing collections', async () => {
  const [aSizes, aIds, bSizes, bIds]: [number[], string[], number[], string[]] = [[], [], [], []];
  const a = fakeCollection(aSizes, aIds);
  const b = fakeCollection(bSizes, bIds);
  const updates = [
    ...Array.from({ length: 3 * UPDATES_PER_COMMAND + 1 }, (_, i) => ({ coll: a, _id: `a${i}`, update: { $inc: { n: 1 } } })),
    ...Array.from({ length: 5 }, (_, i) => ({ coll: b, _id: `b${i}`, update: { $inc: { n: 1 } } })),
  ];
  await applyUpdates(updates);
  expect(aSizes.every((n) => n <= UPDATES_PER_COMMAND)).toBe(true);
  expect(aIds.sort()).toEqual(updates.filter((u) => u.coll === a).map((u) => u._id).sort());
  expect(bSizes).toEqual([5]);
});

test('a failed command rejects the whole call (the consumer then retries the batch)', async () => {
  const failing: BulkWritable = { bulkWrite: async () => Promise.reject(new Error('connection timed out')) };
  await expect(applyUpdates([{ coll: failing, _id: 'x', update: {} }])).rejects.toThrow('connection timed out');
});
