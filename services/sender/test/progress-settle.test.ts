// A finished campaign's counts are settled once nothing of it is in flight (campaigns/settle.ts),
// and GET /campaigns/:id then answers them without counting. No driver runs here: the test
// drives the settler itself, against the real database.
import { createLogger } from '@payam/observability';
import { ProgressSettler } from '../src/campaigns/settle';
import { claimModel, deliveryModel, outcomeModel } from '../src/delivery/model';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';
import { campaignBody, createTemplate, seedAudience } from './campaign-fixtures';

let h: SenderHarness;
let w: TestWorkspace;
let templateId: string;
let listId: string;
const logger = createLogger({ service: 'settle-test', level: 'silent' });

beforeAll(async () => {
  h = await startSender({ dbPrefix: 'payam_test_sender_settle', only: [] });
  w = await h.createWorkspace('S');
  templateId = await createTemplate(h, w);
  listId = (await seedAudience(h, w, 2)).listId;
});
afterAll(async () => {
  await h?.close();
});

const progressOf = async (campaignId: string) => (await h.as(w.token).get(`/campaigns/${campaignId}`).expect(200)).body.progress;

function outcome(campaignId: string, deliveryId: string, state: 'sent' | 'failed') {
  return { _id: deliveryId, workspaceId: w.workspaceId, campaignId, contactId: `ct_${deliveryId}`, state, messageId: state === 'sent' ? `m-${deliveryId}` : null, code: null, reason: null, at: new Date() };
}

test('settled only once no send is in flight; then GET answers the settled figures', async () => {
  const { campaignId } = (await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId)).expect(201)).body;
  // Never started: nothing to count.
  expect(await progressOf(campaignId)).toMatchObject({ total: 0, settledAt: null });

  // Two deliveries, both claimed; one has landed, the other is still being sent when the campaign is cancelled.
  const conn = h.sender.ctx.conn;
  const delivery = (id: string) => ({ _id: id, workspaceId: w.workspaceId, campaignId, contactId: `ct_${id}`, email: `${id}@example.com`, variantId: null, phase: 'all', state: 'queued', reason: null, createdAt: new Date() });
  await deliveryModel(conn).collection.insertMany([delivery(`${campaignId}_1`), delivery(`${campaignId}_2`)] as never[]);
  await claimModel(conn).collection.insertMany([1, 2].map((i) => ({ _id: `${campaignId}_${i}`, campaignId, workerId: 'wk_test', claimedAt: new Date() })) as never[]);
  await outcomeModel(conn).collection.insertOne(outcome(campaignId, `${campaignId}_1`, 'sent') as never);
  await h.as(w.token).post(`/campaigns/${campaignId}/cancel`).expect(200);

  const settler = new ProgressSettler(h.sender.ctx.campaigns, logger);
  expect(await settler.settleNext()).toBeNull();
  expect(await progressOf(campaignId)).toMatchObject({ counts: { sending: 1, sent: 1 }, total: 2, settledAt: null });

  await outcomeModel(conn).collection.insertOne(outcome(campaignId, `${campaignId}_2`, 'failed') as never);
  // The same settler waits before counting a campaign that was still moving.
  expect(await settler.settleNext()).toBeNull();
  expect(await new ProgressSettler(h.sender.ctx.campaigns, logger).settleNext()).toBe(campaignId);
  const settled = await progressOf(campaignId);
  expect(settled).toMatchObject({ counts: { queued: 0, sending: 0, sent: 1, failed: 1, cancelled: 0 }, total: 2, ratePerSecond: 0, etaSeconds: 0 });
  expect(Date.parse(settled.settledAt)).toBeGreaterThan(Date.now() - 60_000);

  // Settled figures are not counted again: a stray outcome written now does not show.
  await outcomeModel(conn).collection.insertOne(outcome(campaignId, `${campaignId}_3`, 'sent') as never);
  expect((await progressOf(campaignId)).counts.sent).toBe(1);
  // Nothing is left to settle.
  expect(await new ProgressSettler(h.sender.ctx.campaigns, logger).settleNext()).toBeNull();
});

test('nothing is settled while a campaign is sending', async () => {
  const { campaignId: finished } = (await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId)).expect(201)).body;
  await h.as(w.token).post(`/campaigns/${finished}/cancel`).expect(200);
  const { campaignId: sending } = (await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId)).expect(201)).body;
  // Running as far as the settler can tell (started without a driver here, so nothing moves).
  await h.sender.ctx.campaigns.model.updateOne({ _id: sending }, { $set: { state: 'running' } });
  expect(await new ProgressSettler(h.sender.ctx.campaigns, logger).settleNext()).toBeNull();
  await h.as(w.token).post(`/campaigns/${sending}/cancel`).expect(200);
  const settler = new ProgressSettler(h.sender.ctx.campaigns, logger);
  const settled = [await settler.settleNext(), await settler.settleNext()];
  expect(settled.sort()).toEqual([finished, sending].sort());
});

test("a running campaign is counted by one request at a time, and its count is reused for a while", async () => {
  const { campaignId } = (await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId)).expect(201)).body;
  await h.sender.ctx.campaigns.model.updateOne({ _id: campaignId }, { $set: { state: 'running', startedAt: new Date() } });
  const counts = jest.spyOn(h.sender.ctx.campaigns, 'countProgress');
  try {
    const polls = await Promise.all(Array.from({ length: 5 }, () => progressOf(campaignId)));
    expect(counts).toHaveBeenCalledTimes(1);
    expect(new Set(polls.map((p) => p.countedAt)).size).toBe(1);
    expect((await progressOf(campaignId)).countedAt).toBe(polls[0].countedAt);
    expect(counts).toHaveBeenCalledTimes(1);
    // Another state is another count: a paused campaign's figures are not the running ones'.
    await h.as(w.token).post(`/campaigns/${campaignId}/pause`).send({}).expect(200);
    await progressOf(campaignId);
    expect(counts).toHaveBeenCalledTimes(2);
  } finally {
    counts.mockRestore();
    await h.as(w.token).post(`/campaigns/${campaignId}/cancel`).expect(200);
  }
});
