import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';

/*
 * The workspace collections that page by cursor (paging.ts): every one is walked page by page
 * and must give each item once, in its order, with nextCursor null on the last page; a cursor
 * it did not give out is a 400 on query.cursor; another workspace's walk sees none of them.
 */

let h: SenderHarness;
let a: TestWorkspace;
let b: TestWorkspace;

beforeAll(async () => {
  h = await startSender({ dbPrefix: 'payam_test_sender_paging', only: [] });
  a = await h.createWorkspace('A');
  b = await h.createWorkspace('B');
});
afterAll(async () => {
  await h?.close();
});

interface Collection {
  path: string;
  /** Creates the i-th item in `ws` and answers the key it is listed under. */
  create: (ws: TestWorkspace, i: number) => Promise<string>;
  key: string;
  /** Newest first (imports), else in creation order. */
  newestFirst: boolean;
}

async function created(res: { status: number; body: Record<string, unknown> }, key: string): Promise<string> {
  expect(res.status).toBeLessThan(300);
  return String(res.body[key]);
}

const collections: Collection[] = [
  { path: '/lists', key: 'listId', newestFirst: false, create: async (ws, i) => created(await h.as(ws.token).post('/lists').send({ name: `list ${i}` }), 'listId') },
  {
    path: '/templates',
    key: 'templateId',
    newestFirst: false,
    create: async (ws, i) => created(await h.as(ws.token).post('/templates').send({ name: `t${i}`, subject: 'Hi', html: '<p>Hi {{firstName}}</p>' }), 'templateId'),
  },
  { path: '/layouts', key: 'layoutId', newestFirst: false, create: async (ws, i) => created(await h.as(ws.token).post('/layouts').send({ name: `l${i}`, html: '<div>{{{body}}}</div>' }), 'layoutId') },
  // Named so that name order is not creation order: partials list by name.
  { path: '/partials', key: 'name', newestFirst: false, create: async (ws, i) => created(await h.as(ws.token).put(`/partials/p-${String(9 - i)}`).send({ content: `<b>${i}</b>` }), 'name') },
  {
    path: '/imports',
    key: 'importId',
    newestFirst: true,
    create: async (ws, i) => created(await h.as(ws.token).post('/imports?format=csv').set('content-type', 'text/csv').send(`email\npage${i}@example.com\n`), 'importId'),
  },
];

async function walk(ws: TestWorkspace, path: string, key: string, limit: number): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await h.as(ws.token).get(path).query(cursor === null ? { limit } : { limit, cursor });
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    keys.push(...res.body.items.map((item: Record<string, unknown>) => String(item[key])));
    cursor = res.body.nextCursor;
    pages += 1;
  } while (cursor !== null && pages < 20);
  return { keys, pages };
}

test.each(collections)('GET $path pages by cursor: each item once, in order, per workspace', async ({ path, key, newestFirst, create }) => {
  const made: string[] = [];
  for (let i = 0; i < 5; i += 1) made.push(await create(a, i));
  const expected = key === 'name' ? [...made].sort() : newestFirst ? [...made].reverse() : made;

  const { keys, pages } = await walk(a, path, key, 2);
  expect(keys).toEqual(expected);
  expect(pages).toBe(3);
  // One page that holds everything says it is the last.
  const all = await h.as(a.token).get(path).query({ limit: 5 });
  expect(all.body.nextCursor).toBeNull();
  expect(all.body.items).toHaveLength(5);

  expect((await walk(b, path, key, 2)).keys).toEqual([]);
  // A's cursor in B's hands pages B's items after that id: none of A's.
  const first = await h.as(a.token).get(path).query({ limit: 1 });
  const foreign = await h.as(b.token).get(path).query({ cursor: first.body.nextCursor });
  expect(foreign.status).toBe(200);
  expect(foreign.body.items).toEqual([]);
});

test.each(collections.map((c) => c.path))('GET %s with a bad cursor or limit → 400 with the field path', async (path) => {
  const bad = await h.as(a.token).get(path).query({ cursor: 'not-a-cursor' });
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body)).toContain('query.cursor');
  const forged = await h.as(a.token).get(path).query({ cursor: Buffer.from(JSON.stringify({ a: { $gt: '' } })).toString('base64url') });
  expect(forged.status).toBe(400);
  for (const limit of ['0', '501', 'ten']) {
    const res = await h.as(a.token).get(path).query({ limit });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('query.limit');
  }
});
