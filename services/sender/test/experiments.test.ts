// A/B subject-line experiments end to end against the real stack: the test cohort, the
// per-variant figures from email-events.v1, the decision (automatic, fallback, manual), the
// remainder through the normal delivery path, and a restart between the phases.
import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { Topics, type EmailEvent } from '@payam/contracts';
import { emailsTo, waitFor } from '@payam/testkit';
import { buildSender, type Sender } from '../src/app';
import { campaignModel } from '../src/campaigns/model';
import { deliveryModel } from '../src/delivery/model';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';
import { campaignBody, createTemplate, seedAudience, waitForState } from './campaign-fixtures';

jest.setTimeout(240_000);

let h: SenderHarness;
let w: TestWorkspace;
let templateId: string;
let second: Sender | null = null;

beforeAll(async () => {
  h = await startSender({
    dbPrefix: 'payam_test_experiments',
    env: { SES_MAX_SEND_RATE: '2000', SENDER_SCHEDULER_INTERVAL_MS: '200', SENDER_WORKER_HEARTBEAT_MS: '500', TRACKING_BASE_URL: 'https://t.example.com' },
  });
  w = await h.createWorkspace();
  templateId = await createTemplate(h, w);
});

afterAll(async () => {
  await second?.stop();
  await h?.close();
});

const variant = (id: string, subject: string, extra: Record<string, unknown> = {}) => ({ id, subject, ...extra });

function experiment(extra: Record<string, unknown> = {}) {
  return {
    variants: [variant('A', 'Spring sale, {{first_name}}'), variant('B', 'Last chance: 30% off, {{first_name}}', { fromName: 'Shop Team' })],
    testShare: 0.2,
    metric: 'unique_human_open_rate',
    decideAfter: '1h',
    minSamplePerVariant: 50,
    notSignificantPolicy: 'control',
    ...extra,
  };
}

async function createAndStart(http: SenderHarness['as'], listId: string, exp: Record<string, unknown>): Promise<string> {
  const created = await http(w.token).post('/campaigns').send(campaignBody(templateId, listId, { experiment: exp }));
  expect(created.status).toBe(201);
  expect(created.body.experiment.variants.map((v: { id: string }) => v.id)).toEqual((exp.variants as Array<{ id: string }>).map((v) => v.id));
  await http(w.token).post(`/campaigns/${created.body.campaignId}/start`).expect(200);
  return created.body.campaignId;
}

async function report(campaignId: string, agent: SenderHarness['as'] = h.as) {
  const res = await agent(w.token).get(`/campaigns/${campaignId}/experiment`);
  expect(res.status).toBe(200);
  return res.body;
}

async function waitForExperiment(campaignId: string, state: string, agent: SenderHarness['as'] = h.as, timeoutMs = 60_000) {
  return waitFor(async () => {
    const r = await report(campaignId, agent);
    return r.state === state ? r : false;
  }, { timeoutMs, intervalMs: 250, what: `experiment ${campaignId} ${state}` });
}

async function testCohort(campaignId: string) {
  return deliveryModel(h.sender.ctx.conn).find({ campaignId, phase: 'test' }).sort({ _id: 1 }).lean();
}

/** Contract-valid opens for these test deliveries, published to email-events.v1 as the tracker would. */
async function publishOpens(deliveries: Array<{ _id: string; contactId: string; campaignId: string; variantId: string | null; email: string }>, machine: boolean) {
  const events: EmailEvent[] = deliveries.map((d) => ({
    id: randomUUID(),
    type: 'email.opened',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    workspaceId: w.workspaceId,
    contactId: d.contactId,
    campaignId: d.campaignId,
    deliveryId: d._id,
    variantId: d.variantId,
    messageId: null,
    recipient: d.email,
    source: 'pixel',
    classification: {
      client: machine ? 'Apple Mail Privacy Protection' : 'Thunderbird',
      clientVersion: null,
      os: null,
      device: machine ? 'proxy' : 'desktop',
      machine,
      machineReasons: machine ? ['apple_mpp'] : [],
      ip: null,
      userAgent: null,
    },
  }));
  for (let i = 0; i < events.length; i += 500) {
    await h.sender.ctx.publisher.publish(Topics.emailEvents, events.slice(i, i + 500).map((e) => ({ key: e.contactId, value: e })));
  }
}

