import type { Connection } from 'mongoose';
import { connectMongo } from '@payam/mongo';
import { createLogger } from '@payam/observability';
import { stack, uniqueName, waitFor } from '@payam/testkit';
import { loadSenderConfig } from '../src/config';
import { contactChangeModel, latestChanges, pruneContactChanges, type ContactChangeDoc } from '../src/contacts/changes';
import { contactChangesPruner } from '../src/contacts/changes-pruner';
import type { SenderContext } from '../src/context';

// The contact change log is read by every batch of send jobs; pruning keeps it to the entries a
// job still waiting in Kafka can need (contacts/changes.ts).
const DAY = 24 * 3600 * 1000;
const logger = createLogger({ service: 'test', level: 'silent' });
let conn: Connection;

beforeAll(async () => {
  conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_changes_pruner'), logger });
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

/** One entry per [contact, version, age]; returns the workspace they belong to. */
async function seed(rows: Array<[string, number, number]>): Promise<string> {
  const ws = uniqueName('ws');
  const now = Date.now();
  const docs: ContactChangeDoc[] = rows.map(([contactId, version, age]) => ({
    _id: `${ws}:${contactId}:${version}`,
    workspaceId: ws,
    contactId,
    version,
    email: `${contactId}@x.example.com`,
    status: 'unsubscribed',
    erased: false,
    at: new Date(now - age),
  }));
  await contactChangeModel(conn).collection.insertMany(docs as never[]);
  return ws;
}

// [what, entries [contact, version, age], retention, deleted, newest version left per contact]
test.each([
  ['entries past the retention go, younger ones stay', [['a', 2, 9 * DAY], ['a', 3, DAY], ['b', 2, 30 * DAY], ['c', 2, 0]], 8 * DAY, 2, { a: 3, c: 2 }],
  ['nothing is old enough: nothing goes', [['a', 2, DAY], ['b', 5, 7 * DAY]], 8 * DAY, 0, { a: 2, b: 5 }],
  ['one minute past the retention is past it', [['a', 2, 8 * DAY + 60_000]], 8 * DAY, 1, {}],
] as Array<[string, Array<[string, number, number]>, number, number, Record<string, number>]>)('%s', async (_what, rows, retention, deleted, left) => {
  const ws = await seed(rows);
  const model = contactChangeModel(conn);
  const before = await model.countDocuments({});
  expect(await pruneContactChanges(model, retention)).toBe(deleted);
  expect(await model.countDocuments({})).toBe(before - deleted);
  const latest = await latestChanges(model, ws, [...new Set(rows.map(([c]) => c))]);
  expect(Object.fromEntries([...latest].map(([c, d]) => [c, d.version]))).toEqual(left);
  expect(await pruneContactChanges(model, retention)).toBe(0);
});

test('the component prunes on its interval and stops cleanly', async () => {
  const ws = await seed([['old', 2, 10 * DAY], ['young', 2, 0]]);
  const config = loadSenderConfig({ SENDER_CONTACT_CHANGES_RETENTION: '8d', SENDER_CONTACT_CHANGES_PRUNE_EVERY: '50ms' });
  const component = contactChangesPruner({ conn, config, logger } as unknown as SenderContext);
  await component.start();
  try {
    await waitFor(async () => ((await latestChanges(contactChangeModel(conn), ws, ['old'])).size === 0 ? true : undefined), { what: 'the old entry pruned' });
  } finally {
    await component.stop();
  }
  expect((await latestChanges(contactChangeModel(conn), ws, ['young'])).get('young')?.version).toBe(2);
});

test.each([
  ['SENDER_CONTACT_CHANGES_RETENTION', 'soon'],
  ['SENDER_CONTACT_CHANGES_PRUNE_EVERY', 'hourly'],
  // 0 would prune back to back, a full pass over the collection after another.
  ['SENDER_CONTACT_CHANGES_PRUNE_EVERY', '0'],
])('%s=%s is refused with the variable named', (name, value) => {
  expect(() => loadSenderConfig({ [name]: value })).toThrow(new RegExp(name));
});
