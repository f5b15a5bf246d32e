// SES answering 429 to a share of calls (a proxy in front of the emulator): the campaign still
// completes, each recipient exactly once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { emailsTo, stack } from '@payam/testkit';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';
import { campaignBody, createTemplate, seedAudience, waitForState } from './campaign-fixtures';

jest.setTimeout(120_000);

let proxy: http.Server;
let throttled = 0;
let h: SenderHarness;
let w: TestWorkspace;

beforeAll(async () => {
  const upstream = new URL(stack.sesEndpoint);
  let n = 0;
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/v2/email/outbound-emails') && n++ % 3 === 0) {
        throttled++;
        res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' });
        res.end(JSON.stringify({ message: 'Maximum sending rate exceeded.' }));
        return;
      }
      const up = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.writeHead(502).end());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as AddressInfo).port;
  h = await startSender({
    dbPrefix: 'payam_test_delivery_throttle',
    env: {
      SES_ENDPOINT: `http://127.0.0.1:${port}`,
      SES_MAX_SEND_RATE: '500',
      SENDER_BACKOFF_BASE_MS: '20',
      SENDER_BACKOFF_CAP_MS: '200',
      SENDER_SCHEDULER_INTERVAL_MS: '200',
    },
  });
  w = await h.createWorkspace();
});

afterAll(async () => {
  await h?.close();
  await new Promise((r) => proxy?.close(r));
});

test('a third of SendEmail calls throttled (429): the campaign completes, every recipient exactly once', async () => {
  const templateId = await createTemplate(h, w);
  const { listId, contacts } = await seedAudience(h, w, 300);
  const created = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  await h.as(w.token).post(`/campaigns/${created.body.campaignId}/start`).expect(200);
  const done = await waitForState(h, w, created.body.campaignId, 'completed', 90_000);
  expect(done.progress.counts).toMatchObject({ sent: 300, failed: 0, unknown: 0 });
  expect(throttled).toBeGreaterThan(50);
  const emails = await emailsTo(contacts.map((c) => c.email));
  expect(emails).toHaveLength(300);
  expect(new Set(emails.map((e) => e.destination.to[0])).size).toBe(300);
});
