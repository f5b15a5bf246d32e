import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeServer, listen } from '@payam/http';
import { waitFor } from '@payam/testkit';
import { contactModel } from '../src/contacts/model';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';

let h: SenderHarness;
let a: TestWorkspace;
let b: TestWorkspace;
let server: http.Server;
let dir: string;

beforeAll(async () => {
  h = await startSender({ dbPrefix: 'payam_test_sender_imports', only: ['contact-imports'] });
  a = await h.createWorkspace('A');
  b = await h.createWorkspace('B');
  server = await listen(h.sender.app, 0, '127.0.0.1');
  dir = await mkdtemp(path.join(tmpdir(), 'payam-import-test-'));
});
afterAll(async () => {
  if (server) await closeServer(server, 1000);
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface ImportJob {
  importId: string;
  state: string;
  processed: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: Array<{ row: number; message: string }>;
  failure: string | null;
}

/** Streams a file to POST /imports over a real socket, the way a client uploads a large file. */
function upload(ws: TestWorkspace, file: string, contentType: string, query = ''): Promise<{ status: number; body: ImportJob }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: `/imports${query}`, headers: { authorization: `Bearer ${ws.token}`, 'content-type': contentType } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as ImportJob }));
      },
    );
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

async function finished(ws: TestWorkspace, importId: string, seen: ImportJob[] = []): Promise<ImportJob> {
  return waitFor(
    async () => {
      const res = await h.as(ws.token).get(`/imports/${importId}`);
      expect(res.status).toBe(200);
      seen.push(res.body);
      return res.body.state === 'running' ? undefined : (res.body as ImportJob);
    },
    { timeoutMs: 120_000, intervalMs: 50, what: 'import to finish' },
  );
}

