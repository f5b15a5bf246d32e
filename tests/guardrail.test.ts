// Across services: complaints about a running campaign reach the tracker, its guardrail trips
// (campaign-signals.v1), and the sender pauses the campaign with the guardrail's reason.
import { deterministicEventId, Topics, type EmailEvent } from '@payam/contracts';
import { emailsTo, uniqueName, waitFor } from '@payam/testkit';
import { outcomeModel } from '../services/sender/src/delivery/model';
import { startSender, type SenderHarness, type TestWorkspace } from '../services/sender/test/sender-harness';
import { campaignBody, createTemplate, seedAudience } from '../services/sender/test/campaign-fixtures';
import { placeSenderGroups } from '../services/sender/test/group-offsets';
import { startTestTracker } from '../services/tracker/test/helpers';

jest.setTimeout(90_000);

const RECIPIENTS = 300;
const MIN_DELIVERIES = 20;

let sender: SenderHarness;
let tracker: Awaited<ReturnType<typeof startTestTracker>>;
let w: TestWorkspace;

beforeAll(async () => {
  const groupPrefix = uniqueName('test_guardrail');
  await placeSenderGroups(groupPrefix);
  [sender, tracker] = await Promise.all([
    startSender({
      dbPrefix: 'payam_test_guardrail_sender',
      groupPrefix,
      // Slow enough that the campaign is still sending when the signal arrives (300 at 20/s: 15 s).
      env: { SES_MAX_SEND_RATE: '20', SENDER_SCHEDULER_INTERVAL_MS: '200', SENDER_WORKER_HEARTBEAT_MS: '500' },
    }),
    // The tracker's stats group starts at the end of email-events.v1 and its database is its own.
    startTestTracker({ env: { GUARDRAIL_MIN_DELIVERIES: String(MIN_DELIVERIES), GUARDRAIL_COMPLAINT_RATE: '0.003' } }),
  ]);
  w = await sender.createWorkspace('guardrail');
});

afterAll(async () => {
  await tracker?.conn.dropDatabase().catch(() => undefined);
  await tracker?.stop();
  await sender?.close();
});

/** What the tracker's SNS handler would publish for an SES notification about one of our messages. */
function sesEvent(
  type: 'email.delivered' | 'email.complained',
  o: { _id: string; contactId: string; campaignId: string; messageId: string | null },
  recipient: string,
): EmailEvent {
  const base = {
    id: deterministicEventId(type, o.messageId ?? o._id),
    schemaVersion: 1 as const,
    occurredAt: new Date().toISOString(),
    workspaceId: w.workspaceId,
    contactId: o.contactId,
    campaignId: o.campaignId,
    deliveryId: o._id,
    variantId: null,
    messageId: o.messageId,
    recipient,
  };
  return type === 'email.delivered'
    ? { ...base, type, smtpResponse: '250 2.0.0 OK', processingTimeMs: 420 }
    : { ...base, type, feedbackType: 'abuse' };
}

test('complaints above the rate pause the running campaign through the tracker guardrail, with the reason', async () => {
  const templateId = await createTemplate(sender, w);
  const { listId, contacts } = await seedAudience(sender, w, RECIPIENTS, 'guard');
  const emailOf = new Map(contacts.map((c) => [c.contactId, c.email]));
  const created = await sender.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  expect(created.status).toBe(201);
  const campaignId: string = created.body.campaignId;
  await sender.as(w.token).post(`/campaigns/${campaignId}/start`).expect(200);

  // The first MIN_DELIVERIES + 5 messages are out (their outcomes recorded, so their ids are known).
  const sent = await waitFor(
    async () => {
      const docs = await outcomeModel(sender.sender.ctx.conn).find({ campaignId, state: 'sent' }).lean();
      return docs.length >= MIN_DELIVERIES + 5 ? docs : false;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: 'the first sends' },
  );
  const running = await sender.as(w.token).get(`/campaigns/${campaignId}`);
  expect(running.body.state).toBe('running');

  // SES reports them delivered and two recipients press "spam": far above 0.3%.
  const events: EmailEvent[] = [
    ...sent.map((o) => sesEvent('email.delivered', o, emailOf.get(o.contactId)!)),
    ...sent.slice(0, 2).map((o) => sesEvent('email.complained', o, emailOf.get(o.contactId)!)),
  ];
  await tracker.publisher.publish(
    Topics.emailEvents,
    events.map((e) => ({ key: e.contactId, value: e })),
  );

  const paused = await waitFor(
    async () => {
      const res = await sender.as(w.token).get(`/campaigns/${campaignId}`);
      return res.body.state === 'paused' ? res.body : false;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: 'the campaign paused by the guardrail' },
  );
  // The guardrail judges as the events arrive, and they arrive on several partitions: it trips
  // at whatever delivery count it has seen when the second complaint lands, at least the minimum.
  const reason = /^guardrail complaint_rate: complaint rate (\d+\.\d\d)% \(2 complaints in (\d+) deliveries\) is above 0\.30%$/.exec(
    paused.stateReason,
  );
  expect(reason).not.toBeNull();
  const counted = Number(reason![2]);
  expect(counted).toBeGreaterThanOrEqual(MIN_DELIVERIES);
  expect(counted).toBeLessThanOrEqual(sent.length);
  expect(reason![1]).toBe(((2 / counted) * 100).toFixed(2));
  expect(paused.pausedAt).toEqual(expect.any(String));
  const trip = await tracker.stats.guardrailTrips.findOne({ _id: `${w.workspaceId}:${campaignId}:complaint_rate` });
  expect(trip).not.toBeNull();

  // Sends in flight at the pause finish; after that nothing more goes out.
  await new Promise((r) => setTimeout(r, 1500));
  const settled = (await emailsTo(contacts.map((c) => c.email))).length;
  await new Promise((r) => setTimeout(r, 1500));
  expect((await emailsTo(contacts.map((c) => c.email))).length).toBe(settled);
  expect(settled).toBeLessThan(RECIPIENTS);
  // The deliveries not sent went back to the queue (their claims withdrawn), to wait for a resume.
  const after = await waitFor(
    async () => {
      const body = (await sender.as(w.token).get(`/campaigns/${campaignId}`)).body;
      return body.progress.counts.sending === 0 ? body : false;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: 'the claims of unsent deliveries withdrawn' },
  );
  expect(after.state).toBe('paused');
  expect(after.progress.counts.queued).toBe(RECIPIENTS - settled);
});