function byVariant<T extends { variantId: string | null }>(ds: T[], id: string): T[] {
  return ds.filter((d) => d.variantId === id);
}

async function waitForOpens(campaignId: string, expected: Record<string, { human: number; total: number }>) {
  await waitFor(async () => {
    const r = await report(campaignId);
    return r.variants.every((v: { variantId: string; opens: { human: number; total: number } }) => {
      const e = expected[v.variantId];
      return !e || (v.opens.human === e.human && v.opens.total === e.total);
    });
  }, { timeoutMs: 60_000, intervalMs: 250, what: 'opens recorded' });
}

/** Every address mailed exactly once; returns the subjects by address. */
async function mailedOnce(addresses: string[]): Promise<Map<string, { subject: string; from: string }>> {
  const emails = await emailsTo(addresses);
  const by = new Map<string, { subject: string; from: string }>();
  const counts = new Map<string, number>();
  for (const e of emails) {
    const to = e.destination.to[0]!;
    counts.set(to, (counts.get(to) ?? 0) + 1);
    by.set(to, { subject: e.subject, from: (e as { from?: string }).from ?? '' });
  }
  expect(by.size).toBe(addresses.length);
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
  expect(emails).toHaveLength(addresses.length);
  return by;
}

test('2,000 contacts: B wins at decideAfter on human opens (machine opens on A ignored) and goes to the remaining 80%, everyone mailed once', async () => {
  const { listId, contacts } = await seedAudience(h, w, 2000, 'ab');
  const campaignId = await createAndStart(h.as, listId, experiment({ decideAfter: '1m' }));
  const r0 = await waitForExperiment(campaignId, 'waiting_for_decision');
  expect(r0.decisionDueAt).not.toBeNull();

  // Assignment: 20% test cohort split evenly, recorded on each delivery; nothing else enqueued yet.
  const cohort = await testCohort(campaignId);
  expect(cohort).toHaveLength(400);
  const a = byVariant(cohort, 'A');
  const b = byVariant(cohort, 'B');
  expect([a.length, b.length]).toEqual([200, 200]);
  expect(await deliveryModel(h.sender.ctx.conn).countDocuments({ campaignId, phase: 'remainder' })).toBe(0);
  expect(r0.variants.map((v: { sent: number }) => v.sent)).toEqual([200, 200]);
  // The driver sees the cohort sent by the workers' progress notes against this figure (exact
  // counts scan deliveries and outcomes: seconds per look on FerretDB).
  expect((await campaignModel(h.sender.ctx.conn).findById(campaignId).lean())!.resolution.queued).toBe(400);

  // B: 90 human openers of 200; A: 30 human openers, and machine opens on every A delivery.
  await publishOpens(b.slice(0, 90), false);
  await publishOpens(a.slice(0, 30), false);
  await publishOpens(a, true);
  await waitForOpens(campaignId, { A: { human: 30, total: 200 }, B: { human: 90, total: 90 } });

  await waitForState(h, w, campaignId, 'completed', 180_000);
  const r = await report(campaignId);
  expect(r.state).toBe('completed');
  expect(r.decision).toMatchObject({ winnerId: 'B', basis: 'significant' });
  expect(r.decision.by).toMatch(/^scheduler:/);
  expect(new Date(r.decision.decidedAt).getTime()).toBeGreaterThanOrEqual(new Date(r.decisionDueAt).getTime());
  const [va, vb] = r.variants;
  expect(va).toMatchObject({ variantId: 'A', sent: 200, opens: { human: 30, total: 200 } });
  expect(vb).toMatchObject({ variantId: 'B', sent: 200, opens: { human: 90, total: 90 } });
  expect(va.metric).toMatchObject({ name: 'unique_human_open_rate', successes: 30, trials: 200, rate: 0.15 });
  expect(vb.metric.lower).toBeLessThan(0.45);
  expect(vb.metric.upper).toBeGreaterThan(0.45);
  expect(vb.pValue).toBeLessThan(0.001);
  expect(va.pValue).toBeNull();
  expect(r.remainder).toMatchObject({ variantId: 'B', recipients: 1600, sent: 1600 });
  // Completion by the same notes: cohort and remainder together.
  expect((await campaignModel(h.sender.ctx.conn).findById(campaignId).lean())!.resolution.queued).toBe(2000);

  const mailed = await mailedOnce(contacts.map((c) => c.email));
  const variantOf = new Map(cohort.map((d) => [d.email, d.variantId]));
  for (const c of contacts) {
    const v = variantOf.get(c.email) ?? 'B'; // outside the cohort: the remainder got the winner
    const subject = v === 'A' ? `Spring sale, ${c.firstName}` : `Last chance: 30% off, ${c.firstName}`;
    expect({ email: c.email, subject: mailed.get(c.email)!.subject }).toEqual({ email: c.email, subject });
  }
  const remainder = await deliveryModel(h.sender.ctx.conn).find({ campaignId, phase: 'remainder' }).lean();
  expect(remainder).toHaveLength(1600);
  expect(remainder.every((d) => d.variantId === 'B')).toBe(true);

  // Decided once: a manual pick now answers 409 with the decision.
  const again = await h.as(w.token).post(`/campaigns/${campaignId}/experiment/winner`).send({ variantId: 'A' });
  expect(again.status).toBe(409);
  expect(again.body.error.details.decision).toMatchObject({ winnerId: 'B', basis: 'significant' });
});

