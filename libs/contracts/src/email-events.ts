import { z } from 'zod';
import { EntityId, EnvelopeFields } from './envelope';
import { Classification } from './classification';

/**
 * Fields every email event carries besides the envelope. campaignId/deliveryId are absent only
 * for SES notifications about mail that was not sent by a campaign (a transactional send).
 */
const EmailEventBase = {
  ...EnvelopeFields,
  campaignId: EntityId.nullable(),
  deliveryId: EntityId.nullable(),
  /** A/B variant of the delivery, when the campaign runs an experiment. */
  variantId: z.string().max(32).nullable().default(null),
  /** SES MessageId, when known. */
  messageId: z.string().max(200).nullable().default(null),
  /** The recipient address, when the source knows it (SES notifications, the sender). */
  recipient: z.string().max(320).nullable().default(null),
};

export const EmailSent = z.object({
  ...EmailEventBase,
  type: z.literal('email.sent'),
  subject: z.string().max(998),
});
export const EmailFailed = z.object({
  ...EmailEventBase,
  type: z.literal('email.failed'),
  /** Provider error name (e.g. "MessageRejected") or our own ("suppressed", "render_failed"). */
  code: z.string().max(100),
  reason: z.string().max(2000),
});
/** SES accepted the message for delivery (SES "Send" notification). */
export const EmailAccepted = z.object({ ...EmailEventBase, type: z.literal('email.accepted') });
export const EmailDelivered = z.object({
  ...EmailEventBase,
  type: z.literal('email.delivered'),
  smtpResponse: z.string().max(1000).nullable().default(null),
  processingTimeMs: z.number().int().nonnegative().nullable().default(null),
});
export const EmailDeliveryDelayed = z.object({
  ...EmailEventBase,
  type: z.literal('email.delivery_delayed'),
  delayType: z.string().max(100),
  expirationTime: z.iso.datetime({ offset: true }).nullable().default(null),
});
export const EmailOpened = z.object({
  ...EmailEventBase,
  type: z.literal('email.opened'),
  /** "pixel" for our tracking pixel, "ses" for SES's own open tracking. */
  source: z.enum(['pixel', 'ses']),
  classification: Classification,
});
export const EmailClicked = z.object({
  ...EmailEventBase,
  type: z.literal('email.clicked'),
  source: z.enum(['redirect', 'ses']),
  url: z.string().max(4096),
  /** Position of the link in the message, so "every link clicked within a second" can be seen. */
  linkIndex: z.number().int().nonnegative().nullable().default(null),
  classification: Classification,
});
export const BounceType = z.enum(['Permanent', 'Transient', 'Undetermined']);
export type BounceType = z.infer<typeof BounceType>;
export const EmailBounced = z.object({
  ...EmailEventBase,
  type: z.literal('email.bounced'),
  bounceType: BounceType,
  bounceSubType: z.string().max(100),
  diagnosticCode: z.string().max(2000).nullable().default(null),
});
export const EmailComplained = z.object({
  ...EmailEventBase,
  type: z.literal('email.complained'),
  feedbackType: z.string().max(100).nullable().default(null),
});
export const UnsubscribeSource = z.enum(['one_click', 'page', 'ses_subscription', 'api']);
export const EmailUnsubscribed = z.object({
  ...EmailEventBase,
  type: z.literal('email.unsubscribed'),
  source: UnsubscribeSource,
});
export const EmailRejected = z.object({
  ...EmailEventBase,
  type: z.literal('email.rejected'),
  reason: z.string().max(2000),
});

export const EmailEvent = z.discriminatedUnion('type', [
  EmailSent,
  EmailFailed,
  EmailAccepted,
  EmailDelivered,
  EmailDeliveryDelayed,
  EmailOpened,
  EmailClicked,
  EmailBounced,
  EmailComplained,
  EmailUnsubscribed,
  EmailRejected,
]);
export type EmailEvent = z.infer<typeof EmailEvent>;
export type EmailEventType = EmailEvent['type'];
export type EmailEventOf<T extends EmailEventType> = Extract<EmailEvent, { type: T }>;
export type EmailSent = z.infer<typeof EmailSent>;
export type EmailFailed = z.infer<typeof EmailFailed>;
export type EmailAccepted = z.infer<typeof EmailAccepted>;
export type EmailDelivered = z.infer<typeof EmailDelivered>;
export type EmailDeliveryDelayed = z.infer<typeof EmailDeliveryDelayed>;
export type EmailOpened = z.infer<typeof EmailOpened>;
export type EmailClicked = z.infer<typeof EmailClicked>;
export type EmailBounced = z.infer<typeof EmailBounced>;
export type EmailComplained = z.infer<typeof EmailComplained>;
export type EmailUnsubscribed = z.infer<typeof EmailUnsubscribed>;
export type EmailRejected = z.infer<typeof EmailRejected>;
