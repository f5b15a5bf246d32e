// Campaigns end to end against the real stack: resolution, workers, SES emulator, events.
import { Topics } from '@payam/contracts';
import { TokenSigner } from '@payam/tracking-token';
import { emailsTo, readTopic, topicEnd, uniqueName, waitFor } from '@payam/testkit';
import { contactModel } from '../src/contacts/model';
import { progressModel } from '../src/delivery/progress';
import { suppress } from '../src/suppression/service';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';
import { campaignBody, createTemplate, seedAudience, waitForState } from './campaign-fixtures';

jest.setTimeout(120_000);

let h: SenderHarness;
let w: TestWorkspace;
let templateId: string;

beforeAll(async () => {
  h = await startSender({
    dbPrefix: 'payam_test_campaigns',
    env: { SES_MAX_SEND_RATE: '2000', SENDER_SCHEDULER_INTERVAL_MS: '200', SENDER_WORKER_HEARTBEAT_MS: '500', TRACKING_BASE_URL: 'https://t.example.com' },
  });
  w = await h.createWorkspace();
  templateId = await createTemplate(h, w);
});

afterAll(async () => {
  await h?.close();
});

function signer(): TokenSigner {
  return new TokenSigner({
    keys: Object.entries(h.config.TRACKING_KEYS).map(([id, secret]) => ({ id, secret })),
    signingKeyId: h.config.TRACKING_SIGNING_KEY_ID,
  });
}

test('a campaign to 1,000 contacts lands exactly 1,000 personalised, tracked emails and completes', async () => {
  const { listId, contacts } = await seedAudience(h, w, 1000);
  const created = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  expect(created.status).toBe(201);
  expect(created.body.state).toBe('draft');
  const campaignId: string = created.body.campaignId;
  const eventsFrom = await topicEnd(Topics.emailEvents.name);
  const started = await h.as(w.token).post(`/campaigns/${campaignId}/start`);
  expect(started.status).toBe(200);
  const done = await waitForState(h, w, campaignId, 'completed', 120_000);
  expect(done.progress.counts).toMatchObject({ sent: 1000, queued: 0, sending: 0, failed: 0, unknown: 0 });
  expect(done.audienceCounts.recipients).toBe(1000);
  // Its progress notes (the driver's completion check) are dropped once it is complete.
  await waitFor(async () => (await progressModel(h.sender.ctx.conn).countDocuments({ campaignId })) === 0, { what: 'progress notes dropped' });

  const emails = await emailsTo(contacts.map((c) => c.email));
  expect(emails).toHaveLength(1000);
  const byAddress = new Map(emails.map((e) => [e.destination.to[0]!, e]));
  expect(byAddress.size).toBe(1000);
  const s = signer();
  for (const c of contacts) {
    const e = byAddress.get(c.email)!;
    expect(e.subject).toBe(`Hello ${c.firstName}`);
    expect(e.body.html).toContain(`Hi ${c.firstName},`);
    const headers = Object.fromEntries((e.headers ?? []).map((x) => [x.name, x.value]));
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const unsub = /^<https:\/\/t\.example\.com\/u\/([^>]+)>$/.exec(headers['List-Unsubscribe'] ?? '');
    expect(unsub).not.toBeNull();
    expect(s.verify(unsub![1]!)).toMatchObject({ kind: 'unsubscribe', contactId: c.contactId, campaignId, workspaceId: w.workspaceId });
    const click = /href="https:\/\/t\.example\.com\/c\/([^"]+)"/.exec(e.body.html!);
    expect(s.verify(click![1]!)).toMatchObject({ kind: 'click', url: 'https://shop.example.com/sale?a=1&b=2', linkIndex: 0, contactId: c.contactId });
    expect(e.body.html).toContain('href="mailto:help@example.com"');
    expect(e.body.html).toContain('href="#top"');
    const pixel = /<img src="https:\/\/t\.example\.com\/o\/([^"]+)\.gif"/.exec(e.body.html!);
    expect(s.verify(pixel![1]!)).toMatchObject({ kind: 'open', contactId: c.contactId });
    expect(e.body.html).toContain(`href="https://t.example.com/u/${unsub![1]}"`);
  }

  const sent = await readTopic(Topics.emailEvents.name, (r) => (r.value as { campaignId?: string }).campaignId === campaignId, { from: eventsFrom });
  const ids = new Set(sent.map((r) => (r.value as { id: string }).id));
  expect(sent.filter((r) => (r.value as { type: string }).type === 'email.sent').length).toBeGreaterThanOrEqual(1000);
  expect(ids.size).toBe(1000);
}, 180_000);

