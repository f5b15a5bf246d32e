import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { formatProblems, parseWith } from '@payam/contracts';
import { decodeSecret, KEY_ID, parseTrackingKeys, type TrackingKey } from './keys';
import { clickTargetProblem, fromWire, toWire, TokenBase, TokenPayload } from './payload';

/**
 * 16 bytes of the HMAC-SHA256 output. NIST SP 800-107 Rev. 1 (§5.3.3) permits truncating an
 * HMAC; 128 bits leaves forgery at 2^-128 per guess while keeping links short.
 */
const MAC_BYTES = 16;
/** Longer than any token we sign (a 2 KB URL plus ids); anything bigger is refused before work. */
const MAX_TOKEN_LENGTH = 4096;
/** Domain separation: a MAC made for another purpose with the same key can never pass as a token. */
const MAC_DOMAIN = 'payam/tracking-token/v1';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Signs and verifies tracking tokens: `<keyId>.<base64url(JSON payload)>.<base64url(MAC)>`, the
 * MAC binding the domain, the key id and the payload exactly as sent. The tracker trusts what a
 * token says (including a click's target) without a database read, because only we can sign.
 */
export class TokenSigner {
  /** As KeyObjects: createHmac with a Buffer key imports it on every call, which cost a third of an HMAC. */
  private readonly secrets = new Map<string, KeyObject>();
  private readonly signingKeyId: string;

  constructor(opts: { keys: TrackingKey[]; signingKeyId: string }) {
    for (const key of opts.keys) {
      if (!KEY_ID.test(key.id)) throw new Error(`tracking key id "${key.id}" must be 1-16 letters, digits, "_" or "-"`);
      if (this.secrets.has(key.id)) throw new Error(`tracking key ${key.id} appears twice`);
      this.secrets.set(key.id, createSecretKey(decodeSecret(key)));
    }
    if (!this.secrets.has(opts.signingKeyId)) throw new Error(`signing key ${opts.signingKeyId} is not among the tracking keys`);
    this.signingKeyId = opts.signingKeyId;
  }

  /** From the TRACKING_KEYS format (see parseTrackingKeys): the first key signs. */
  static fromSpec(spec: string): TokenSigner {
    const keys = parseTrackingKeys(spec);
    return new TokenSigner({ keys, signingKeyId: keys[0]!.id });
  }

  /** Throws on an invalid payload (e.g. a javascript: URL): such a link must not be tracked. */
  sign(payload: TokenPayload): string {
    return this.signChecked(parsedOrThrow(TokenPayload, payload));
  }

  /**
   * The signer of one message's tokens (its unsubscribe link, pixel and every click): what they
   * share is validated once here, not once per token, which halved the cost of composing a
   * message. Throws on an invalid base, as sign does.
   */
  forMessage(base: TokenBase): MessageTokens {
    return new MessageTokens(parsedOrThrow(TokenBase, base), (p) => this.signChecked(p));
  }

  /** For a payload that satisfies TokenPayload. */
  private signChecked(payload: TokenPayload): string {
    const body = Buffer.from(JSON.stringify(toWire(payload)), 'utf8').toString('base64url');
    const mac = this.mac(this.secrets.get(this.signingKeyId)!, this.signingKeyId, body);
    return `${this.signingKeyId}.${body}.${mac.toString('base64url')}`;
  }

  /**
   * The payload of a genuine token, else null. Never throws and never says which check failed:
   * the tracker answers every bad token the same way, so it teaches a forger nothing.
   */
  verify(token: string): TokenPayload | null {
    try {
      return this.verifyOrNull(token);
    } catch {
      return null;
    }
  }

  private verifyOrNull(token: string): TokenPayload | null {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [keyId, body, macText] = parts as [string, string, string];
    const secret = this.secrets.get(keyId);
    if (!secret || !BASE64URL.test(body) || !BASE64URL.test(macText)) return null;
    const presented = Buffer.from(macText, 'base64url');
    // Base64 leaves spare bits in the last character; accept only the one canonical spelling,
    // or a token could be altered without changing its decoded MAC.
    if (presented.toString('base64url') !== macText) return null;
    const expected = this.mac(secret, keyId, body);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
    // Authentic from here on; still validated, so a payload signed by an older, laxer version
    // (or with a leaked key) cannot smuggle a javascript: URL through.
    const parsed = TokenPayload.safeParse(fromWire(JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))));
    return parsed.success ? parsed.data : null;
  }

  private mac(secret: KeyObject, keyId: string, body: string): Buffer {
    return createHmac('sha256', secret).update(`${MAC_DOMAIN}\0${keyId}\0${body}`, 'utf8').digest().subarray(0, MAC_BYTES);
  }
}

function invalidPayload(problems: string): Error {
  return new Error(`invalid tracking token payload: ${problems}`);
}

function parsedOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const checked = parseWith(schema, value);
  if (!checked.ok) throw invalidPayload(formatProblems(checked.problems));
  return checked.value;
}

/** The tokens of one message (TokenSigner.forMessage): the base is valid, so each token checks only what it adds. */
export class MessageTokens {
  constructor(
    private readonly base: TokenBase,
    private readonly signChecked: (payload: TokenPayload) => string,
  ) {}

  // Object.assign, not `{ ...this.base, kind }`: node 20's V8 takes a slow path for a literal that
  // spreads and then adds properties (~4 µs a token). Same keys in the same order, so the same bytes.
  open(): string {
    return this.signChecked(Object.assign({}, this.base, { kind: 'open' as const }));
  }

  unsubscribe(): string {
    return this.signChecked(Object.assign({}, this.base, { kind: 'unsubscribe' as const }));
  }

  /** Throws on a target that must not be tracked (not http(s), too long) or a bad index, as sign does. */
  click(url: string, linkIndex: number): string {
    const problem = clickTargetProblem(url, linkIndex);
    if (problem) throw invalidPayload(problem);
    return this.signChecked(Object.assign({}, this.base, { kind: 'click' as const, url, linkIndex }));
  }
}
