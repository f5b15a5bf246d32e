// Workspace and key, the CSV import, and the purchases that make loyalty tiers.
import { call, DemoError, expectStatus, until } from './client';
import type { Story } from './context';
import { makeContacts, makePurchases, tierOf, toCsv, type DemoContact, type Tier } from './data';

export type Person = DemoContact & { contactId: string };

export async function createWorkspace(s: Story): Promise<void> {
  const res = await expectStatus(201, s.e.sender, 'POST', '/admin/workspaces', { token: s.e.adminSecret, json: { name: `Demo shop ${s.runTag}`, keyName: 'demo' } }).catch((err: Error) => {
    throw new DemoError(`${err.message}${/answered 401/.test(err.message) ? ' (set ADMIN_SECRET to the sender\'s admin secret)' : ''}`);
  });
  s.workspaceId = res.workspace.workspaceId;
  s.token = res.apiKey.token;
  // The key reaches the segmenter and the tracker through Kafka (api-keys.v1): wait until both know it.
  await until('the new API key to reach the segmenter and the tracker', async () => {
    const [seg, trk] = await Promise.all([call(s.e.segmenter, 'GET', '/segments', { token: s.token }), call(s.e.tracker, 'GET', '/campaigns/cmp_none/report', { token: s.token })]);
    return seg.status === 200 && trk.status !== 401;
  }, s.o.stepTimeoutMs, 300);
  s.log(`workspace ${s.workspaceId} with API key ${res.apiKey.keyId} (known to all three services)`);
}

export async function importContacts(s: Story): Promise<{ people: Person[]; listId: string; importFigures: Record<string, number> }> {
  const demo = makeContacts(s.o.contacts, s.runTag);
  const list = await s.sender('POST', '/lists', 201, { name: 'Newsletter' });
  const listId: string = list.listId;
  const started = await expectStatus(202, s.e.sender, 'POST', `/imports?format=csv&listId=${listId}`, { token: s.token, body: toCsv(demo), contentType: 'text/csv' });
  const done = await until(
    `import ${started.importId} of ${demo.length} contacts`,
    async () => {
      const v = await s.sender('GET', `/imports/${started.importId}`, 200);
      if (v.state === 'failed') throw new DemoError(`import failed: ${v.failure}`);
      return v.state === 'completed' ? v : undefined;
    },
    s.o.stepTimeoutMs,
    500,
  );
  s.log(`imported ${done.created} contacts from CSV (${done.bytes} bytes; ${done.failed} rows failed)`);
  // email → contact id, through the contacts API (what a CRM sync would do).
  const byEmail = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const page: { items: Array<{ contactId: string; email: string }>; nextCursor: string | null } = await s.sender('GET', `/contacts?limit=500&listId=${listId}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, 200);
    for (const c of page.items) byEmail.set(c.email, c.contactId);
    cursor = page.nextCursor;
  } while (cursor);
  const people = demo.map((d) => {
    const contactId = byEmail.get(d.email);
    if (!contactId) throw new DemoError(`imported contact ${d.email} not found through GET /contacts`);
    return { ...d, contactId };
  });
  return { people, listId, importFigures: { processed: done.processed, created: done.created, failed: done.failed } };
}

/** Built-in models switched on through the segmenter API; returns template key → segment id. */
export async function switchOnSegments(s: Story, templates: string[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const template of templates) {
    const seg = await s.segmenter('POST', '/segments/from-template', 201, { template });
    ids[template] = seg.id;
    if (seg.recomputeJobId) {
      await until(`segment ${template} first computation`, async () => (await s.segmenter('GET', `/recompute/${seg.recomputeJobId}`, 200)).status === 'done', s.o.stepTimeoutMs);
    }
  }
  s.log(`segments switched on: ${templates.join(', ')}`);
  return ids;
}

export async function members(s: Story, segmentId: string): Promise<Set<string>> {
  const out = new Set<string>();
  let cursor: string | null = null;
  do {
    const page: { contactIds: string[]; nextCursor: string | null } = await s.segmenter('GET', `/segments/${segmentId}/members?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, 200);
    page.contactIds.forEach((c) => out.add(c));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Waits until the segment has exactly `expected` members (segments move as events flow). */
export async function settle(s: Story, name: string, segmentId: string, expected: Set<string>): Promise<Set<string>> {
  let last = new Set<string>();
  try {
    return await until(`segment ${name} to reach ${expected.size} members`, async () => {
      last = await members(s, segmentId);
      return last.size === expected.size && [...expected].every((c) => last.has(c)) ? last : undefined;
    }, s.o.stepTimeoutMs, 1000);
  } catch (err) {
    throw new DemoError(`${(err as Error).message} (has ${last.size})`);
  }
}

export interface PurchaseFigures {
  buyers: number;
  events: number;
  revenue: number;
  expected: Record<Tier, Set<string>>;
}

/** Purchase events for some contacts through POST /events, spread over the last 60 days. */
export async function postPurchases(s: Story, people: Person[]): Promise<PurchaseFigures> {
  const plan = makePurchases(people.length);
  const day = 86_400_000;
  const events: unknown[] = [];
  const expected: Record<Tier, Set<string>> = { gold: new Set(), silver: new Set(), red: new Set() };
  let revenue = 0;
  for (const [i, amounts] of plan) {
    const p = people[i]!;
    amounts.forEach((amount, k) => {
      events.push({ type: 'contact.purchase', contactId: p.contactId, amount, currency: 'EUR', occurredAt: new Date(Date.now() - (50 - k * 15) * day).toISOString(), idempotencyKey: `${s.runTag}:purchase:${i}:${k}` });
      revenue += amount;
    });
    expected[tierOf(amounts.reduce((a, b) => a + b, 0))!].add(p.contactId);
  }
  for (let i = 0; i < events.length; i += 1000) {
    const r = await call(s.e.segmenter, 'POST', '/events', { token: s.token, json: { events: events.slice(i, i + 1000) } });
    if (r.status !== 202) throw new DemoError(`POST /events answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
  }
  s.log(`posted ${events.length} purchase events for ${plan.size} buyers (EUR ${revenue.toLocaleString('en')})`);
  return { buyers: plan.size, events: events.length, revenue, expected };
}
