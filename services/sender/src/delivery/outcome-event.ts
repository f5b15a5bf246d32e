import { deterministicEventId, type EmailEvent, type SendJob } from '@payam/contracts';

/** How one delivery ended, as the send engine records it. */
export type DeliveryResult =
  { state: 'sent'; messageId: string; subject: string } | { state: 'failed' | 'skipped'; code: string; reason: string };

/**
 * The email.sent or email.failed event of one delivery. Built only from what was validated
 * before (the send job, decoded against SendJob; the contact's address and variant from our own
 * documents) plus SES's message id and our own texts, each cut to the schema's limit, so the
 * engine publishes it without a second schema check (`validate: false`); outcome-event.test.ts
 * holds the proof that every value built here passes EmailEvent.
 */
export function outcomeEvent(
  job: Pick<SendJob, 'deliveryId' | 'workspaceId' | 'contactId'>,
  campaignId: string,
  variantId: string | null,
  r: DeliveryResult,
  recipient: string | null,
  at: Date,
): EmailEvent {
  const common = {
    id: deterministicEventId(r.state === 'sent' ? 'email.sent' : 'email.failed', job.deliveryId),
    schemaVersion: 1 as const,
    occurredAt: at.toISOString(),
    workspaceId: job.workspaceId,
    contactId: job.contactId,
    campaignId,
    deliveryId: job.deliveryId,
    variantId,
    recipient,
  };
  // Object.assign, not `{ ...common, … }`: node 20's V8 builds a literal that spreads and then adds
  // properties on a slow path (services/tracker/src/tracking/events.ts). Same keys, same order.
  return r.state === 'sent'
    ? Object.assign(common, { type: 'email.sent' as const, messageId: r.messageId.slice(0, MAX_MESSAGE_ID), subject: r.subject.slice(0, 998) })
    : Object.assign(common, { type: 'email.failed' as const, messageId: null, code: r.code.slice(0, 100), reason: r.reason.slice(0, 2000) });
}

/** EmailEvent's limit; SES's ids are about 60 characters. */
const MAX_MESSAGE_ID = 200;
