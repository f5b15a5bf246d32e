import { z } from 'zod';
import { deterministicEventId, EntityId, type BounceType, type EmailEvent } from '@payam/contracts';
import type { Classifier } from '../classification/classifier';

/*
 * SES event publishing (configuration set → SNS) and identity notifications, as documented in
 * "Contents of event data that Amazon SES publishes to Amazon SNS". Only the fields we map are
 * declared; the rest passes through unread.
 */
const Recipient = z.object({ emailAddress: z.string().max(320) }).loose();
const SesNotification = z
  .object({
    eventType: z.string().optional(),
    notificationType: z.string().optional(),
    mail: z
      .object({
        messageId: z.string().min(1).max(200),
        timestamp: z.string().optional(),
        destination: z.array(z.string().max(320)).max(1000).default([]),
        tags: z.record(z.string(), z.array(z.string())).default({}),
      })
      .loose(),
    bounce: z
      .object({
        bounceType: z.string(),
        bounceSubType: z.string().default('Undetermined'),
        bouncedRecipients: z.array(Recipient.extend({ diagnosticCode: z.string().optional() })).default([]),
        timestamp: z.string().optional(),
      })
      .loose()
      .optional(),
    complaint: z
      .object({
        complainedRecipients: z.array(Recipient).default([]),
        complaintFeedbackType: z.string().optional(),
        timestamp: z.string().optional(),
      })
      .loose()
      .optional(),
    delivery: z
      .object({
        recipients: z.array(z.string()).default([]),
        smtpResponse: z.string().optional(),
        processingTimeMillis: z.number().optional(),
        timestamp: z.string().optional(),
      })
      .loose()
      .optional(),
    deliveryDelay: z
      .object({
        delayType: z.string().default('Undetermined'),
        delayedRecipients: z.array(Recipient).default([]),
        expirationTime: z.string().optional(),
        timestamp: z.string().optional(),
      })
      .loose()
      .optional(),
    reject: z.object({ reason: z.string().default('') }).loose().optional(),
    open: z.object({ ipAddress: z.string().optional(), userAgent: z.string().optional(), timestamp: z.string().optional() }).loose().optional(),
    click: z
      .object({ ipAddress: z.string().optional(), userAgent: z.string().optional(), timestamp: z.string().optional(), link: z.string() })
      .loose()
      .optional(),
    subscription: z.object({ timestamp: z.string().optional() }).loose().optional(),
  })
  .loose();

export type SesMapping = { ok: true; events: EmailEvent[] } | { ok: false; reason: string };

const ISO = z.iso.datetime({ offset: true });

function isoOr(ts: string | undefined, fallback: Date): string {
  if (ts !== undefined) {
    const d = new Date(ts);
    if (!Number.isNaN(d.getTime())) {
      const iso = d.toISOString();
      if (ISO.safeParse(iso).success) return iso;
    }
  }
  return fallback.toISOString();
}

function tag(tags: Record<string, string[]>, name: string): string | undefined {
  return tags[name]?.[0];
}

const BOUNCE_TYPES: readonly string[] = ['Permanent', 'Transient', 'Undetermined'];

/**
 * One SES notification → one event per recipient. Ids are deterministic (type, SES message id,
 * recipient; plus the timestamp for opens, clicks and delays, which may happen many times), so
 * SNS redelivering a notification is a no-op downstream. Notifications without our workspace and
 * contact tags are not about a message we sent: the caller logs and counts them, then drops them.
 */
