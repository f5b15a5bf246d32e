import { randomUUID } from 'node:crypto';
import { Topics, type EmailEvent } from '@payam/contracts';
import { readTopic, waitFor } from '@payam/testkit';
import { isSuppressed, suppressedAmong } from '../src/suppression/service';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';

let h: SenderHarness;
let a: TestWorkspace;
let b: TestWorkspace;

beforeAll(async () => {
  h = await startSender({ dbPrefix: 'payam_test_sender_suppression', only: ['suppression-consumer'] });
  a = await h.createWorkspace('A');
  b = await h.createWorkspace('B');
});
afterAll(async () => {
  await h?.close();
});

let n = 0;
async function contact(ws: TestWorkspace, tag: string): Promise<{ contactId: string; email: string }> {
  const email = `${tag}-${Date.now().toString(36)}-${n++}@example.com`;
  const res = await h.as(ws.token).post('/contacts').send({ email });
  expect(res.status).toBe(201);
  return { contactId: res.body.contactId, email };
}

function event(ws: TestWorkspace, c: { contactId: string; email: string }, fields: Record<string, unknown>): EmailEvent {
  return {
    id: randomUUID(),
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    workspaceId: ws.workspaceId,
    contactId: c.contactId,
    campaignId: 'cmp_test',
    deliveryId: 'dlv_test',
    variantId: null,
    messageId: null,
    recipient: c.email,
    ...fields,
  } as EmailEvent;
}

async function publish(...events: EmailEvent[]): Promise<void> {
  await h.sender.ctx.publisher.publish(
    Topics.emailEvents,
    events.map((e) => ({ key: e.contactId, value: e })),
  );
}

const conn = () => h.sender.ctx.conn;

test('an unsubscribe on Kafka is honoured within seconds', async () => {
  // First let the new consumer group join (that is start-up, not the path being measured).
  const warm = await contact(a, 'warm-up');
  await publish(event(a, warm, { type: 'email.unsubscribed', source: 'api' }));
  await waitFor(() => isSuppressed(conn(), a.workspaceId, warm.email), { timeoutMs: 45_000, what: 'the consumer to join' });

  const c = await contact(a, 'unsub');
  expect(await isSuppressed(conn(), a.workspaceId, c.email)).toBe(false);
  await publish(event(a, c, { type: 'email.unsubscribed', source: 'one_click' }));
  await waitFor(() => isSuppressed(conn(), a.workspaceId, c.email.toUpperCase()), { timeoutMs: 10_000, what: 'suppression' });
  const got = await waitFor(async () => {
    const res = await h.as(a.token).get(`/contacts/${c.contactId}`);
    return res.body.status === 'unsubscribed' ? res.body : undefined;
  });
  expect(got.version).toBe(2);
  // Only this workspace: the same address elsewhere is not suppressed.
  expect(await isSuppressed(conn(), b.workspaceId, c.email)).toBe(false);
  const snapshots = await waitFor(async () => {
    const recs = await readTopic('contacts.v1', (r) => r.key === c.contactId);
    return recs.some((r) => (r.value as { status?: string } | null)?.status === 'unsubscribed') || undefined;
  });
  expect(snapshots).toBe(true);
});

test.each([
  ['a permanent bounce', { type: 'email.bounced', bounceType: 'Permanent', bounceSubType: 'General' }, 'bounce', 'bounced'],
  ['a complaint', { type: 'email.complained', feedbackType: 'abuse' }, 'complaint', 'complained'],
] as const)('%s suppresses and sets the status', async (_n, fields, reason, status) => {
  const c = await contact(a, reason);
  const e = event(a, c, fields);
  await publish(e);
  await waitFor(() => isSuppressed(conn(), a.workspaceId, c.email), { timeoutMs: 10_000 });
  const res = await h.as(a.token).get(`/suppressions/${encodeURIComponent(c.email)}`);
  expect(res.body).toMatchObject({ email: c.email, reason, sourceEventId: e.id });
  await waitFor(async () => (await h.as(a.token).get(`/contacts/${c.contactId}`)).body.status === status);
});

