// Triggered campaigns ("contact entered segment S") end to end: segment-membership.v1 records
// in, one email per contact out, against the real stack.
import { randomUUID } from 'node:crypto';
import { Topics, type SegmentMembershipChanged } from '@payam/contracts';
import { emailsTo, uniqueName, waitFor } from '@payam/testkit';
import { membershipModel } from '../src/audience/model';
import { deliveryIdFor, deliveryModel } from '../src/delivery/model';
import { suppress } from '../src/suppression/service';
import { placeSenderGroups } from './group-offsets';
import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';
import { campaignBody, createTemplate, seedAudience, waitForState } from './campaign-fixtures';

jest.setTimeout(90_000);

// SegmentTriggers keeps the list of running triggered campaigns for this long: a start, pause or
// cancel reaches the trigger path within it.
const TRIGGER_CACHE_MS = 1000;

let h: SenderHarness;
let w: TestWorkspace;
let templateId: string;

beforeAll(async () => {
  const groupPrefix = uniqueName('test_triggers');
  await placeSenderGroups(groupPrefix);
  h = await startSender({
    dbPrefix: 'payam_test_triggers',
    groupPrefix,
    env: { SES_MAX_SEND_RATE: '500', SENDER_SCHEDULER_INTERVAL_MS: '200', SENDER_WORKER_HEARTBEAT_MS: '500' },
  });
  w = await h.createWorkspace('triggers');
  templateId = await createTemplate(h, w);
});