async function writeFile(name: string, lines: Iterable<string>): Promise<string> {
  const file = path.join(dir, name);
  const out = createWriteStream(file);
  for (const line of lines) {
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return file;
}

test('JSON arrays and NDJSON: upsert by email, per-row errors with their row numbers, optional list', async () => {
  const list = await h.as(a.token).post('/lists').send({ name: 'imported' });
  await h.as(a.token).post('/contacts').send({ email: 'j-existing@example.com', status: 'unsubscribed', attributes: { keep: 1 } }).expect(201);
  const rows = [
    { email: 'j1@example.com', attributes: { n: 1, nested: { ok: true } } },
    { email: 'nope' },
    { email: 'J-Existing@example.com', status: 'subscribed', attributes: { added: 2 } },
    42,
    { email: 'j2@example.com', attributes: { 'bad.key': 1 } },
    { email: 'j3@example.com', extra: 'field' },
    { email: 'j4@example.com', attributes: { text: 'with ] and , and "quotes" and \\' } },
  ];
  const file = await writeFile('contacts.json', ['[\n', rows.map((r) => JSON.stringify(r)).join(',\n  '), '\n]\n']);
  const res = await upload(a, file, 'application/json', `?listId=${list.body.listId}`);
  expect(res.status).toBe(202);
  const done = await finished(a, res.body.importId);
  expect(done).toMatchObject({ state: 'completed', processed: 7, created: 2, updated: 1, failed: 4 });
  expect(done.errors.map((e) => e.row)).toEqual([2, 4, 5, 6]);
  expect(done.errors[2]!.message).toContain('attributes.bad.key');

  const existing = (await h.as(a.token).get('/contacts').query({ emailPrefix: 'j-existing' })).body.items[0];
  // Attributes merged, list added; an import never re-subscribes.
  expect(existing).toMatchObject({ status: 'unsubscribed', attributes: { keep: 1, added: 2 }, listIds: [list.body.listId] });
  expect((await h.as(a.token).get(`/lists/${list.body.listId}`)).body.counts).toMatchObject({ members: 3, subscribed: 2, byStatus: { unsubscribed: 1 } });
  const j4 = (await h.as(a.token).get('/contacts').query({ emailPrefix: 'j4@' })).body.items[0];
  expect(j4.attributes.text).toBe('with ] and , and "quotes" and \\');

  const nd = await writeFile('contacts.ndjson', ['{"email":"n1@example.com"}\n', '\n', '{broken\n', '{"email":"n2@example.com","status":"bounced"}\n']);
  const ndDone = await finished(a, (await upload(a, nd, 'application/x-ndjson')).body.importId);
  expect(ndDone).toMatchObject({ state: 'completed', processed: 3, created: 2, failed: 1, errors: [{ row: 3, message: 'not valid JSON' }] });
});

test('a file that breaks off fails the import with a reason, keeping the rows before it', async () => {
  const file = await writeFile('cut.json', ['[{"email":"cut1@example.com"},{"email":"cut2@exam']);
  const done = await finished(a, (await upload(a, file, 'application/json')).body.importId);
  expect(done.state).toBe('failed');
  expect(done.failure).toMatch(/not closed/);
  expect(done.created).toBe(1);
  const csv = await writeFile('cut.csv', ['email,name\n', 'q1@example.com,"unclosed\n']);
  const csvDone = await finished(a, (await upload(a, csv, 'text/csv')).body.importId);
  expect(csvDone.state).toBe('failed');
  expect(csvDone.failure).toMatch(/CSV/);
});

test("imports are per workspace: another workspace's key gets 404", async () => {
  const file = await writeFile('small.csv', ['email\n', 'ws-a@example.com\n']);
  const res = await upload(a, file, 'text/csv');
  await finished(a, res.body.importId);
  expect((await h.as(b.token).get(`/imports/${res.body.importId}`)).status).toBe(404);
  expect((await h.as(b.token).get('/imports')).body.items).toEqual([]);
  expect((await h.as(b.token).get('/contacts').query({ emailPrefix: 'ws-a' })).body.items).toEqual([]);
});

test.each([
  ['no format and no known content type', '', 'application/octet-stream', 'query.format'],
  ['an unknown format', '?format=xml', 'text/csv', 'query.format'],
  ['an unknown list', '?listId=ls_missing', 'text/csv', 'query.listId'],
  ['a bad list id', '?listId=bad%20id', 'text/csv', 'query.listId'],
])('POST /imports with %s → 400 with the field path', async (_n, query, type, field) => {
  const res = await h.as(a.token).post(`/imports${query}`).set('Content-Type', type).send('email\nx@example.com\n');
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
});

test('GET /imports/:id with a bad id → 400', async () => {
  const res = await h.as(a.token).get('/imports/bad%20id');
  expect(res.status).toBe(400);
  expect(res.body.error.details[0].path).toBe('params.importId');
});

test('re-running the same file creates no duplicates and changes nothing', async () => {
  const w = await h.createWorkspace('rerun');
  function* csv(): Generator<string> {
    yield 'email,first_name\n';
    for (let i = 1; i <= 1_200; i++) yield `again${i}@example.com,A${i}\n`;
  }
  const file = await writeFile('again.csv', csv());
  const first = await finished(w, (await upload(w, file, 'text/csv')).body.importId);
  expect(first).toMatchObject({ state: 'completed', created: 1_200, failed: 0 });
  const second = await finished(w, (await upload(w, file, 'text/csv')).body.importId);
  expect(second).toMatchObject({ state: 'completed', processed: 1_200, created: 0, updated: 0, unchanged: 1_200, failed: 0 });
  expect(await contactModel(h.sender.ctx.conn).countDocuments({ workspaceId: w.workspaceId })).toBe(1_200);
  const one = (await h.as(w.token).get('/contacts').query({ emailPrefix: 'again7@' })).body.items[0];
  expect(one).toMatchObject({ version: 1, attributes: { first_name: 'A7' } });
}, 180_000);

test('a 20k-row CSV streams in and reports bad rows by their line', async () => {
  const ROWS = 20_000;
  const bad = new Map<number, string>([
    [5, 'not-an-email,,x'],
    [777, 'someone@example.com,happy,x'],
    [15_000, ',,x'],
  ]);
  function* csv(): Generator<string> {
    yield 'email,status,first_name,tier\n';
    for (let i = 1; i <= ROWS; i++) {
      const line = i + 1; // the header is line 1
      if (bad.has(line)) yield `${bad.get(line)},gold\n`;
      else yield `Bulk${i}@Example.com,,"Name ${i}",${i % 3 === 0 ? 'gold' : 'red'}\n`;
    }
  }
  const file = await writeFile('contacts.csv', csv());
  const w = await h.createWorkspace('big');
  const first = await upload(w, file, 'text/csv');
  expect(first.status).toBe(202);
  expect(first.body).toMatchObject({ state: 'running', importId: expect.stringMatching(/^imp_/) });
  const seen: ImportJob[] = [];
  const done = await finished(w, first.body.importId, seen);
  expect(done).toMatchObject({ state: 'completed', processed: ROWS, created: ROWS - bad.size, updated: 0, failed: bad.size, failure: null });
  expect(done.errors.map((e) => e.row)).toEqual([...bad.keys()]);
  expect(done.errors[0]!.message).toMatch(/email/);
  expect(done.errors[1]!.message).toMatch(/status/);
  // Progress only ever grows while it runs.
  const processed = seen.map((s) => s.processed);
  expect(processed).toEqual([...processed].sort((x, y) => x - y));

  const model = contactModel(h.sender.ctx.conn);
  expect(await model.countDocuments({ workspaceId: w.workspaceId })).toBe(ROWS - bad.size);
  const one = await h.as(w.token).get('/contacts').query({ emailPrefix: 'bulk12@' });
  expect(one.body.items).toEqual([expect.objectContaining({ email: 'bulk12@example.com', attributes: { first_name: 'Name 12', tier: 'gold' } })]);
}, 300_000);