test('transient bounces and other events suppress nothing; a replayed event is a no-op', async () => {
  const soft = await contact(a, 'soft');
  const replay = await contact(a, 'replay');
  const unsub = event(a, replay, { type: 'email.unsubscribed', source: 'page' });
  await publish(
    event(a, soft, { type: 'email.bounced', bounceType: 'Transient', bounceSubType: 'MailboxFull' }),
    event(a, soft, { type: 'email.delivered' }),
    unsub,
  );
  await waitFor(() => isSuppressed(conn(), a.workspaceId, replay.email), { timeoutMs: 10_000 });
  expect(await isSuppressed(conn(), a.workspaceId, soft.email)).toBe(false);
  expect((await h.as(a.token).get(`/contacts/${soft.contactId}`)).body.status).toBe('subscribed');

  // The contact re-subscribes through the API; a redelivery of the old event must not undo it.
  await h.as(a.token).delete(`/suppressions/${encodeURIComponent(replay.email)}`).expect(204);
  await h.as(a.token).patch(`/contacts/${replay.contactId}`).send({ status: 'subscribed' }).expect(200);
  const marker = await contact(a, 'marker');
  await publish(unsub, event(a, marker, { type: 'email.complained' }));
  await waitFor(() => isSuppressed(conn(), a.workspaceId, marker.email), { timeoutMs: 10_000 });
  expect(await isSuppressed(conn(), a.workspaceId, replay.email)).toBe(false);
  expect((await h.as(a.token).get(`/contacts/${replay.contactId}`)).body.status).toBe('subscribed');
});

test('a complaint outranks an earlier unsubscribe, never the other way round', async () => {
  const c = await contact(a, 'rank');
  await publish(event(a, c, { type: 'email.complained' }));
  await waitFor(async () => (await h.as(a.token).get(`/contacts/${c.contactId}`)).body.status === 'complained');
  const marker = await contact(a, 'rank-marker');
  await publish(event(a, c, { type: 'email.unsubscribed', source: 'page' }), event(a, marker, { type: 'email.unsubscribed', source: 'page' }));
  await waitFor(() => isSuppressed(conn(), a.workspaceId, marker.email), { timeoutMs: 10_000 });
  expect((await h.as(a.token).get(`/contacts/${c.contactId}`)).body.status).toBe('complained');
});

test('API: add, list, get, remove; suppressedAmong answers in one query', async () => {
  const add = await h.as(a.token).post('/suppressions').send({ email: ' Manual@Example.com ' });
  expect(add.status).toBe(201);
  expect(add.body).toMatchObject({ email: 'manual@example.com', reason: 'manual', sourceEventId: null });
  expect((await h.as(a.token).post('/suppressions').send({ email: 'manual@example.com', reason: 'unsubscribe' })).status).toBe(200);
  await h.as(a.token).post('/suppressions').send({ email: 'manual2@example.com' }).expect(201);
  const page1 = await h.as(a.token).get('/suppressions').query({ emailPrefix: 'manual', limit: 1 });
  // Ordered by address: "2" sorts before "@".
  expect(page1.body.items.map((s: { email: string }) => s.email)).toEqual(['manual2@example.com']);
  const page2 = await h.as(a.token).get('/suppressions').query({ emailPrefix: 'manual', limit: 1, cursor: page1.body.nextCursor });
  expect(page2.body.items.map((s: { email: string }) => s.email)).toEqual(['manual@example.com']);
  expect(page2.body.nextCursor).toBeNull();
  expect([...(await suppressedAmong(conn(), a.workspaceId, ['MANUAL@example.com', 'other@example.com']))]).toEqual(['manual@example.com']);
  await h.as(a.token).delete('/suppressions/manual@example.com').expect(204);
  expect(await isSuppressed(conn(), a.workspaceId, 'manual@example.com')).toBe(false);
  await h.as(a.token).delete('/suppressions/manual@example.com').expect(404);
});

test("another workspace's key gets 404 and sees none of it", async () => {
  await h.as(a.token).post('/suppressions').send({ email: 'a-only@example.com' }).expect(201);
  expect((await h.as(b.token).get('/suppressions/a-only@example.com')).status).toBe(404);
  expect((await h.as(b.token).delete('/suppressions/a-only@example.com')).status).toBe(404);
  expect((await h.as(b.token).get('/suppressions').query({ emailPrefix: 'a-only' })).body.items).toEqual([]);
  expect(await isSuppressed(conn(), a.workspaceId, 'a-only@example.com')).toBe(true);
});

test.each([
  ['add without email', 'post', '/suppressions', {}, 'body.email'],
  ['add with a bad email', 'post', '/suppressions', { email: 'x' }, 'body.email'],
  ['add with a bad reason', 'post', '/suppressions', { email: 'x@example.com', reason: 'bored' }, 'body.reason'],
  ['get with a bad email', 'get', '/suppressions/nope', undefined, 'params.email'],
  ['list with a bad limit', 'get', '/suppressions?limit=9999', undefined, 'query.limit'],
  ['list with an unknown parameter', 'get', '/suppressions?foo=1', undefined, 'query'],
] as const)('%s → 400 with the field path', async (_n, method, path, body, field) => {
  const req = h.as(a.token)[method](path);
  const res = body === undefined ? await req : await req.send(body);
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
});
