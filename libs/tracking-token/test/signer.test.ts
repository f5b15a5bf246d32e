import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { isTrackableUrl, parseTrackingKeys, TokenSigner, type TokenPayload } from '../src';

const secret = () => randomBytes(32).toString('base64');
const k1 = { id: 'k1', secret: secret() };
const k2 = { id: 'k2', secret: secret() };

const base = {
  workspaceId: 'w_1',
  contactId: 'c-1',
  campaignId: 'cmp1',
  deliveryId: 'dlv1',
  variantId: 'B',
  issuedAt: 1_735_689_600,
};
const open: TokenPayload = { kind: 'open', ...base };
const click: TokenPayload = { kind: 'click', ...base, url: 'https://shop.example.com/sale?utm_source=payam&x=1#top', linkIndex: 3 };
const unsubscribe: TokenPayload = { kind: 'unsubscribe', ...base, campaignId: null, deliveryId: null, variantId: null };

const signer = new TokenSigner({ keys: [k1], signingKeyId: 'k1' });

function mutateAt(token: string, index: number, replacement: string): string {
  return token.slice(0, index) + replacement + token.slice(index + 1);
}

describe('TokenSigner round trip', () => {
  it.each([open, click, unsubscribe])('signs and verifies a $kind token', (payload) => {
    const token = signer.sign(payload);
    expect(token).toMatch(/^k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(signer.verify(token)).toEqual(payload);
  });

  it('keeps tokens short enough for links', () => {
    expect(signer.sign(open).length).toBeLessThan(160);
  });
});

describe('TokenSigner refuses what it did not sign', () => {
  const token = signer.sign(click);
  const [keyId, body, mac] = token.split('.') as [string, string, string];

  it('refuses a tampered payload', () => {
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), u: 'https://evil.example/' }),
    ).toString('base64url');
    expect(signer.verify(`${keyId}.${forged}.${mac}`)).toBeNull();
  });

  it('refuses a tampered or truncated MAC and a truncated token', () => {
    expect(signer.verify(`${keyId}.${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(signer.verify(`${keyId}.${body}.${mac.slice(0, -2)}`)).toBeNull();
    expect(signer.verify(`${keyId}.${body}.`)).toBeNull();
    expect(signer.verify(`${keyId}.${body}`)).toBeNull();
    expect(signer.verify(token.slice(0, token.length - 5))).toBeNull();
  });

  it('refuses a token from another secret under the same key id, and an unknown key id', () => {
    const other = new TokenSigner({ keys: [{ id: 'k1', secret: secret() }], signingKeyId: 'k1' });
    expect(signer.verify(other.sign(click))).toBeNull();
    expect(signer.verify(`k9.${body}.${mac}`)).toBeNull();
  });

  it('binds the key id into the MAC', () => {
    // Same secret under two ids: a token moved from one id to the other must not verify.
    const both = new TokenSigner({ keys: [k1, { id: 'k1b', secret: k1.secret }], signingKeyId: 'k1' });
    expect(both.verify(token)).toEqual(click);
    expect(both.verify(`k1b.${body}.${mac}`)).toBeNull();
  });

  it('returns null, never throws, for garbage, empty and huge input', () => {
    const garbage: unknown[] = [
      '',
      '.',
      '..',
      '...',
      'k1..',
      'a.b.c',
      'k1.!!!.@@@',
      '\u0000',
      'k1.' + body + '.' + mac + '.',
      'x'.repeat(1_000_000),
      `k1.${'A'.repeat(5000)}.${mac}`,
    ];
    for (const input of garbage) expect(signer.verify(input as string)).toBeNull();
    for (const input of [null, undefined, 42, {}, []]) expect(signer.verify(input as unknown as string)).toBeNull();
  });

  it('accepts only the canonical base64url spelling of the MAC', () => {
    // The last of 22 characters carries 4 spare bits; flipping them must not give a valid token.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = mac[mac.length - 1]!;
    const sameBits = alphabet.split('').filter((c) => c !== last && alphabet.indexOf(c) >> 4 === alphabet.indexOf(last) >> 4);
    expect(sameBits.length).toBeGreaterThan(0);
    for (const c of sameBits) expect(signer.verify(`${keyId}.${body}.${mac.slice(0, -1)}${c}`)).toBeNull();
  });

  it('every substitution of one character by another of the token alphabet fails verification (exhaustive)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/';
    const accepted: string[] = [];
    for (const valid of [signer.sign(open), signer.sign(click)]) {
      for (let i = 0; i < valid.length; i++) {
        for (const c of alphabet) {
          const mutated = mutateAt(valid, i, c);
          if (c !== valid[i] && signer.verify(mutated) !== null) accepted.push(mutated);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it('any single-character mutation of a valid token fails verification', () => {
    const tokens = [signer.sign(open), signer.sign(click), signer.sign(unsubscribe)];
    fc.assert(
      fc.property(fc.constantFrom(...tokens), fc.nat(), fc.integer({ min: 0, max: 255 }), (valid, position, code) => {
        const index = position % valid.length;
        const replacement = String.fromCharCode(code);
        fc.pre(replacement !== valid[index]);
        expect(signer.verify(mutateAt(valid, index, replacement))).toBeNull();
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('click URLs', () => {
  const bad = [
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'ftp://files.example/x',
    'mailto:a@b.co',
    '//evil.example',
    '/relative',
    'https://' + 'a'.repeat(2100) + '.example/',
  ];

  const cases = bad.map((url) => [url.length > 80 ? `a ${url.length}-character url` : url, url] as const);

  it.each(cases)('refuses to sign %s', (_label, url) => {
    expect(isTrackableUrl(url)).toBe(false);
    expect(() => signer.sign({ ...click, url })).toThrow(/url/);
    expect(() => signer.forMessage(base).click(url, 0)).toThrow(/url/);
  });

  it('refuses at verify a correctly signed token whose url is not http(s)', () => {
    // A token made by hand with the right key, as a buggy older signer or a leaked key could.
    const handSign = (wire: object) => {
      const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
      const mac = createHmac('sha256', Buffer.from(k1.secret, 'base64')).update(`payam/tracking-token/v1\0k1\0${body}`).digest();
      return `k1.${body}.${mac.subarray(0, 16).toString('base64url')}`;
    };
    // The construction is right: with an http URL it verifies, so the nulls below are about the URL.
    expect(signer.verify(handSign({ k: 'c', w: 'w1', c: 'c1', t: 1, u: 'https://ok.example/' }))).toMatchObject({
      kind: 'click',
      url: 'https://ok.example/',
    });
    for (const url of ['javascript:alert(1)', 'data:text/html,x']) {
      expect(signer.verify(handSign({ k: 'c', w: 'w1', c: 'c1', t: 1, u: url }))).toBeNull();
    }
  });

  it('refuses payloads that break the kind rules', () => {
    expect(() => signer.sign({ ...open, url: 'https://a.example/' })).toThrow();
    expect(() => signer.sign({ ...click, url: undefined })).toThrow();
    expect(() => signer.sign({ ...open, linkIndex: 1 })).toThrow();
    expect(() => signer.sign({ ...open, workspaceId: 'has space' })).toThrow();
  });
});

describe("one message's tokens (forMessage)", () => {
  const tokens = signer.forMessage(base);

  it('signs the same payloads as sign, each verifying to its kind', () => {
    expect(signer.verify(tokens.open())).toEqual(open);
    expect(signer.verify(tokens.unsubscribe())).toEqual({ ...base, kind: 'unsubscribe' });
    expect(signer.verify(tokens.click(click.url!, 3))).toEqual(click);
    expect(tokens.click(click.url!, 3)).toBe(signer.sign(click));
  });

  it('refuses a bad base once, and a bad link index per click', () => {
    expect(() => signer.forMessage({ ...base, workspaceId: 'has space' })).toThrow(/workspaceId/);
    expect(() => signer.forMessage({ ...base, issuedAt: -1 })).toThrow(/issuedAt/);
    for (const index of [-1, 1.5, 10_001, Number.NaN]) expect(() => tokens.click('https://a.example/', index)).toThrow(/linkIndex/);
    expect(signer.verify(tokens.click('https://a.example/', 10_000))).toMatchObject({ linkIndex: 10_000 });
  });
});

describe('key rotation', () => {
  it('verifies tokens of a retired-but-accepted key, and stops once the key is removed', () => {
    const before = new TokenSigner({ keys: [k1], signingKeyId: 'k1' });
    const old = before.sign(click);
    const during = new TokenSigner({ keys: [k2, k1], signingKeyId: 'k2' });
    const fresh = during.sign(click);
    expect(fresh.startsWith('k2.')).toBe(true);
    expect(during.verify(old)).toEqual(click);
    expect(during.verify(fresh)).toEqual(click);
    const after = new TokenSigner({ keys: [k2], signingKeyId: 'k2' });
    expect(after.verify(old)).toBeNull();
    expect(after.verify(fresh)).toEqual(click);
  });

  it('builds from the env format with the first key signing', () => {
    const s = TokenSigner.fromSpec(`k2:${k2.secret}, k1:${k1.secret}`);
    expect(s.sign(open).startsWith('k2.')).toBe(true);
    expect(s.verify(new TokenSigner({ keys: [k1], signingKeyId: 'k1' }).sign(open))).toEqual(open);
  });

  it('refuses a signing key that is not among the keys', () => {
    expect(() => new TokenSigner({ keys: [k1], signingKeyId: 'k2' })).toThrow(/not among/);
  });
});

describe('parseTrackingKeys', () => {
  it('parses id:secret pairs in order, base64 or base64url', () => {
    const urlSafe = randomBytes(40).toString('base64url');
    expect(parseTrackingKeys(`k2:${k2.secret},k1:${urlSafe},`)).toEqual([
      { id: 'k2', secret: k2.secret },
      { id: 'k1', secret: urlSafe },
    ]);
  });

  it('refuses short or malformed secrets, bad ids, duplicates and an empty list, without echoing secrets', () => {
    const short = randomBytes(31).toString('base64');
    expect(() => parseTrackingKeys(`k1:${short}`)).toThrow(/31 bytes/);
    try {
      parseTrackingKeys(`k1:${short}`);
    } catch (err) {
      expect((err as Error).message).not.toContain(short);
    }
    expect(() => parseTrackingKeys('k1:not base64!')).toThrow(/base64/);
    expect(() => parseTrackingKeys(`k.1:${k1.secret}`)).toThrow(/key id/);
    expect(() => parseTrackingKeys(k1.secret)).toThrow(/id:secret/);
    expect(() => parseTrackingKeys(`k1:${k1.secret},k1:${k2.secret}`)).toThrow(/twice/);
    expect(() => parseTrackingKeys(' , ')).toThrow(/no key/);
  });
});