test('a tie: the not-significant policy picks the control and the report says so', async () => {
  const { listId, contacts } = await seedAudience(h, w, 400, 'tie');
  const campaignId = await createAndStart(h.as, listId, experiment({ testShare: 0.5 }));
  await waitForExperiment(campaignId, 'waiting_for_decision');
  const cohort = await testCohort(campaignId);
  await publishOpens(byVariant(cohort, 'A').slice(0, 20), false);
  await publishOpens(byVariant(cohort, 'B').slice(0, 22), false);
  await waitForOpens(campaignId, { A: { human: 20, total: 20 }, B: { human: 22, total: 22 } });
  const { decision, created } = await h.sender.ctx.experiments.decideAuto(campaignId, 'test');
  expect(created).toBe(true);
  expect(decision).toMatchObject({ winnerId: 'A', basis: 'fallback_control' });
  await waitForState(h, w, campaignId, 'completed');
  const r = await report(campaignId);
  expect(r.decision).toMatchObject({ winnerId: 'A', basis: 'fallback_control' });
  expect(r.decision.reason).toMatch(/policy/);
  expect(r.variants[1].significant).toBe(false);
  const mailed = await mailedOnce(contacts.map((c) => c.email));
  const inCohort = new Set(cohort.map((d) => d.email));
  for (const c of contacts) if (!inCohort.has(c.email)) expect(mailed.get(c.email)!.subject).toBe(`Spring sale, ${c.firstName}`);
});

test('machine opens piled onto A do not turn a B win into an A win', async () => {
  const { listId } = await seedAudience(h, w, 400, 'mach');
  const campaignId = await createAndStart(h.as, listId, experiment({ testShare: 0.5, notSignificantPolicy: 'best_observed' }));
  await waitForExperiment(campaignId, 'waiting_for_decision');
  const cohort = await testCohort(campaignId);
  const a = byVariant(cohort, 'A');
  const b = byVariant(cohort, 'B');
  await publishOpens(a.slice(0, 10), false);
  await publishOpens(a, true);
  await publishOpens(a, true); // repeated machine opens: more events, same unique figures
  await publishOpens(b.slice(0, 40), false);
  await waitForOpens(campaignId, { A: { human: 10, total: a.length }, B: { human: 40, total: 40 } });
  // Decide only once every machine open is counted: the second wave adds events, not uniques.
  await waitFor(async () => (await report(campaignId)).variants[0].opens.events === 10 + 2 * a.length, {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: 'every machine open counted',
  });
  const { decision } = await h.sender.ctx.experiments.decideAuto(campaignId, 'test');
  expect(decision).toMatchObject({ winnerId: 'B', basis: 'significant' });
  const r = await report(campaignId);
  expect(r.variants[0].opens.events).toBe(10 + 2 * a.length);
  expect(r.variants[0].metric.successes).toBe(10);
  await waitForState(h, w, campaignId, 'completed');
});

