import { deterministicEventId, randomEventId, type Classification, type EmailEvent } from '@payam/contracts';
import type { TokenPayload } from '@payam/tracking-token';

/** What the tracker needs from the token signer: a genuine token's payload, else null. */
export interface TokenVerifier {
  verify(token: string): TokenPayload | null;
}

function base(p: TokenPayload, now: Date) {
  return {
    schemaVersion: 1 as const,
    occurredAt: now.toISOString(),
    workspaceId: p.workspaceId,
    contactId: p.contactId,
    campaignId: p.campaignId,
    deliveryId: p.deliveryId,
    variantId: p.variantId,
    messageId: null,
    recipient: null,
  };
}

/** Every open is its own event (random id): a second open is information, not a duplicate. */
export function openedEvent(p: TokenPayload, classification: Classification, now: Date): EmailEvent {
  return { ...base(p, now), id: randomEventId(), type: 'email.opened', source: 'pixel', classification };
}

export function clickedEvent(p: TokenPayload, url: string, classification: Classification, now: Date): EmailEvent {
  return { ...base(p, now), id: randomEventId(), type: 'email.clicked', source: 'redirect', url, linkIndex: p.linkIndex ?? null, classification };
}

/**
 * One unsubscribe per delivery (or per contact and campaign when the token names no delivery):
 * Gmail's one-click POST, a second click on the page and a retry all carry the same id, so
 * downstream they are one event.
 */
export function unsubscribedEvent(p: TokenPayload, source: 'one_click' | 'page', now: Date): EmailEvent {
  const id = deterministicEventId('email.unsubscribed', p.workspaceId, p.contactId, p.deliveryId ?? `campaign:${p.campaignId ?? '-'}`);
  return { ...base(p, now), id, type: 'email.unsubscribed', source };
}

/** Only an absolute http(s) URL is ever a redirect target (the signer checks too; so do we). */
export function safeRedirectTarget(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const u = new URL(url);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return null;
    return u.href;
  } catch {
    return null;
  }
}
