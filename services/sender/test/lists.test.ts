import { buildSender } from '../src/app';
import { readTopic, waitFor } from '@payam/testkit';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';

let h: SenderHarness;
let a: TestWorkspace;
let b: TestWorkspace;

beforeAll(async () => {
  h = await startSender({ dbPrefix: 'payam_test_sender_lists', only: [] });
  a = await h.createWorkspace('A');
  b = await h.createWorkspace('B');
});
afterAll(async () => {
  await h?.close();
});

async function contact(ws: TestWorkspace, email: string, status = 'subscribed'): Promise<string> {
  const res = await h.as(ws.token).post('/contacts').send({ email, status });
  expect(res.status).toBe(201);
  return res.body.contactId;
}

test('create, rename, add and remove members by id and email, counts, delete', async () => {
  const created = await h.as(a.token).post('/lists').send({ name: 'Newsletter' });
  expect(created.status).toBe(201);
  const listId = created.body.listId as string;
  expect((await h.as(a.token).patch(`/lists/${listId}`).send({ name: 'Weekly' })).body.name).toBe('Weekly');

  const c1 = await contact(a, 'l1@example.com');
  const c2 = await contact(a, 'l2@example.com', 'unsubscribed');
  await contact(a, 'l3@example.com');
  const added = await h.as(a.token).post(`/lists/${listId}/members`).send({ contactIds: [c1, c2], emails: ['L3@example.com', 'ghost@example.com'] });
  expect(added.status).toBe(200);
  expect(added.body).toMatchObject({ matched: 3, changed: 3, unknown: 1 });
  // Adding again changes nothing. A contact named by id and address, or twice, is found, not unknown.
  expect((await h.as(a.token).post(`/lists/${listId}/members`).send({ contactIds: [c1] })).body.changed).toBe(0);
  const again = await h.as(a.token).post(`/lists/${listId}/members`).send({ contactIds: [c1, c1], emails: ['l1@example.com', 'ghost@example.com'] });
  expect(again.body).toEqual({ matched: 1, changed: 0, unknown: 1 });

  const got = await h.as(a.token).get(`/lists/${listId}`);
  expect(got.body).toMatchObject({ name: 'Weekly', counts: { members: 3, subscribed: 2, byStatus: { subscribed: 2, unsubscribed: 1, bounced: 0, complained: 0 } } });

  const removed = await h.as(a.token).delete(`/lists/${listId}/members`).send({ emails: ['l3@example.com'] });
  expect(removed.body).toMatchObject({ matched: 1, changed: 1 });
  expect((await h.as(a.token).get(`/lists/${listId}`)).body.counts).toEqual({ members: 2, subscribed: 1, byStatus: { subscribed: 1, unsubscribed: 1, bounced: 0, complained: 0 } });
  expect((await h.as(a.token).get(`/contacts/${c1}`)).body.listIds).toEqual([listId]);

  // Membership changes are contact changes: a snapshot with the list goes out.
  await waitFor(async () => {
    const recs = await readTopic('contacts.v1', (r) => r.key === c1);
    return recs.some((r) => (r.value as { listIds?: string[] } | null)?.listIds?.includes(listId)) || undefined;
  });

  expect((await h.as(a.token).delete(`/lists/${listId}`)).status).toBe(204);
  expect((await h.as(a.token).get(`/lists/${listId}`)).status).toBe(404);
  expect((await h.as(a.token).get(`/contacts/${c1}`)).body.listIds).toEqual([]);
  await waitFor(async () => {
    const recs = await readTopic('contacts.v1', (r) => r.key === c1);
    const last = recs.at(-1)?.value as { listIds?: string[] } | undefined;
    return (last && last.listIds?.length === 0) || undefined;
  });
});

test("another workspace's key gets 404 on every list route, and cannot add its contacts", async () => {
  const listId = (await h.as(a.token).post('/lists').send({ name: 'private' })).body.listId as string;
  const theirs = await contact(b, 'b-only@example.com');
  const attempts = [
    h.as(b.token).get(`/lists/${listId}`),
    h.as(b.token).patch(`/lists/${listId}`).send({ name: 'x' }),
    h.as(b.token).post(`/lists/${listId}/members`).send({ contactIds: [theirs] }),
    h.as(b.token).delete(`/lists/${listId}/members`).send({ contactIds: [theirs] }),
    h.as(b.token).delete(`/lists/${listId}`),
  ];
  for (const res of await Promise.all(attempts)) expect(res.status).toBe(404);
  expect((await h.as(b.token).get('/lists')).body.items).toEqual([]);
  // A's list cannot take B's contact by id either.
  const res = await h.as(a.token).post(`/lists/${listId}/members`).send({ contactIds: [theirs] });
  expect(res.body).toMatchObject({ matched: 0, unknown: 1 });
  expect((await h.as(b.token).post('/contacts').send({ email: 'b2@example.com', listIds: [listId] })).status).toBe(400);
});

test.each([
  ['create without name', 'post', '/lists', {}, 'body.name'],
  ['create with an empty name', 'post', '/lists', { name: '  ' }, 'body.name'],
  ['rename with a number', 'patch', '/lists/ls_1', { name: 5 }, 'body.name'],
  ['members with nothing', 'post', '/lists/ls_1/members', {}, 'body'],
  ['members with a bad email', 'post', '/lists/ls_1/members', { emails: ['nope'] }, 'body.emails.0'],
  ['members with a bad id', 'post', '/lists/ls_1/members', { contactIds: ['bad id'] }, 'body.contactIds.0'],
  ['remove members with a bad email', 'delete', '/lists/ls_1/members', { emails: ['nope'] }, 'body.emails.0'],
  ['get with a bad id', 'get', '/lists/bad%20id', undefined, 'params.listId'],
] as const)('%s → 400 with the field path', async (_n, method, path, body, field) => {
  const req = h.as(a.token)[method](path);
  const res = body === undefined ? await req : await req.send(body);
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
});

test('a process asked for a component that does not exist refuses to start, naming it', () => {
  const { config, logger, metrics, conn, kafka, publisher } = h.sender.ctx;
  expect(() => buildSender({ config, logger, metrics, conn, kafka, publisher }, { only: ['send-worker', 'send-wroker'] })).toThrow(
    /unknown sender components: send-wroker \(known: .*send-worker/,
  );
  expect(() => buildSender({ config, logger, metrics, conn, kafka, publisher }, { except: ['send-wroker'] })).toThrow(/unknown sender components: send-wroker/);
});