test('three variants: each against the control with Holm-adjusted p-values', async () => {
  const { listId, contacts } = await seedAudience(h, w, 600, 'three');
  const exp = experiment({
    testShare: 0.5,
    variants: [variant('A', 'Control subject'), variant('B', 'Challenger B', { preheader: 'Only today' }), variant('C', 'Challenger C')],
  });
  const campaignId = await createAndStart(h.as, listId, exp);
  await waitForExperiment(campaignId, 'waiting_for_decision');
  const cohort = await testCohort(campaignId);
  expect([byVariant(cohort, 'A').length, byVariant(cohort, 'B').length, byVariant(cohort, 'C').length]).toEqual([100, 100, 100]);
  await publishOpens(byVariant(cohort, 'A').slice(0, 10), false);
  await publishOpens(byVariant(cohort, 'B').slice(0, 35), false);
  await publishOpens(byVariant(cohort, 'C').slice(0, 14), false);
  await waitForOpens(campaignId, { A: { human: 10, total: 10 }, B: { human: 35, total: 35 }, C: { human: 14, total: 14 } });
  const { decision } = await h.sender.ctx.experiments.decideAuto(campaignId, 'test');
  expect(decision).toMatchObject({ winnerId: 'B', basis: 'significant' });
  const [ca, cb, cc] = decision.comparisons;
  expect(ca).toMatchObject({ variantId: 'A', pValue: null, adjustedPValue: null });
  // Holm with two comparisons: the smaller p-value is doubled, the larger kept (monotone).
  expect(cb!.adjustedPValue).toBeCloseTo(Math.min(1, 2 * cb!.pValue!), 12);
  expect(cc!.adjustedPValue).toBeCloseTo(Math.max(cb!.adjustedPValue!, cc!.pValue!), 12);
  expect(cc!.significant).toBe(false);
  await waitForState(h, w, campaignId, 'completed');
  const r = await report(campaignId);
  expect(r.variants.map((v: { adjustedPValue: number | null }) => v.adjustedPValue)).toEqual([null, cb!.adjustedPValue, cc!.adjustedPValue]);
  const mailed = await mailedOnce(contacts.map((c) => c.email));
  expect([...mailed.values()].filter((m) => m.subject === 'Challenger B').length).toBe(100 + 300);
  const html = (await emailsTo([byVariant(cohort, 'B')[0]!.email]))[0]!.body.html!;
  expect(html).toContain('Only today');
});

test('restart between the phases: the new instance decides once and sends the remainder once', async () => {
  const { listId, contacts } = await seedAudience(h, w, 500, 'restart');
  const campaignId = await createAndStart(h.as, listId, experiment());
  await waitForExperiment(campaignId, 'waiting_for_decision');
  const cohort = await testCohort(campaignId);
  await publishOpens(byVariant(cohort, 'A').slice(0, 5), false);
  await waitForOpens(campaignId, { A: { human: 5, total: 5 } });

  // Stop the instance after the test phase; a new one starts on the same database.
  await h.sender.stop();
  const ctx = h.sender.ctx;
  second = buildSender({ config: ctx.config, logger: ctx.logger, metrics: ctx.metrics, conn: ctx.conn, kafka: ctx.kafka, publisher: ctx.publisher, groupPrefix: ctx.groupPrefix });
  await second.start();
  const http2 = supertest(second.app);
  const as2: SenderHarness['as'] = (token) => ({
    get: (p) => http2.get(p).set('Authorization', `Bearer ${token}`),
    post: (p) => http2.post(p).set('Authorization', `Bearer ${token}`),
    put: (p) => http2.put(p).set('Authorization', `Bearer ${token}`),
    patch: (p) => http2.patch(p).set('Authorization', `Bearer ${token}`),
    delete: (p) => http2.delete(p).set('Authorization', `Bearer ${token}`),
  });
  expect((await report(campaignId, as2)).state).toBe('waiting_for_decision');

  // Two deciders at once (the old process's service and the new one's): one decision only.
  const results = await Promise.all([ctx.experiments.decideAuto(campaignId, 'old'), second.ctx.experiments.decideAuto(campaignId, 'new')]);
  expect(results.filter((x) => x.created)).toHaveLength(1);
  expect(results[0].decision).toEqual(results[1].decision);
  const manual = await as2(w.token).post(`/campaigns/${campaignId}/experiment/winner`).send({ variantId: 'B' });
  expect(manual.status).toBe(409);

  const done = await waitFor(async () => {
    const r = await report(campaignId, as2);
    return r.state === 'completed' ? r : false;
  }, { timeoutMs: 60_000, intervalMs: 250, what: 'completed after restart' });
  expect(done.remainder).toMatchObject({ recipients: 400, sent: 400, variantId: done.decision.winnerId });
  await mailedOnce(contacts.map((c) => c.email));
});