test('suppressed, unsubscribed, bounced and erased contacts are never mailed and are counted', async () => {
  const { listId, contacts } = await seedAudience(h, w, 20);
  const contactsModel = contactModel(h.sender.ctx.conn);
  await contactsModel.updateOne({ _id: contacts[0]!.contactId }, { $set: { status: 'unsubscribed' } });
  await contactsModel.updateOne({ _id: contacts[1]!.contactId }, { $set: { status: 'bounced' } });
  await contactsModel.updateOne({ _id: contacts[2]!.contactId }, { $set: { erasedAt: new Date(), email: `erased+${contacts[2]!.contactId}@invalid` } });
  await suppress(h.sender.ctx.conn, { workspaceId: w.workspaceId, email: contacts[3]!.email, reason: 'manual' });
  const created = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  const campaignId: string = created.body.campaignId;
  await h.as(w.token).post(`/campaigns/${campaignId}/start`).expect(200);
  const done = await waitForState(h, w, campaignId, 'completed');
  expect(done.audienceCounts).toMatchObject({ recipients: 16, unsubscribed: 1, bounced: 1, erased: 1, suppressed: 1 });
  expect(done.progress.counts).toMatchObject({ sent: 16, suppressed: 4 });
  // The driver settles the finished campaign's figures (campaigns/settle.ts); GET then answers those.
  const settled = await waitFor(
    async () => {
      const p = (await h.as(w.token).get(`/campaigns/${campaignId}`)).body.progress;
      return p.settledAt ? p : false;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'progress settled' },
  );
  expect(settled.counts).toEqual(done.progress.counts);
  expect(settled.total).toBe(20);
  const emails = await emailsTo(contacts.map((c) => c.email));
  expect(emails).toHaveLength(16);
  const mailed = new Set(emails.map((e) => e.destination.to[0]));
  for (const c of contacts.slice(0, 4)) expect(mailed.has(c.email)).toBe(false);
});

test('pause mid-send, a complaint while paused, then resume: everyone else exactly once, the complainer never', async () => {
  const { listId, contacts } = await seedAudience(h, w, 400);
  // Slow this campaign's worker down by pausing it early and checking the queue state.
  const created = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  const campaignId: string = created.body.campaignId;
  await h.as(w.token).post(`/campaigns/${campaignId}/start`).expect(200);
  await waitFor(async () => (await emailsTo(contacts.map((c) => c.email))).length >= 1, { timeoutMs: 30_000, intervalMs: 20 });
  const paused = await h.as(w.token).post(`/campaigns/${campaignId}/pause`).send({});
  if (paused.status === 409) {
    // The whole campaign went out before the pause arrived: still exactly once.
    expect(paused.body.error.details.currentState).toBe('completed');
  } else {
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe('paused');
  }
  await new Promise((r) => setTimeout(r, 1000));
  const mailedWhilePaused = new Set((await emailsTo(contacts.map((c) => c.email))).map((e) => e.destination.to[0]!));
  const victim = contacts.find((c) => !mailedWhilePaused.has(c.email));
  if (victim) {
    await h.sender.ctx.publisher.publish(Topics.emailEvents, [
      {
        key: victim.contactId,
        value: {
          id: crypto.randomUUID(),
          type: 'email.complained',
          schemaVersion: 1,
          occurredAt: new Date().toISOString(),
          workspaceId: w.workspaceId,
          contactId: victim.contactId,
          campaignId: null,
          deliveryId: null,
          recipient: victim.email,
          feedbackType: 'abuse',
        },
      },
    ]);
    await waitFor(async () => (await h.as(w.token).get(`/suppressions/${encodeURIComponent(victim.email)}`)).status === 200, { timeoutMs: 30_000 });
  }
  if (paused.status === 200) {
    const state = await h.as(w.token).get(`/campaigns/${campaignId}`);
    expect(state.body.stateReason).toBeTruthy();
    await h.as(w.token).post(`/campaigns/${campaignId}/resume`).expect(200);
  }
  const done = await waitForState(h, w, campaignId, 'completed');
  const emails = await emailsTo(contacts.map((c) => c.email));
  const counts = new Map<string, number>();
  for (const e of emails) counts.set(e.destination.to[0]!, (counts.get(e.destination.to[0]!) ?? 0) + 1);
  for (const c of contacts) {
    if (c === victim) expect(counts.get(c.email) ?? 0).toBe(0);
    else expect(counts.get(c.email)).toBe(1);
  }
  expect(done.progress.counts.sent).toBe(victim ? 399 : 400);
  if (victim) expect(done.progress.counts.skipped).toBe(1);
});

test('invalid state transitions answer 409 with the current state', async () => {
  const { listId } = await seedAudience(h, w, 1);
  const created = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  const id: string = created.body.campaignId;
  for (const action of ['pause', 'resume']) {
    const res = await h.as(w.token).post(`/campaigns/${id}/${action}`).send({});
    expect(res.status).toBe(409);
    expect(res.body.error.details).toMatchObject({ currentState: 'draft' });
  }
  await h.as(w.token).post(`/campaigns/${id}/cancel`).expect(200);
  for (const action of ['start', 'pause', 'resume', 'cancel']) {
    const res = await h.as(w.token).post(`/campaigns/${id}/${action}`).send({});
    expect(res.status).toBe(409);
    expect(res.body.error.details).toMatchObject({ currentState: 'cancelled' });
  }
  const sched = await h.as(w.token).post(`/campaigns/${id}/schedule`).send({ sendAt: new Date(Date.now() + 60_000).toISOString() });
  expect(sched.status).toBe(409);
});

