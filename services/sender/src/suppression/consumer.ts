import { Topics, type ContactStatus, type EmailEvent } from '@payam/contracts';
import { subscribe, type Delivered } from '@payam/kafka';
import { isDuplicateKeyError } from '@payam/mongo';
import type { Component } from '../app';
import { consumerComponent } from '../consumer-component';
import type { SenderContext } from '../context';
import { Email } from '../contacts/schemas';
import { suppressionEventModel, type SuppressionReason } from './model';
import { suppress } from './service';

/** How bad each status is; suppression only ever moves a contact to a worse one. */
const SEVERITY: Record<ContactStatus, number> = { subscribed: 0, unsubscribed: 1, bounced: 2, complained: 3 };

/** The only event types suppressionOf acts on (the consumer skips the rest unvalidated). */
export const SUPPRESSING_TYPES: ReadonlySet<string> = new Set<EmailEvent['type']>(['email.bounced', 'email.complained', 'email.unsubscribed']);

/** What an email event means for suppression, or null when it means nothing. */
export function suppressionOf(event: EmailEvent): { reason: SuppressionReason; status: ContactStatus } | null {
  switch (event.type) {
    case 'email.bounced':
      return event.bounceType === 'Permanent' ? { reason: 'bounce', status: 'bounced' } : null;
    case 'email.complained':
      return { reason: 'complaint', status: 'complained' };
    case 'email.unsubscribed':
      return { reason: 'unsubscribe', status: 'unsubscribed' };
    default:
      return null;
  }
}

/**
 * Consumer group `sender.suppression` on email-events.v1: hard bounces, complaints and
 * unsubscribes suppress the address in its workspace and move the contact's status (which
 * publishes a new snapshot). Idempotent on the event id. Almost every event on the topic (sent,
 * delivered, opened…) is irrelevant here: the prefilter skips them before the schema check.
 */
export function suppressionConsumer(ctx: SenderContext): Component {
  const processed = suppressionEventModel(ctx.conn);
  const counter = ctx.metrics.counter('sender_suppressions_total', 'Addresses suppressed from email events, by reason', ['reason']);

  const apply = async (event: EmailEvent, effect: { reason: SuppressionReason; status: ContactStatus }): Promise<void> => {
    const contact =
      (await ctx.contacts.live(event.workspaceId, event.contactId)) ??
      (event.recipient ? await ctx.contacts.findByEmail(event.workspaceId, event.recipient.trim().toLowerCase()) : null);
    const recipient = event.recipient !== null ? Email.safeParse(event.recipient) : null;
    const email = recipient?.success ? recipient.data : contact?.email;
    if (email) {
      const created = await suppress(ctx.conn, {
        workspaceId: event.workspaceId,
        email,
        reason: effect.reason,
        sourceEventId: event.id,
        at: new Date(event.occurredAt),
      });
      if (created) counter.inc({ reason: effect.reason });
    } else {
      ctx.logger.warn({ eventId: event.id, type: event.type, contactId: event.contactId }, 'suppression event names no known address');
    }
    if (contact) {
      await ctx.contacts.setStatus(event.workspaceId, contact._id, (current) =>
        SEVERITY[effect.status] > SEVERITY[current] ? effect.status : null,
      );
    }
  };

  const handleBatch = async (records: Array<Delivered<EmailEvent>>): Promise<void> => {
    const candidates = records.filter((r) => suppressionOf(r.value) !== null);
    if (candidates.length === 0) return;
    // Events of workspaces this store does not hold (another deployment sharing the topic) are
    // dropped after one query over the small workspaces collection: each would otherwise cost a
    // contact lookup, a whole-collection scan on FerretDB v1 (seconds at 100k contacts).
    const wsIds = [...new Set(candidates.map((r) => r.value.workspaceId))];
    const known = new Set((await ctx.workspaces.workspaces.find({ _id: { $in: wsIds } }, { _id: 1 }).lean()).map((w) => w._id));
    const relevant = candidates.filter((r) => known.has(r.value.workspaceId));
    if (relevant.length === 0) return;
    const done = new Set((await processed.find({ _id: { $in: relevant.map((r) => r.value.id) } }, { _id: 1 }).lean()).map((d) => d._id));
    for (const { value: event } of relevant) {
      if (done.has(event.id)) continue;
      await apply(event, suppressionOf(event)!);
      await processed.collection.insertOne({ _id: event.id, at: new Date() } as never).catch((err: unknown) => {
        if (!isDuplicateKeyError(err)) throw err;
      });
      done.add(event.id);
    }
  };

  return consumerComponent(ctx, 'suppression-consumer', 'sender.suppression', [subscribe({ topic: Topics.emailEvents, prefilter: (raw) => SUPPRESSING_TYPES.has(raw.type as string), handleBatch })]);
}
