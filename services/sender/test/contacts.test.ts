import type { Response } from 'supertest';
import { readTopic, waitFor, type ReadRecord } from '@payam/testkit';
import { contactModel } from '../src/contacts/model';
import { contactOutboxModel } from '../src/contacts/outbox';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';

let h: SenderHarness;
let a: TestWorkspace;
let b: TestWorkspace;

beforeAll(async () => {
  h = await startSender({ dbPrefix: 'payam_test_sender_contacts', only: ['contact-republisher'] });
  a = await h.createWorkspace('A');
  b = await h.createWorkspace('B');
});
afterAll(async () => {
  await h?.close();
});

let n = 0;
const email = (tag = 'c') => `${tag}-${Date.now().toString(36)}-${n++}@example.com`;

async function create(ws: TestWorkspace, body: Record<string, unknown>) {
  const res = await h.as(ws.token).post('/contacts').send(body);
  expect(res.status).toBe(201);
  return res.body as { contactId: string; email: string; version: number; attributes: Record<string, unknown> };
}

function contactRecords(workspaceId: string, contactId: string): Promise<ReadRecord[]> {
  return readTopic('contacts.v1', (r) => r.key === contactId && (r.headers['workspace-id'] === workspaceId || (r.value as { workspaceId?: string } | null)?.workspaceId === workspaceId));
}

test('creates, reads and normalises a contact', async () => {
  const addr = email('Ann');
  const res = await h.as(a.token).post('/contacts').send({ email: `  ${addr.toUpperCase()} `, attributes: { first_name: 'Ann' } });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ email: addr.toLowerCase(), status: 'subscribed', version: 1, attributes: { first_name: 'Ann' } });
  const got = await h.as(a.token).get(`/contacts/${res.body.contactId}`);
  expect(got.status).toBe(200);
  expect(got.body.email).toBe(addr.toLowerCase());
  const dup = await h.as(a.token).post('/contacts').send({ email: addr });
  expect(dup.status).toBe(409);
});

test('every change publishes a snapshot with a growing version', async () => {
  const c = await create(a, { email: email(), attributes: { plan: 'free', city: 'Oslo' } });
  const patched = await h.as(a.token).patch(`/contacts/${c.contactId}`).send({ attributes: { plan: 'pro', city: null }, status: 'unsubscribed' });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ version: 2, status: 'unsubscribed', attributes: { plan: 'pro' } });
  expect(patched.body.attributes).not.toHaveProperty('city');
  // A PATCH that changes nothing is not a change.
  const same = await h.as(a.token).patch(`/contacts/${c.contactId}`).send({ status: 'unsubscribed' });
  expect(same.body.version).toBe(2);
  const records = await waitFor(async () => {
    const r = await contactRecords(a.workspaceId, c.contactId);
    return r.length >= 2 ? r : undefined;
  });
  expect(records.map((r) => (r.value as { version: number }).version)).toEqual([1, 2]);
  expect(records[1]!.value).toMatchObject({ type: 'contact.snapshot', workspaceId: a.workspaceId, status: 'unsubscribed', attributes: { plan: 'pro' } });
  expect(await contactOutboxModel(h.sender.ctx.conn).countDocuments({ contactIds: c.contactId })).toBe(0);
});

test('upsert by email creates, then merges', async () => {
  const addr = email();
  const first = await h.as(a.token).put('/contacts').send({ email: addr, attributes: { a: 1 } });
  expect(first.status).toBe(201);
  const second = await h.as(a.token).put('/contacts').send({ email: ` ${addr.toUpperCase()}`, attributes: { b: 2 } });
  expect(second.status).toBe(200);
  expect(second.body).toMatchObject({ contactId: first.body.contactId, version: 2, attributes: { a: 1, b: 2 } });
});