test('a scheduled campaign starts at its sendAt', async () => {
  const { listId, contacts } = await seedAudience(h, w, 3);
  const sendAt = new Date(Date.now() + 1500).toISOString();
  const created = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId, { sendAt }));
  expect(created.status).toBe(201);
  expect(created.body.state).toBe('scheduled');
  await waitForState(h, w, created.body.campaignId, 'completed');
  expect(await emailsTo(contacts.map((c) => c.email))).toHaveLength(3);
});

test('bad input answers 400 with field paths', async () => {
  const cases: Array<[string, string, unknown, string[]]> = [
    ['post', '/campaigns', { name: '', templateId: 'x y', audience: { lists: [] }, from: { address: 'nope' } }, ['body.name', 'body.templateId', 'body.from.address']],
    ['post', '/campaigns', { name: 'n', templateId: templateId, audience: { lists: ['ls_missing'] }, from: { address: 'a@b.example.com' } }, ['body.audience.lists.0']],
    ['post', '/campaigns', { name: 'n', templateId: 'tpl_missing', audience: { lists: [] }, from: { address: 'a@b.example.com' } }, ['body.audience']],
    ['post', '/campaigns', { name: 'n', templateId, audience: { lists: ['ls_x'] }, from: { address: 'a@b.example.com' }, tags: { campaign: 'x' } }, ['body.tags']],
    ['post', '/campaigns/cmp_1/schedule', { sendAt: 'tomorrow' }, ['body.sendAt']],
    ['post', '/campaigns/cmp_1/schedule', { sendAt: new Date(Date.now() - 3_600_000).toISOString() }, ['body.sendAt']],
    ['post', '/campaigns', campaignBody(templateId, 'ls_x', { sendAt: '2025-12-03T10:00:00Z' }), ['body.sendAt']],
    ['post', '/campaigns/bad id!/pause', { reason: 5 }, ['params.campaignId', 'body.reason']],
    ['get', '/campaigns?limit=0', undefined, ['query.limit']],
    ['get', '/campaigns?cursor=not-one-we-gave', undefined, ['query.cursor']],
  ];
  for (const [method, path, body, paths] of cases) {
    const req = method === 'get' ? h.as(w.token).get(path) : h.as(w.token).post(path).send(body as object);
    const res = await req;
    expect({ path, status: res.status }).toEqual({ path, status: 400 });
    const got = (res.body.error.details as Array<{ path: string }>).map((d) => d.path);
    for (const p of paths) expect(got).toContain(p);
  }
});

test("another workspace's key gets 404 for a campaign", async () => {
  const { listId } = await seedAudience(h, w, 1);
  const created = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  const other = await h.createWorkspace(uniqueName('other'));
  const id: string = created.body.campaignId;
  await h.as(other.token).get(`/campaigns/${id}`).expect(404);
  for (const action of ['start', 'pause', 'resume', 'cancel']) await h.as(other.token).post(`/campaigns/${id}/${action}`).send({}).expect(404);
});

test('lists campaigns newest first a page at a time, with a state filter; every campaign once', async () => {
  const own = await h.createWorkspace();
  const tpl = await createTemplate(h, own);
  const list = await h.as(own.token).post('/lists').send({ name: uniqueName('page') }).expect(201);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await h.as(own.token).post('/campaigns').send(campaignBody(tpl, list.body.listId, { name: `c${i}` })).expect(201);
    ids.push(res.body.campaignId);
  }
  await h.as(own.token).post(`/campaigns/${ids[1]}/cancel`).expect(200);
  await h.as(own.token).post(`/campaigns/${ids[3]}/cancel`).expect(200);

  const walk = async (query: string) => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Array<{ campaignId: string }>; nextCursor: string | null } } = await h.as(own.token).get(`/campaigns?limit=2${query}${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      pages.push(res.body.items.map((c) => c.campaignId));
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    return pages;
  };
  const newestFirst = [...ids].sort().reverse();
  expect(newestFirst).toEqual([...ids].reverse()); // ids sort in the order they were made
  expect(await walk('')).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
  expect((await walk('&state=draft')).flat()).toEqual(newestFirst.filter((id) => id !== ids[1] && id !== ids[3]));
  expect((await walk('&state=cancelled')).flat()).toEqual([ids[3], ids[1]].sort().reverse());
  // Another workspace's key pages through none of them.
  expect((await h.as(w.token).get('/campaigns?limit=200').expect(200)).body.items.map((c: { campaignId: string }) => c.campaignId)).not.toEqual(expect.arrayContaining([ids[0]]));
});
