import { z } from 'zod';
import {
  ContactCustom,
  ContactPurchase,
  ContactSignup,
  deterministicEventId,
  randomEventId,
  Topics,
  type ContactEvent,
} from '@payam/contracts';
import type { EventPublisher } from '@payam/kafka';
import type { Clock } from '../evaluation/processor';

/**
 * POST /events: business events from the workspace's systems. The envelope (id, workspace,
 * schema version) is ours to fill; the client may send an idempotency key, from which the
 * envelope id is derived, so a retried request is a no-op for every consumer.
 *
 * Events for contacts the segmenter has not seen yet are accepted: they are folded into a
 * placeholder profile that joins segments once the contact's snapshot arrives (README).
 */
const clientFields = {
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
};
const omit = { id: true, schemaVersion: true, workspaceId: true, occurredAt: true } as const;

export const IncomingEvent = z.discriminatedUnion('type', [
  ContactPurchase.omit(omit).extend(clientFields).strict(),
  ContactSignup.omit(omit).extend(clientFields).strict(),
  ContactCustom.omit(omit).extend(clientFields).strict(),
]);
export type IncomingEvent = z.infer<typeof IncomingEvent>;

export const MAX_BATCH = 1000;

const Batch = z.strictObject({ events: z.array(IncomingEvent).min(1).max(MAX_BATCH) });

/** One event, or {"events": [...]}; dispatched by hand so every problem keeps its own path. */
export const IngestBody = z.unknown().transform((value, ctx): IncomingEvent[] => {
  const batch = typeof value === 'object' && value !== null && 'events' in value;
  const parsed = batch ? Batch.safeParse(value) : IncomingEvent.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  }
  return 'events' in parsed.data ? parsed.data.events : [parsed.data];
});
export type IngestBody = z.output<typeof IngestBody>;

export function toEnvelope(workspaceId: string, e: IncomingEvent, now: number): ContactEvent {
  const { idempotencyKey, occurredAt, ...rest } = e;
  return {
    ...rest,
    id: idempotencyKey ? deterministicEventId('contact-event', workspaceId, idempotencyKey) : randomEventId(),
    schemaVersion: 1,
    workspaceId,
    occurredAt: occurredAt ?? new Date(now).toISOString(),
  } as ContactEvent;
}

/** Publishes and resolves once Kafka acknowledged every event (acks=all). */
export async function ingestEvents(
  publisher: EventPublisher,
  clock: Clock,
  workspaceId: string,
  body: IngestBody,
): Promise<ContactEvent[]> {
  const list = body;
  const now = clock.now();
  const envelopes = list.map((e) => toEnvelope(workspaceId, e, now));
  await publisher.publish(
    Topics.contactEvents,
    envelopes.map((e) => ({ key: e.contactId, value: e })),
  );
  return envelopes;
}
