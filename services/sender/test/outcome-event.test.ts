// The proof the send engine relies on to publish its email.sent / email.failed events without a
// second schema check (publish(..., { validate: false })): every event outcomeEvent builds from
// inputs of the shapes it gets passes EmailEvent.
import fc from 'fast-check';
import { EmailEvent } from '@payam/contracts';
import { outcomeEvent, type DeliveryResult } from '../src/delivery/outcome-event';

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const job = fc.record({ deliveryId: id, workspaceId: id, contactId: id });
const variantId = fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), { nil: null });
const recipient = fc.option(fc.string({ maxLength: 320, size: 'max' }), { nil: null });
const result: fc.Arbitrary<DeliveryResult> = fc.oneof(
  fc.record({ state: fc.constant('sent' as const), messageId: fc.string({ maxLength: 400, size: 'max' }), subject: fc.string({ maxLength: 3000, size: 'max' }) }),
  fc.record({
    state: fc.constantFrom('failed' as const, 'skipped' as const),
    code: fc.string({ maxLength: 300, size: 'max' }),
    reason: fc.string({ maxLength: 5000, size: 'max' }),
  }),
);

test('every event outcomeEvent builds passes EmailEvent (texts from SES and errors of any length)', () => {
  fc.assert(
    fc.property(
      job,
      id,
      variantId,
      result,
      recipient,
      fc.date({ min: new Date(0), max: new Date('2100-01-01'), noInvalidDate: true }),
      (j, campaignId, v, r, to, at) => {
        const event = outcomeEvent(j, campaignId, v, r, to, at);
        const parsed = EmailEvent.safeParse(event);
        if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
        expect(event.type).toBe(r.state === 'sent' ? 'email.sent' : 'email.failed');
      },
    ),
    { numRuns: 500 },
  );
});

test('the event id is the same for a redelivered job, and differs between sent and failed', () => {
  const j = { deliveryId: 'dl_1', workspaceId: 'ws_1', contactId: 'ct_1' };
  const sent: DeliveryResult = { state: 'sent', messageId: 'm-1', subject: 'Hi' };
  const a = outcomeEvent(j, 'cp_1', null, sent, 'a@example.com', new Date(1));
  expect(outcomeEvent(j, 'cp_1', null, sent, 'a@example.com', new Date(2)).id).toBe(a.id);
  expect(outcomeEvent(j, 'cp_1', null, { state: 'failed', code: 'x', reason: 'y' }, null, new Date(1)).id).not.toBe(a.id);
});
