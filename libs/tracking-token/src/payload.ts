import { z } from 'zod';
import { EntityId } from '@payam/contracts';

/** Longest click target we put in a token; the whole token must still fit comfortably in a URL. */
export const MAX_URL_LENGTH = 2048;

/**
 * Only http(s) targets are signed or followed: a token must never become a javascript: or
 * data: link, even if a template contained one, or a key leaked and someone forged one.
 */
export function isTrackableUrl(url: string): boolean {
  if (url.length > MAX_URL_LENGTH) return false;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
  } catch {
    return false;
  }
}

export const TokenKind = z.enum(['open', 'click', 'unsubscribe']);
export type TokenKind = z.infer<typeof TokenKind>;

/** What every token of one message shares: who, which send, when. */
export const TokenBase = z.object({
  workspaceId: EntityId,
  contactId: EntityId,
  campaignId: EntityId.nullable(),
  deliveryId: EntityId.nullable(),
  variantId: z.string().max(32).nullable(),
  /** Unix seconds. */
  issuedAt: z.number().int().nonnegative(),
});
export type TokenBase = z.infer<typeof TokenBase>;

/** Links in one message beyond this are not tracked (a token's linkIndex is at most this). */
export const MAX_LINK_INDEX = 10_000;
/** Position of a link in its message. */
export const LinkIndex = z.number().int().nonnegative().max(MAX_LINK_INDEX);

/**
 * A click's target and position, checked without zod on the send path (a message signs a
 * token per link): the same rules as TokenPayload's url and linkIndex, which use this too.
 */
export function clickTargetProblem(url: unknown, linkIndex: unknown): string | null {
  if (typeof url !== 'string' || !isTrackableUrl(url)) return 'url: expected an http(s) URL';
  if (typeof linkIndex !== 'number' || !Number.isInteger(linkIndex) || linkIndex < 0 || linkIndex > MAX_LINK_INDEX) {
    return `linkIndex: expected an integer from 0 to ${MAX_LINK_INDEX}`;
  }
  return null;
}

export const TokenPayload = TokenBase.extend({
  kind: TokenKind,
  /** Click target (click tokens only). */
  url: z.string().refine(isTrackableUrl, 'expected an http(s) URL').optional(),
  /** Position of the link in the message (click tokens only). */
  linkIndex: LinkIndex.optional(),
}).superRefine((p, ctx) => {
  if (p.kind === 'click' && p.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'a click token needs a url' });
  if (p.kind !== 'click' && p.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'only click tokens carry a url' });
  if (p.kind !== 'click' && p.linkIndex !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['linkIndex'], message: 'only click tokens carry a linkIndex' });
  }
});
export type TokenPayload = z.infer<typeof TokenPayload>;

/*
 * Wire form: short field names, nulls and absent fields left out, so that a token (and with it
 * every tracked link in a message) stays short.
 */
const KIND_TO_WIRE = { open: 'o', click: 'c', unsubscribe: 'u' } as const;
const WIRE_TO_KIND: Record<string, TokenKind> = { o: 'open', c: 'click', u: 'unsubscribe' };

export function toWire(p: TokenPayload): Record<string, string | number> {
  const wire: Record<string, string | number> = { k: KIND_TO_WIRE[p.kind], w: p.workspaceId, c: p.contactId, t: p.issuedAt };
  if (p.campaignId !== null) wire.cp = p.campaignId;
  if (p.deliveryId !== null) wire.d = p.deliveryId;
  if (p.variantId !== null) wire.v = p.variantId;
  if (p.url !== undefined) wire.u = p.url;
  if (p.linkIndex !== undefined) wire.l = p.linkIndex;
  return wire;
}

/** Wire form → candidate payload; the caller validates it with TokenPayload. */
export function fromWire(wire: unknown): unknown {
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) return null;
  const w = wire as Record<string, unknown>;
  const candidate: Record<string, unknown> = {
    kind: typeof w.k === 'string' ? WIRE_TO_KIND[w.k] : undefined,
    workspaceId: w.w,
    contactId: w.c,
    campaignId: w.cp ?? null,
    deliveryId: w.d ?? null,
    variantId: w.v ?? null,
    issuedAt: w.t,
  };
  if (w.u !== undefined) candidate.url = w.u;
  if (w.l !== undefined) candidate.linkIndex = w.l;
  return candidate;
}