test('lists with cursor paging and filters', async () => {
  const w = await h.createWorkspace('paging');
  const list = await h.as(w.token).post('/lists').send({ name: 'vip' });
  const made: string[] = [];
  for (let i = 0; i < 7; i++) {
    const c = await create(w, {
      email: `page${i}@${i % 2 ? 'odd' : 'even'}.example.com`,
      status: i === 6 ? 'bounced' : 'subscribed',
      attributes: { n: i, tier: i < 3 ? 'gold' : 'red', active: i % 2 === 0 },
      listIds: i < 2 ? [list.body.listId] : [],
    });
    made.push(c.contactId);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res: Response = await h.as(w.token).get('/contacts').query({ limit: 3, ...(cursor ? { cursor } : {}) });
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(3);
    seen.push(...res.body.items.map((c: { contactId: string }) => c.contactId));
    cursor = res.body.nextCursor;
  } while (cursor);
  expect(seen).toEqual(made);

  const ids = async (query: Record<string, string>) =>
    (await h.as(w.token).get('/contacts').query(query)).body.items.map((c: { email: string }) => c.email.slice(0, 5));
  expect(await ids({ status: 'bounced' })).toEqual(['page6']);
  expect(await ids({ listId: list.body.listId })).toEqual(['page0', 'page1']);
  expect(await ids({ emailPrefix: 'PAGE3' })).toEqual(['page3']);
  expect(await ids({ 'attr.tier': 'gold' })).toEqual(['page0', 'page1', 'page2']);
  expect(await ids({ 'attr.n': '4' })).toEqual(['page4']);
  expect(await ids({ 'attr.active': 'true', 'attr.tier': 'red' })).toEqual(['page4', 'page6']);
});

test('erase removes the data, publishes a tombstone and hides the contact', async () => {
  const addr = email('erase');
  const c = await create(a, { email: addr, attributes: { name: 'Eve', phone: '123' } });
  const res = await h.as(a.token).delete(`/contacts/${c.contactId}`);
  expect(res.status).toBe(204);
  expect((await h.as(a.token).get(`/contacts/${c.contactId}`)).status).toBe(404);
  const doc = await contactModel(h.sender.ctx.conn).findById(c.contactId).lean();
  expect(doc?.erasedAt).toBeInstanceOf(Date);
  expect(JSON.stringify(doc)).not.toContain(addr);
  expect(JSON.stringify(doc)).not.toContain('Eve');
  const records = await waitFor(async () => {
    const r = await contactRecords(a.workspaceId, c.contactId);
    return r.some((x) => x.value === null) ? r : undefined;
  });
  const tombstone = records.find((x) => x.value === null)!;
  expect(tombstone.headers['workspace-id']).toBe(a.workspaceId);
  // The address is free again: a new contact with it is a new contact.
  const again = await create(a, { email: addr });
  expect(again.contactId).not.toBe(c.contactId);
  expect((await h.as(a.token).delete(`/contacts/${c.contactId}`)).status).toBe(204);
});

test('a contact written but never published is healed by the re-publisher', async () => {
  const c = await create(a, { email: email('heal') });
  // What a crash between the Mongo write and the Kafka publish leaves behind: the note and the write.
  await contactOutboxModel(h.sender.ctx.conn).collection.insertOne({ _id: `crash-${c.contactId}`, contactIds: [c.contactId], at: new Date(Date.now() - 60_000) } as never);
  await contactModel(h.sender.ctx.conn).updateOne({ _id: c.contactId }, { $set: { status: 'complained', version: 2 } });
  const records = await waitFor(async () => {
    const r = await contactRecords(a.workspaceId, c.contactId);
    return r.some((x) => (x.value as { version?: number } | null)?.version === 2) ? r : undefined;
  });
  expect(records.at(-1)!.value).toMatchObject({ version: 2, status: 'complained' });
  await waitFor(async () => (await contactOutboxModel(h.sender.ctx.conn).countDocuments({ contactIds: c.contactId })) === 0);
});

const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
const manyKeys = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]));

