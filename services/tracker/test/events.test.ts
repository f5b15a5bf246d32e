// The hot path publishes opens and clicks without a schema check (tracking/events.ts): this is
// the proof that what it builds always passes the schema, for any verified token and any request.
import path from 'node:path';
import fc from 'fast-check';
import { EmailEvent } from '@payam/contracts';
import { TokenPayload, TokenSigner } from '@payam/tracking-token';
import { Classifier } from '../src/classification/classifier';
import { IpRanges } from '../src/classification/ip';
import { clickedEvent, openedEvent, safeRedirectTarget } from '../src/tracking/events';

const ranges = IpRanges.fromFile(path.join(__dirname, '..', 'data', 'apple-mpp-ranges.txt'));
const classifiers = [false, true].map((storeRawIp) => new Classifier({ appleProxyRanges: ranges, storeRawIp, clickTooFastMs: 10_000, clickBurstWindowMs: 1_500 }));
const signer = TokenSigner.fromSpec(`k1:${Buffer.alloc(32, 7).toString('base64')}`);

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const url = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  // Non-ASCII grows when normalized: a signed 2 KB URL may exceed what an event carries.
  fc.integer({ min: 0, max: 1300 }).map((n) => `https://example.com/${'é'.repeat(n)}`),
);
const payload = fc.record({
  kind: fc.constantFrom('open' as const, 'click' as const),
  workspaceId: id,
  contactId: id,
  campaignId: fc.option(id),
  deliveryId: fc.option(id),
  variantId: fc.option(fc.string({ maxLength: 32 })),
  url,
  linkIndex: fc.integer({ min: 0, max: 10_000 }),
  issuedAt: fc.integer({ min: 0, max: 2 ** 31 }),
});
const request = fc.record({
  userAgent: fc.option(fc.oneof(fc.string({ maxLength: 900 }), fc.constantFrom('Mozilla/5.0', 'curl/8.4.0', 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)')), { nil: undefined }),
  ip: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV6().map((v) => `${v}%${'z'.repeat(80)}`), fc.string({ maxLength: 100 })), { nil: undefined }),
  method: fc.constantFrom('GET', 'HEAD'),
  referrer: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
});

test('every open and click built from a verified token passes the EmailEvent schema, or is refused before publishing', () => {
  fc.assert(
    fc.property(payload, request, fc.boolean(), fc.date({ min: new Date(0), max: new Date('2999-12-31'), noInvalidDate: true }), (p, obs, raw, now) => {
      const candidate = p.kind === 'open' ? { ...p, url: undefined, linkIndex: undefined } : p;
      fc.pre(TokenPayload.safeParse(candidate).success);
      // Through the signer, as the tracker gets it (a token too long for a link never verifies).
      const verified = signer.verify(signer.sign(candidate as TokenPayload));
      fc.pre(verified !== null);
      const classifier = classifiers[raw ? 1 : 0]!;
      let event;
      if (verified.kind === 'open') {
        event = openedEvent(verified, classifier.classifyOpen(obs), now);
      } else {
        const target = safeRedirectTarget(verified.url)!;
        const ctx = { issuedAt: verified.issuedAt, deliveryKey: verified.deliveryId, linkIndex: verified.linkIndex ?? null, now: now.getTime() };
        const classification = classifier.classifyClick(obs, ctx);
        if (target.length > 4096) {
          expect(() => clickedEvent(verified, target, classification, now)).toThrow(/cannot be recorded/);
          return;
        }
        event = clickedEvent(verified, target, classification, now);
      }
      const parsed = EmailEvent.safeParse(event);
      if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
      // Nothing the schema would add or strip: the published JSON is the event as built.
      expect(parsed.data).toEqual(event);
    }),
    { numRuns: 500 },
  );
});
