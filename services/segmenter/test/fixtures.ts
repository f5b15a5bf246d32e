import { randomUUID } from 'node:crypto';
import type { ContactEvent, ContactSnapshot, EmailEvent } from '@payam/contracts';

export const DAY = 86_400_000;
export const T0 = Date.parse('2026-03-01T12:00:00Z');

export function snapshot(ws: string, cid: string, at: number, over: Partial<ContactSnapshot> = {}): ContactSnapshot {
  return {
    id: randomUUID(),
    type: 'contact.snapshot',
    schemaVersion: 1,
    occurredAt: new Date(at).toISOString(),
    workspaceId: ws,
    contactId: cid,
    version: 1,
    email: `${cid}@example.com`,
    status: 'subscribed',
    attributes: {},
    listIds: [],
    createdAt: new Date(at).toISOString(),
    ...over,
  };
}

const classification = (machine: boolean) => ({
  client: null,
  clientVersion: null,
  os: null,
  device: machine ? ('proxy' as const) : ('desktop' as const),
  machine,
  machineReasons: machine ? ['apple_mpp'] : [],
  ip: null,
  userAgent: null,
});

export function emailEvent(ws: string, cid: string, type: EmailEvent['type'], at: number, extra: Record<string, unknown> = {}): EmailEvent {
  const base = {
    id: randomUUID(),
    schemaVersion: 1 as const,
    occurredAt: new Date(at).toISOString(),
    workspaceId: ws,
    contactId: cid,
    campaignId: 'c1',
    deliveryId: 'd1',
    variantId: null,
    messageId: null,
    recipient: null,
  };
  switch (type) {
    case 'email.opened':
      return { ...base, type, source: 'pixel', classification: classification(Boolean(extra.machine)) };
    case 'email.clicked':
      return {
        ...base,
        type,
        source: 'redirect',
        url: 'https://x.test',
        linkIndex: 0,
        classification: classification(Boolean(extra.machine)),
      };
    case 'email.bounced':
      return {
        ...base,
        type,
        bounceType: (extra.bounceType as 'Permanent') ?? 'Permanent',
        bounceSubType: 'General',
        diagnosticCode: null,
      };
    case 'email.complained':
      return { ...base, type, feedbackType: 'abuse' };
    case 'email.sent':
      return { ...base, type, subject: 'hi' };
    default:
      return { ...base, type: 'email.delivered', smtpResponse: null, processingTimeMs: null };
  }
}

export function purchase(ws: string, cid: string, at: number, amount: number): ContactEvent {
  return {
    id: randomUUID(),
    schemaVersion: 1,
    occurredAt: new Date(at).toISOString(),
    workspaceId: ws,
    contactId: cid,
    type: 'contact.purchase',
    amount,
    currency: 'EUR',
    orderId: null,
    items: [],
  };
}

export function custom(ws: string, cid: string, at: number, name: string, properties: Record<string, unknown> = {}): ContactEvent {
  return {
    id: randomUUID(),
    schemaVersion: 1,
    occurredAt: new Date(at).toISOString(),
    workspaceId: ws,
    contactId: cid,
    type: 'contact.custom',
    name,
    properties,
  };
}

export function signup(ws: string, cid: string, at: number): ContactEvent {
  return {
    id: randomUUID(),
    schemaVersion: 1,
    occurredAt: new Date(at).toISOString(),
    workspaceId: ws,
    contactId: cid,
    type: 'contact.signup',
    source: null,
  };
}
