import { operationsOf, stack, topicEnd, uniqueName, validateOpenApi, waitFor } from '@payam/testkit';
import type { EmailEvent } from '@payam/contracts';
import { createHmac } from 'node:crypto';
import { TEST_KEY, collectTopic, signer, startTestTracker, tokenFor, wrongKeySigner } from './helpers';

type Tracker = Awaited<ReturnType<typeof startTestTracker>>;
let tracker: Tracker;
let collected: Awaited<ReturnType<typeof collectTopic<EmailEvent>>>;
const ws = uniqueName('ws_track');

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const GMAIL_PROXY = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';

beforeAll(async () => {
  const from = await topicEnd('email-events.v1');
  [tracker, collected] = await Promise.all([
    startTestTracker(),
    collectTopic<EmailEvent>(stack.kafkaBrokers, 'email-events.v1', from, (v) => v.workspaceId === ws),
  ]);
});
afterAll(async () => {
  await tracker?.stop();
  await collected?.stop();
});

async function eventsFor(deliveryId: string, count: number): Promise<EmailEvent[]> {
  return waitFor(
    () => {
      const evs = collected.items.filter((v) => v.deliveryId === deliveryId);
      return evs.length >= count ? evs : undefined;
    },
    { what: `${count} events for ${deliveryId}`, timeoutMs: 15_000 },
  );
}

const get = (path: string, init: RequestInit = {}) => fetch(`${tracker.url}${path}`, { redirect: 'manual', ...init });

test('serves its API documentation, the pixel and the click included: valid OpenAPI 3.1, and /docs renders it', async () => {
  const res = await get('/openapi.json');
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { info: { title: string }; paths: Record<string, Record<string, unknown>> };
  expect(doc.info.title).toBe('payam tracker');
  expect(operationsOf(doc)).toEqual([
    'GET /c/{token}',
    'GET /campaigns/{campaignId}/report',
    'GET /o/{token}.gif',
    'GET /reports/{campaignId}',
    'GET /u/{token}',
    'POST /ses/sns',
    'POST /u/{token}',
  ]);
  expect(validateOpenApi(doc)).toEqual({ valid: true });
  const docs = await get('/docs');
  expect(docs.status).toBe(200);
  expect(docs.headers.get('content-type')).toMatch(/text\/html/);
});