afterAll(async () => {
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function change(type: SegmentMembershipChanged['type'], segmentId: string, contactId: string): SegmentMembershipChanged {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    workspaceId: w.workspaceId,
    contactId,
    segmentId,
    segmentVersion: 1,
  };
}

async function publish(...changes: SegmentMembershipChanged[]): Promise<void> {
  await h.sender.ctx.publisher.publish(
    Topics.segmentMembership,
    changes.map((c) => ({ key: c.contactId, value: c })),
  );
}

/** Resolves once the sender has applied this change (its projection names the event), i.e. after its trigger ran. */
async function applied(c: SegmentMembershipChanged): Promise<void> {
  await waitFor(async () => (await membershipModel(h.sender.ctx.conn).exists({ _id: c.id })) !== null, {
    timeoutMs: 30_000,
    what: `membership change ${c.type} of ${c.contactId} applied`,
  });
}

async function startTriggered(segmentId: string): Promise<string> {
  const { listId } = await seedAudience(h, w, 1, 'unused');
  const body = { ...campaignBody(templateId, listId), audience: { lists: [] }, trigger: { type: 'segment_entered', segmentId } };
  const created = await h.as(w.token).post('/campaigns').send(body);
  expect(created.status).toBe(201);
  const campaignId: string = created.body.campaignId;
  const started = await h.as(w.token).post(`/campaigns/${campaignId}/start`);
  expect(started.status).toBe(200);
  expect(started.body.state).toBe('running');
  await sleep(TRIGGER_CACHE_MS + 200);
  return campaignId;
}

async function emailCounts(addresses: string[]): Promise<Map<string, number>> {
  const counts = new Map(addresses.map((a) => [a, 0]));
  for (const e of await emailsTo(addresses)) {
    const to = e.destination.to[0]!.toLowerCase();
    counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

test('each contact that enters gets exactly one email: entering twice, or leaving and entering again, sends nothing more', async () => {
  const segmentId = uniqueName('seg_enter');
  const campaignId = await startTriggered(segmentId);
  const { contacts } = await seedAudience(h, w, 3, 'trg');
  const [twice, reentered, once] = contacts as [(typeof contacts)[0], (typeof contacts)[0], (typeof contacts)[0]];
  const addresses = contacts.map((c) => c.email);

  await publish(
    change('segment.entered', segmentId, twice.contactId),
    change('segment.entered', segmentId, reentered.contactId),
    change('segment.entered', segmentId, once.contactId),
  );
  await waitFor(async () => [...(await emailCounts(addresses)).values()].every((n) => n >= 1), {
    timeoutMs: 30_000,
    what: 'the first emails',
  });

  // Now the repeats: a second entry, and an exit followed by a new entry.
  const last = [
    change('segment.entered', segmentId, twice.contactId),
    change('segment.exited', segmentId, reentered.contactId),
    change('segment.entered', segmentId, reentered.contactId),
  ];
  await publish(...last);
  await applied(last[0]!);
  await applied(last[2]!);
  await sleep(1500);

  const counts = await emailCounts(addresses);
  expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(addresses.map((a) => [a, 1])));
  const progress = (await h.as(w.token).get(`/campaigns/${campaignId}`)).body;
  expect(progress.state).toBe('running'); // a triggered campaign runs until it is stopped
  expect(progress.progress.counts).toMatchObject({ sent: 3, queued: 0, sending: 0, failed: 0, skipped: 0 });
  for (const c of contacts) expect(await deliveryModel(h.sender.ctx.conn).countDocuments({ campaignId, contactId: c.contactId })).toBe(1);
});

test('a contact entering while the campaign is paused gets nothing, not even after the resume; while it is cancelled, nothing', async () => {
  const segmentId = uniqueName('seg_paused');
  const campaignId = await startTriggered(segmentId);
  const { contacts } = await seedAudience(h, w, 3, 'trgp');
  const [whilePaused, whileCancelled, afterResume] = contacts as [(typeof contacts)[0], (typeof contacts)[0], (typeof contacts)[0]];

  await h.as(w.token).post(`/campaigns/${campaignId}/pause`).send({}).expect(200);
  await sleep(TRIGGER_CACHE_MS + 200);
  const entered = change('segment.entered', segmentId, whilePaused.contactId);
  await publish(entered);
  await applied(entered);
  expect(await deliveryModel(h.sender.ctx.conn).exists({ _id: deliveryIdFor(campaignId, whilePaused.contactId) })).toBeNull();

  await h.as(w.token).post(`/campaigns/${campaignId}/resume`).expect(200);
  await sleep(TRIGGER_CACHE_MS + 200);
  // A contact entering after the resume is mailed: the campaign and the path work.
  await publish(change('segment.entered', segmentId, afterResume.contactId));
  await waitFor(async () => (await emailCounts([afterResume.email])).get(afterResume.email) === 1, {
    timeoutMs: 30_000,
    what: 'the email after the resume',
  });

  await h.as(w.token).post(`/campaigns/${campaignId}/cancel`).expect(200);
  await sleep(TRIGGER_CACHE_MS + 200);
  const late = change('segment.entered', segmentId, whileCancelled.contactId);
  await publish(late);
  await applied(late);
  await sleep(1500);

  const counts = await emailCounts(contacts.map((c) => c.email));
  expect(counts.get(whilePaused.email)).toBe(0);
  expect(counts.get(whileCancelled.email)).toBe(0);
  expect(counts.get(afterResume.email)).toBe(1);
  expect(await deliveryModel(h.sender.ctx.conn).countDocuments({ campaignId })).toBe(1);
  const view = (await h.as(w.token).get(`/campaigns/${campaignId}`)).body;
  expect(view.state).toBe('cancelled');
  expect(view.progress.counts).toMatchObject({ sent: 1, queued: 0 });
});

test('a suppressed contact entering gets nothing and is counted as suppressed', async () => {
  const segmentId = uniqueName('seg_supp');
  const campaignId = await startTriggered(segmentId);
  const { contacts } = await seedAudience(h, w, 2, 'trgs');
  const [suppressed, control] = contacts as [(typeof contacts)[0], (typeof contacts)[0]];
  await suppress(h.sender.ctx.conn, { workspaceId: w.workspaceId, email: suppressed.email, reason: 'manual' });

  const first = change('segment.entered', segmentId, suppressed.contactId);
  await publish(first, change('segment.entered', segmentId, control.contactId));
  await waitFor(async () => (await emailCounts([control.email])).get(control.email) === 1, {
    timeoutMs: 30_000,
    what: 'the control email',
  });
  await applied(first);
  await sleep(1500);

  expect((await emailCounts([suppressed.email])).get(suppressed.email)).toBe(0);
  const delivery = await deliveryModel(h.sender.ctx.conn).findById(deliveryIdFor(campaignId, suppressed.contactId)).lean();
  expect(delivery).toMatchObject({ state: 'suppressed', reason: 'suppressed' });
  const view = (await h.as(w.token).get(`/campaigns/${campaignId}`)).body;
  expect(view.progress.counts).toMatchObject({ sent: 1, suppressed: 1, queued: 0, sending: 0 });
  await waitForState(h, w, campaignId, 'running', 1000);
});
