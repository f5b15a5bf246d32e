// The campaign report page in a real headless browser (Debian's chromium driven by
// playwright-core), against the real tracker and stack: scripted events go through Kafka into
// the stats projector, and every figure the page shows must be the report's number.
// PAYAM_SCREENSHOTS=1 also writes docs/screenshots/campaign-report.png (the README shows it).
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { issueApiKey } from '@payam/api-keys';
import { Topics, type Classification, type EmailEvent } from '@payam/contracts';
import { createKafka, EventPublisher } from '@payam/kafka';
import { createLogger } from '@payam/observability';
import { stack, uniqueName, waitFor } from '@payam/testkit';
import type { CampaignReport } from '../src/stats/report';
import { startTestTracker } from './helpers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const logger = createLogger({ service: 'report-page-test', level: 'silent' });
const ws = uniqueName('ws_page');
const campaignId = uniqueName('cmp');

let tracker: Awaited<ReturnType<typeof startTestTracker>>;
let publisher: EventPublisher;
let browser: Browser;
let token: string;

const human: Classification = { client: 'Apple Mail', clientVersion: '16', os: 'iOS', device: 'mobile', machine: false, machineReasons: [], ip: '192.0.2.0', userAgent: 'x' };
const proxy: Classification = { client: 'Gmail', clientVersion: null, os: null, device: 'proxy', machine: true, machineReasons: ['gmail_image_proxy'], ip: null, userAgent: 'y' };

function ev(type: EmailEvent['type'], n: number, variantId: string, extra: Record<string, unknown> = {}): EmailEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    occurredAt: `2030-01-02T${String(9 + (n % 3)).padStart(2, '0')}:15:00.000Z`,
    workspaceId: ws,
    contactId: `c${n}`,
    campaignId,
    deliveryId: `d${n}`,
    variantId,
    messageId: null,
    recipient: null,
    ...extra,
  } as EmailEvent;
}

/** 40 recipients in two variants; B is opened and clicked more, and a proxy opens some of A. */
function script(): EmailEvent[] {
  const events: EmailEvent[] = [];
  for (let n = 0; n < 40; n++) {
    const v = n % 2 === 0 ? 'A' : 'B';
    events.push(ev('email.sent', n, v, { subject: `Subject ${v}` }), ev('email.delivered', n, v));
    if (v === 'A' && n % 4 === 0) events.push(ev('email.opened', n, v, { source: 'pixel', classification: proxy }));
    if (v === 'B' || n % 8 === 0) events.push(ev('email.opened', n, v, { source: 'pixel', classification: human }));
    if (v === 'B' && n % 3 === 0) {
      events.push(ev('email.clicked', n, v, { source: 'redirect', url: 'https://shop.example.com/sale', linkIndex: 0, classification: human }));
    }
  }
  return events;
}

async function metric(page: Page, name: string, attr?: string): Promise<string | null> {
  const loc = page.locator(`[data-metric="${name}"]`);
  return attr ? loc.getAttribute(attr) : loc.textContent();
}

beforeAll(async () => {
  tracker = await startTestTracker();
  publisher = new EventPublisher(createKafka({ brokers: stack.kafkaBrokers, clientId: 'report-page-test', logger }), logger);
  await publisher.connect();
  const key = issueApiKey({ workspaceId: ws, name: 'report page test' });
  token = key.token;
  await publisher.publish(Topics.apiKeys, [{ key: key.record.keyId, value: key.record }]);
  await publisher.publish(Topics.emailEvents, script().map((e) => ({ key: e.contactId, value: e })));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await publisher?.disconnect();
  await tracker?.stop();
});

async function reportWhenComplete(): Promise<CampaignReport> {
  return waitFor(
    async () => {
      const res = await fetch(`${tracker.url}/campaigns/${campaignId}/report`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) return undefined;
      const r = (await res.json()) as CampaignReport;
      return r.totals.counts.sent === 40 && r.totals.counts.uniqueHumanClicks === 7 ? r : undefined;
    },
    { timeoutMs: 45_000, what: 'the projected report' },
  );
}

test('the page renders the report: every figure shown is the report number', async () => {
  const report = await reportWhenComplete();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

  await page.goto(`${tracker.url}/reports/${campaignId}#key=${encodeURIComponent(token)}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
  expect(errors).toEqual([]);
  expect(page.url()).not.toContain(token); // the key leaves the address bar once read

  const c = report.totals.counts;
  const fmt = (n: number) => n.toLocaleString('en-US');
  expect(await metric(page, 'funnel.sent.total', 'data-value')).toBe(String(c.sent));
  expect(await metric(page, 'funnel.delivered.total', 'data-value')).toBe(String(c.delivered));
  expect(await metric(page, 'funnel.opened.human', 'data-value')).toBe(String(c.uniqueHumanOpens));
  expect(await metric(page, 'funnel.opened.total', 'data-value')).toBe(String(c.uniqueOpens));
  expect(await metric(page, 'funnel.clicked.human', 'data-value')).toBe(String(c.uniqueHumanClicks));
  expect(await metric(page, 'opens.human')).toBe(fmt(c.opensHuman));
  expect(await metric(page, 'opens.machine')).toBe(fmt(c.opens - c.opensHuman));
  expect(await metric(page, 'rate.open.human')).toBe(`${(report.totals.rates.open.human! * 100).toFixed(2)}%`);
  expect(await metric(page, 'rate.open.total')).toBe(`${(report.totals.rates.open.total! * 100).toFixed(2)}%`);

  for (const v of report.variants) {
    const id = v.variantId!;
    expect(await metric(page, `variant.${id}.sent`)).toBe(fmt(v.counts.sent));
    expect(await metric(page, `variant.${id}.uniqueHumanOpens`)).toBe(fmt(v.counts.uniqueHumanOpens));
    const i = v.intervals.openHuman!;
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
    expect(await metric(page, `variant.${id}.openRate`)).toBe(`${pct(i.rate)} [${pct(i.lower)} – ${pct(i.upper)}]`);
  }
  expect(await metric(page, 'link.0.url')).toBe('https://shop.example.com/sale');
  expect(await metric(page, 'link.0.clicks')).toBe(fmt(report.links[0]!.clicks));
  expect(await metric(page, 'client.Apple Mail.opensHuman')).toBe(fmt(report.clients['Apple Mail']!.opensHuman));
  const hourlyOpens = report.hourly.reduce((a, h) => a + h.opens, 0);
  expect(await metric(page, 'hourly.opens', 'data-value')).toBe(String(hourlyOpens));

  if (process.env.PAYAM_SCREENSHOTS === '1') {
    const dir = path.join(__dirname, '..', '..', '..', 'docs', 'screenshots');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'campaign-report.png'), fullPage: true });
  }
  await page.close();
}, 90_000);

test('without a valid key the page shows no data and says why', async () => {
  const page = await browser.newPage();
  await page.goto(`${tracker.url}/reports/${campaignId}#key=pk_0000000000000000_${'x'.repeat(43)}`);
  await page.waitForSelector('body[data-loaded="error"]', { timeout: 20_000 });
  expect(await page.textContent('#state')).toMatch(/not accepted/);
  expect(await page.locator('[data-metric]').count()).toBe(0);
  await page.close();
}, 60_000);