test('manual pick before the decision time is recorded as manual', async () => {
  const live = second ? (token: string) => ({ post: (p: string) => supertest(second!.app).post(p).set('Authorization', `Bearer ${token}`) }) : h.as;
  const { listId, contacts } = await seedAudience(h, w, 50, 'manual');
  const created = await live(w.token).post('/campaigns').send(campaignBody(templateId, listId, { experiment: experiment({ testShare: 0.4 }) }));
  const campaignId: string = created.body.campaignId;
  await live(w.token).post(`/campaigns/${campaignId}/start`).expect(200);
  const picked = await live(w.token).post(`/campaigns/${campaignId}/experiment/winner`).send({ variantId: 'B' });
  expect(picked.status).toBe(200);
  expect(picked.body).toMatchObject({ winnerId: 'B', basis: 'manual' });
  const again = await live(w.token).post(`/campaigns/${campaignId}/experiment/winner`).send({ variantId: 'A' });
  expect(again.status).toBe(409);
  expect(again.body.error.details.decision).toMatchObject({ winnerId: 'B', basis: 'manual' });
  await waitFor(async () => (await emailsTo(contacts.map((c) => c.email))).length === 50, { timeoutMs: 60_000, what: '50 emails' });
  await mailedOnce(contacts.map((c) => c.email));
});

test('bad experiment configurations answer 400 with field paths', async () => {
  const { listId } = await seedAudience(h, w, 1, 'bad');
  const five = ['A', 'B', 'C', 'D', 'E'].map((id) => variant(id, `S ${id}`));
  const cases: Array<[Record<string, unknown>, string[]]> = [
    [{ variants: [variant('A', 'only one')] }, ['body.experiment.variants']],
    [{ variants: [variant('A', 'x'), variant('A', 'y')] }, ['body.experiment.variants.1.id']],
    [{ variants: [...five, variant('F', 'six')] }, ['body.experiment.variants']],
    [{ testShare: 0.6 }, ['body.experiment.testShare']],
    [{ testShare: 0 }, ['body.experiment.testShare']],
    [{ variants: five, testShare: 0.02 }, ['body.experiment.testShare']],
    [{ metric: 'revenue' }, ['body.experiment.metric']],
    [{ decideAfter: '30s' }, ['body.experiment.decideAfter']],
    [{ decideAfter: 'soon' }, ['body.experiment.decideAfter']],
    [{ confidence: 0.5 }, ['body.experiment.confidence']],
    [{ notSignificantPolicy: 'coin' }, ['body.experiment.notSignificantPolicy']],
    [{ variants: [variant('A', 'x'), variant('B', 'line\nbreak')] }, ['body.experiment.variants.1.subject']],
  ];
  for (const [override, paths] of cases) {
    const res = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId, { experiment: experiment(override) }));
    expect({ override, status: res.status }).toEqual({ override, status: 400 });
    const got = (res.body.error.details as Array<{ path: string }>).map((d) => d.path);
    for (const p of paths) expect({ override, got }).toEqual({ override, got: expect.arrayContaining([p]) });
  }
  const ok = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId, { experiment: experiment() }));
  expect(ok.status).toBe(201);
  const unknown = await h.as(w.token).post(`/campaigns/${ok.body.campaignId}/experiment/winner`).send({ variantId: 'Z' });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.details.map((d: { path: string }) => d.path)).toContain('body.variantId');
  const plain = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  await h.as(w.token).get(`/campaigns/${plain.body.campaignId}/experiment`).expect(404);
});