export function mapSesNotification(message: string, classifier: Classifier, now: Date): SesMapping {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  const parsed = SesNotification.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'unrecognised' };
  const n = parsed.data;
  const kind = n.eventType ?? n.notificationType ?? '';
  const tags = n.mail.tags;
  const workspaceId = tag(tags, 'workspace');
  const contactId = tag(tags, 'contact');
  if (workspaceId === undefined || !EntityId.safeParse(workspaceId).success) return { ok: false, reason: 'no_workspace_tag' };
  if (contactId === undefined || !EntityId.safeParse(contactId).success) return { ok: false, reason: 'no_contact_tag' };
  const idOrNull = (v: string | undefined) => (v !== undefined && EntityId.safeParse(v).success ? v : null);
  const variant = tag(tags, 'variant');
  const messageId = n.mail.messageId;
  const common = (recipient: string | null, occurredAt: string) => ({
    schemaVersion: 1 as const,
    occurredAt,
    workspaceId,
    contactId,
    campaignId: idOrNull(tag(tags, 'campaign')),
    deliveryId: idOrNull(tag(tags, 'delivery')),
    variantId: variant !== undefined && variant.length <= 32 ? variant : null,
    messageId,
    recipient,
  });
  const mailAt = isoOr(n.mail.timestamp, now);
  const destination = n.mail.destination;
  const id = (type: string, recipient: string, ...extra: string[]) => deterministicEventId(type, messageId, recipient, ...extra);
  const events: EmailEvent[] = [];

  switch (kind) {
    case 'Bounce': {
      if (!n.bounce) return { ok: false, reason: 'malformed' };
      const b = n.bounce;
      const bounceType = (BOUNCE_TYPES.includes(b.bounceType) ? b.bounceType : 'Undetermined') as BounceType;
      for (const r of b.bouncedRecipients) {
        events.push({
          ...common(r.emailAddress, isoOr(b.timestamp, now)),
          id: id('email.bounced', r.emailAddress),
          type: 'email.bounced',
          bounceType,
          bounceSubType: b.bounceSubType.slice(0, 100),
          diagnosticCode: r.diagnosticCode?.slice(0, 2000) ?? null,
        });
      }
      break;
    }
    case 'Complaint': {
      if (!n.complaint) return { ok: false, reason: 'malformed' };
      const c = n.complaint;
      for (const r of c.complainedRecipients) {
        events.push({
          ...common(r.emailAddress, isoOr(c.timestamp, now)),
          id: id('email.complained', r.emailAddress),
          type: 'email.complained',
          feedbackType: c.complaintFeedbackType?.slice(0, 100) ?? null,
        });
      }
      break;
    }
    case 'Delivery': {
      if (!n.delivery) return { ok: false, reason: 'malformed' };
      const d = n.delivery;
      for (const r of d.recipients.length > 0 ? d.recipients : destination) {
        const ms = d.processingTimeMillis;
        events.push({
          ...common(r, isoOr(d.timestamp, now)),
          id: id('email.delivered', r),
          type: 'email.delivered',
          smtpResponse: d.smtpResponse?.slice(0, 1000) ?? null,
          processingTimeMs: ms !== undefined && Number.isInteger(ms) && ms >= 0 ? ms : null,
        });
      }
      break;
    }
    case 'DeliveryDelay': {
      if (!n.deliveryDelay) return { ok: false, reason: 'malformed' };
      const d = n.deliveryDelay;
      const at = isoOr(d.timestamp, now);
      for (const r of d.delayedRecipients) {
        events.push({
          ...common(r.emailAddress, at),
          id: id('email.delivery_delayed', r.emailAddress, at),
          type: 'email.delivery_delayed',
          delayType: d.delayType.slice(0, 100),
          expirationTime: d.expirationTime !== undefined ? isoOr(d.expirationTime, now) : null,
        });
      }
      break;
    }
    case 'Reject':
      for (const r of destination) {
        events.push({ ...common(r, mailAt), id: id('email.rejected', r), type: 'email.rejected', reason: (n.reject?.reason ?? '').slice(0, 2000) });
      }
      break;
    case 'Send':
      for (const r of destination) events.push({ ...common(r, mailAt), id: id('email.accepted', r), type: 'email.accepted' });
      break;
    case 'Open': {
      const o = n.open ?? {};
      const at = isoOr(o.timestamp, now);
      const classification = classifier.classifyOpen({ userAgent: o.userAgent, ip: o.ipAddress, method: 'GET' });
      for (const r of destination) {
        events.push({ ...common(r, at), id: id('email.opened', r, at), type: 'email.opened', source: 'ses', classification });
      }
      break;
    }
    case 'Click': {
      if (!n.click) return { ok: false, reason: 'malformed' };
      const c = n.click;
      const at = isoOr(c.timestamp, now);
      const sentAt = Math.floor(new Date(mailAt).getTime() / 1000);
      const classification = classifier.classifyClick(
        { userAgent: c.userAgent, ip: c.ipAddress, method: 'GET' },
        { issuedAt: sentAt, deliveryKey: null, linkIndex: null, now: new Date(at).getTime() },
      );
      for (const r of destination) {
        events.push({
          ...common(r, at),
          id: id('email.clicked', r, at, c.link),
          type: 'email.clicked',
          source: 'ses',
          url: c.link.slice(0, 4096),
          linkIndex: null,
          classification,
        });
      }
      break;
    }
    case 'Subscription': {
      const at = isoOr(n.subscription?.timestamp, now);
      for (const r of destination) {
        events.push({ ...common(r, at), id: id('email.unsubscribed', r), type: 'email.unsubscribed', source: 'ses_subscription' });
      }
      break;
    }
    default:
      return { ok: false, reason: `unmapped_event_type` };
  }
  return { ok: true, events };
}