test.each([
  ['POST without email', 'post', '/contacts', {}, 'body.email'],
  ['POST with a bad email', 'post', '/contacts', { email: 'not-an-email' }, 'body.email'],
  ['POST with a bad status', 'post', '/contacts', { email: 'x@example.com', status: 'happy' }, 'body.status'],
  ['POST with attributes not an object', 'post', '/contacts', { email: 'x@example.com', attributes: [1] }, 'body.attributes'],
  ['POST with too many attributes', 'post', '/contacts', { email: 'x@example.com', attributes: manyKeys }, 'body.attributes'],
  ['POST with nesting too deep', 'post', '/contacts', { email: 'x@example.com', attributes: deep }, 'body.attributes.a.b.c.d.e'],
  ['POST with a $ key', 'post', '/contacts', { email: 'x@example.com', attributes: { x: { $gt: 1 } } }, 'body.attributes.x.$gt'],
  ['POST with a dotted key', 'post', '/contacts', { email: 'x@example.com', attributes: { 'a.b': 1 } }, 'body.attributes.a.b'],
  ['POST with attributes over 16 KiB', 'post', '/contacts', { email: 'x@example.com', attributes: { big: 'x'.repeat(17_000) } }, 'body.attributes'],
  ['POST with an unknown list', 'post', '/contacts', { email: 'x@example.com', listIds: ['ls_nope'] }, 'body.listIds.0'],
  ['POST with an unknown field', 'post', '/contacts', { email: 'x@example.com', name: 'x' }, 'body'],
  ['PUT without email', 'put', '/contacts', { attributes: {} }, 'body.email'],
  ['PATCH with nothing', 'patch', '/contacts/ct_1', {}, 'body'],
  ['PATCH with a bad email', 'patch', '/contacts/ct_1', { email: 'nope' }, 'body.email'],
  ['PATCH with a bad id', 'patch', '/contacts/bad%20id', { status: 'subscribed' }, 'params.contactId'],
  ['GET with a bad id', 'get', '/contacts/bad%20id', undefined, 'params.contactId'],
  ['DELETE with a bad id', 'delete', '/contacts/bad%20id', undefined, 'params.contactId'],
  ['list with limit 501', 'get', '/contacts?limit=501', undefined, 'query.limit'],
  ['list with limit 0', 'get', '/contacts?limit=0', undefined, 'query.limit'],
  ['list with a bad status', 'get', '/contacts?status=x', undefined, 'query.status'],
  ['list with an unknown filter', 'get', '/contacts?colour=red', undefined, 'query.colour'],
  ['list with a forged cursor', 'get', '/contacts?cursor=bm9wZQ', undefined, 'query.cursor'],
] as const)('%s → 400 with the field path', async (_n, method, path, body, field) => {
  const req = h.as(a.token)[method](path);
  const res = body === undefined ? await req : await req.send(body);
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
});

test('PATCH that grows attributes past the limit → 400', async () => {
  const c = await create(a, { email: email(), attributes: { a: 'x'.repeat(10_000) } });
  const res = await h.as(a.token).patch(`/contacts/${c.contactId}`).send({ attributes: { b: 'y'.repeat(10_000) } });
  expect(res.status).toBe(400);
  expect(res.body.error.details[0].path).toBe('body.attributes');
});

test("another workspace's key gets 404 and changes nothing", async () => {
  const c = await create(a, { email: email('mine'), attributes: { secret: 'a' } });
  const attempts = [
    h.as(b.token).get(`/contacts/${c.contactId}`),
    h.as(b.token).patch(`/contacts/${c.contactId}`).send({ attributes: { secret: 'b' } }),
    h.as(b.token).delete(`/contacts/${c.contactId}`),
  ];
  for (const res of await Promise.all(attempts)) {
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain(c.email);
  }
  const listed = await h.as(b.token).get('/contacts').query({ emailPrefix: 'mine' });
  expect(listed.body.items).toEqual([]);
  // Upsert by the same email in B is B's own contact.
  const other = await h.as(b.token).put('/contacts').send({ email: c.email });
  expect(other.status).toBe(201);
  expect(other.body.contactId).not.toBe(c.contactId);
  expect((await h.as(a.token).get(`/contacts/${c.contactId}`)).body.attributes).toEqual({ secret: 'a' });
});
