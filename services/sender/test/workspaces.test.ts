import type { Test } from 'supertest';
import { toOpenApiPath } from '@payam/http';
import { operationsOf, readTopic, validateOpenApi, waitFor } from '@payam/testkit';
import { senderRoutes } from '../src/routes';
import { ADMIN_SECRET, startSender, type SenderHarness } from './sender-harness';

let h: SenderHarness;

beforeAll(async () => {
  h = await startSender({ dbPrefix: 'payam_test_sender_ws', only: [] });
});
afterAll(async () => {
  await h?.close();
});

const admin = (req: Test) => req.set('Authorization', `Bearer ${ADMIN_SECRET}`);

test('serves its API documentation: /openapi.json lists every route and is valid OpenAPI 3.1; /docs renders it', async () => {
  const res = await h.http.get('/openapi.json').expect(200);
  expect(res.body.info).toMatchObject({ title: 'payam sender', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  const routes = senderRoutes(h.sender.ctx).map((r) => `${r.method.toUpperCase()} ${toOpenApiPath(r.path).path}`);
  expect(routes.length).toBeGreaterThan(40);
  expect(operationsOf(res.body)).toEqual([...routes].sort());
  expect(validateOpenApi(res.body)).toEqual({ valid: true });
  await h.http.get('/docs').expect(200).expect('Content-Type', /text\/html/);
});

test.each([
  ['no credentials', undefined],
  ['a wrong secret', 'Bearer not-the-admin-secret'],
  ['a workspace key', 'key'],
])('admin routes refuse %s', async (_name, auth) => {
  const { token } = await h.createWorkspace();
  const req = h.http.post('/admin/workspaces');
  if (auth) req.set('Authorization', auth === 'key' ? `Bearer ${token}` : auth);
  const res = await req.send({ name: 'x' });
  expect(res.status).toBe(401);
});

test('creates a workspace with a key that authenticates workspace routes', async () => {
  const res = await admin(h.http.post('/admin/workspaces')).send({ name: 'Acme' });
  expect(res.status).toBe(201);
  expect(res.body.workspace).toMatchObject({ name: 'Acme', workspaceId: expect.stringMatching(/^ws_[A-Za-z0-9]+$/) });
  expect(res.body.apiKey.token).toMatch(/^pk_/);
  const me = await h.as(res.body.apiKey.token).get('/workspace');
  expect(me.status).toBe(200);
  expect(me.body.workspaceId).toBe(res.body.workspace.workspaceId);
  expect((await h.as('pk_0000000000000000_' + 'a'.repeat(43)).get('/workspace')).status).toBe(401);
});

test('issues, lists (without secrets) and revokes keys, publishing each to api-keys.v1', async () => {
  const w = await h.createWorkspace();
  const issued = await admin(h.http.post(`/admin/workspaces/${w.workspaceId}/keys`)).send({ name: 'ci' });
  expect(issued.status).toBe(201);
  const second = issued.body.token as string;
  expect((await h.as(second).get('/workspace')).status).toBe(200);

  const listed = await admin(h.http.get(`/admin/workspaces/${w.workspaceId}/keys`));
  expect(listed.status).toBe(200);
  expect(listed.body.items.map((k: { name: string }) => k.name).sort()).toEqual(['ci', 'default']);
  const text = JSON.stringify(listed.body);
  expect(text).not.toContain(second);
  expect(text).not.toContain('keyHash');
  expect(text).not.toContain('token');

  const revoked = await admin(h.http.delete(`/admin/workspaces/${w.workspaceId}/keys/${issued.body.keyId}`));
  expect(revoked.status).toBe(200);
  expect(revoked.body.revokedAt).not.toBeNull();
  expect((await h.as(second).get('/workspace')).status).toBe(401);
  expect((await h.as(w.token).get('/workspace')).status).toBe(200);

  const records = await waitFor(async () => {
    const recs = await readTopic('api-keys.v1', (r) => (r.value as { workspaceId?: string } | null)?.workspaceId === w.workspaceId);
    return recs.length >= 3 ? recs : undefined;
  });
  const forKey = records.filter((r) => r.key === issued.body.keyId).map((r) => r.value as { revokedAt: string | null; keyHash: string });
  expect(forKey.map((v) => v.revokedAt === null)).toEqual([true, false]);
  expect(JSON.stringify(records)).not.toContain(second);
});

test.each([
  ['POST /admin/workspaces without name', 'post', '/admin/workspaces', {}, 'body.name'],
  ['POST /admin/workspaces with an unknown field', 'post', '/admin/workspaces', { name: 'a', plan: 'gold' }, 'body'],
  ['POST keys with an empty name', 'post', '/admin/workspaces/ws_x/keys', { name: '' }, 'body.name'],
  ['POST keys with a bad workspace id', 'post', '/admin/workspaces/bad%20id/keys', { name: 'k' }, 'params.workspaceId'],
  ['DELETE key with a bad key id', 'delete', '/admin/workspaces/ws_x/keys/bad%20id', undefined, 'params.keyId'],
] as const)('%s → 400 with the field path', async (_n, method, path, body, field) => {
  const req = admin(h.http[method](path));
  const res = body === undefined ? await req : await req.send(body);
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
});

test.each([
  ['get workspace', 'get', '/admin/workspaces/ws_unknown'],
  ['list keys', 'get', '/admin/workspaces/ws_unknown/keys'],
  ['revoke key', 'delete', '/admin/workspaces/ws_unknown/keys/abc'],
] as const)('%s of an unknown workspace → 404', async (_n, method, path) => {
  expect((await admin(h.http[method](path))).status).toBe(404);
});

test('a key of one workspace cannot be revoked through another', async () => {
  const a = await h.createWorkspace();
  const b = await h.createWorkspace();
  const res = await admin(h.http.delete(`/admin/workspaces/${b.workspaceId}/keys/${a.keyId}`));
  expect(res.status).toBe(404);
  expect((await h.as(a.token).get('/workspace')).status).toBe(200);
});