test('pixel answers a no-store GIF and records email.opened with its classification', async () => {
  const token = tokenFor({ kind: 'open', workspaceId: ws, deliveryId: 'd-open', variantId: 'B' });
  const res = await get(`/o/${token}.gif`, { headers: { 'user-agent': GMAIL_PROXY, 'x-forwarded-for': '66.249.84.1' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/gif');
  expect(res.headers.get('cache-control')).toContain('no-store');
  expect(Buffer.from(await res.arrayBuffer()).subarray(0, 6).toString('latin1')).toBe('GIF89a');
  const [ev] = await eventsFor('d-open', 1);
  expect(ev).toMatchObject({ type: 'email.opened', source: 'pixel', campaignId: 'cmp1', variantId: 'B', contactId: 'c1' });
  const cls = (ev as Extract<EmailEvent, { type: 'email.opened' }>).classification;
  expect(cls).toMatchObject({ client: 'Gmail', device: 'proxy', machine: true, machineReasons: ['gmail_image_proxy'], ip: '127.0.0.0' });
});

test('click redirects to the signed target and records email.clicked with link and classification', async () => {
  const token = tokenFor({ kind: 'click', workspaceId: ws, deliveryId: 'd-click', url: 'https://example.com/offer?x=1', linkIndex: 2 });
  const res = await get(`/c/${token}`, { headers: { 'user-agent': CHROME } });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('https://example.com/offer?x=1');
  const [ev] = await eventsFor('d-click', 1);
  expect(ev).toMatchObject({ type: 'email.clicked', source: 'redirect', url: 'https://example.com/offer?x=1', linkIndex: 2 });
  const cls = (ev as Extract<EmailEvent, { type: 'email.clicked' }>).classification;
  expect(cls).toMatchObject({ client: 'Chrome', os: 'Windows', device: 'desktop', machine: false, machineReasons: [] });
});

test('a HEAD on a click link is a scanner: still redirected, flagged head_request', async () => {
  const token = tokenFor({ kind: 'click', workspaceId: ws, deliveryId: 'd-head', url: 'https://example.com/', linkIndex: 0 });
  const res = await get(`/c/${token}`, { method: 'HEAD', headers: { 'user-agent': CHROME } });
  expect(res.status).toBe(302);
  const [ev] = await eventsFor('d-head', 1);
  expect((ev as Extract<EmailEvent, { type: 'email.clicked' }>).classification.machineReasons).toContain('head_request');
});

test('the fast path (usual spelling) and express (any other spelling) answer the same headers and record the same way', async () => {
  const open = tokenFor({ kind: 'open', workspaceId: ws, deliveryId: 'd-paths' });
  const click = tokenFor({ kind: 'click', workspaceId: ws, deliveryId: 'd-paths', url: 'https://example.com/a', linkIndex: 1 });
  // Lowercase is the fast path's; express routes case-insensitively and takes the rest.
  const pairs = [
    [`/o/${open}.gif`, `/O/${open}.gif`],
    [`/c/${click}?utm=x`, `/C/${click}?utm=x`],
  ];
  const comparable = (res: Response) => {
    const h = Object.fromEntries(res.headers);
    expect(h['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const varying of ['date', 'x-request-id', 'keep-alive', 'connection']) delete h[varying];
    return { status: res.status, headers: h };
  };
  for (const [fast, viaExpress] of pairs) {
    const a = await get(fast!, { headers: { 'user-agent': CHROME } });
    const b = await get(viaExpress!, { headers: { 'user-agent': CHROME } });
    expect(comparable(a)).toEqual(comparable(b));
    expect(Buffer.from(await a.arrayBuffer())).toEqual(Buffer.from(await b.arrayBuffer()));
  }
  const evs = await eventsFor('d-paths', 4);
  expect(evs.map((e) => e.type).sort()).toEqual(['email.clicked', 'email.clicked', 'email.opened', 'email.opened']);
  const shape = (e: EmailEvent) => ({ ...e, id: undefined, occurredAt: undefined });
  const [o1, o2] = evs.filter((e) => e.type === 'email.opened');
  expect(shape(o1!)).toEqual(shape(o2!));
  const [c1, c2] = evs.filter((e) => e.type === 'email.clicked');
  expect(shape(c1!)).toEqual(shape(c2!));
});

test('a caller\'s plain X-Request-Id is echoed on the fast path', async () => {
  const res = await get(`/o/${tokenFor({ kind: 'open', workspaceId: ws, deliveryId: 'd-reqid' })}.gif`, { headers: { 'x-request-id': 'lb-123.abc' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-request-id')).toBe('lb-123.abc');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
});

describe('tokens that fail verification get the same plain 400 and never a redirect', () => {
  const good = () => tokenFor({ kind: 'click', workspaceId: ws, deliveryId: 'd-bad', url: 'https://example.com/', linkIndex: 0 });
  const cases: Array<[string, () => string]> = [
    ['tampered payload', () => {
      const [k, body, mac] = good().split('.');
      const payload = JSON.parse(Buffer.from(body!, 'base64url').toString());
      payload.u = 'https://evil.example/';
      return `${k}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`;
    }],
    ['truncated', () => good().slice(0, -5)],
    ['re-signed with a wrong key', () => wrongKeySigner.sign({ kind: 'click', workspaceId: ws, contactId: 'c1', campaignId: 'cmp1', deliveryId: 'd-bad', variantId: null, url: 'https://evil.example/', linkIndex: 0, issuedAt: 1 })],
    ['unknown key id', () => 'zz' + good().slice(2)],
    ['garbage', () => '%%%not-a-token'],
    ['an open token on the click route', () => tokenFor({ kind: 'open', workspaceId: ws })],
    ['javascript: target forged under the right key', () => forgeWithKey({ k: 'c', w: ws, c: 'c1', t: 1, u: 'javascript:alert(1)' })],
    ['data: target forged under the right key', () => forgeWithKey({ k: 'c', w: ws, c: 'c1', t: 1, u: 'data:text/html,hi' })],
  ];
  test.each(cases)('%s', async (_name, make) => {
    const token = make();
    const paths = [`/c/${token}`, `/o/${token}.gif`, `/u/${token}`].filter((p) => !(_name.startsWith('an open token') && p.startsWith('/o/')));
    for (const path of paths) {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toBe('Bad request\n');
    }
  });
});

/** Signs a raw wire payload with the test key, bypassing the signer's own URL check. */
function forgeWithKey(wire: Record<string, unknown>): string {
  const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
  const mac = createHmac('sha256', Buffer.from(TEST_KEY.secret, 'base64')).update(`payam/tracking-token/v1\0k1\0${body}`).digest().subarray(0, 16);
  return `k1.${body}.${mac.toString('base64url')}`;
}

test('the forge helper makes tokens the signer accepts (so the cases above test the tracker)', () => {
  const t = forgeWithKey({ k: 'c', w: ws, c: 'c1', t: 1, u: 'https://ok.example/' });
  expect(signer.verify(t)).toMatchObject({ kind: 'click', url: 'https://ok.example/' });
});

test('unsubscribe: GET shows a confirm page and records nothing; Gmail one-click POST answers 200, twice is one event', async () => {
  const token = tokenFor({ kind: 'unsubscribe', workspaceId: ws, deliveryId: 'd-unsub' });
  const page = await get(`/u/${token}`);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('<form method="post"');
  expect(html).toContain(`action="/u/${token}"`);

  const oneClick = () =>
    get(`/u/${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  const first = await oneClick();
  expect(first.status).toBe(200);
  expect(first.headers.get('location')).toBeNull();
  expect((await oneClick()).status).toBe(200);
  const evs = await eventsFor('d-unsub', 2);
  expect(evs.every((e) => e.type === 'email.unsubscribed' && e.source === 'one_click')).toBe(true);
  expect(new Set(evs.map((e) => e.id)).size).toBe(1);
});

test('unsubscribe via the page button records source "page"', async () => {
  const token = tokenFor({ kind: 'unsubscribe', workspaceId: ws, deliveryId: 'd-unsub-page' });
  const res = await get(`/u/${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=page' });
  expect(res.status).toBe(200);
  const [ev] = await eventsFor('d-unsub-page', 1);
  expect(ev).toMatchObject({ type: 'email.unsubscribed', source: 'page' });
});
