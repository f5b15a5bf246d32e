import SnsPayloadValidator from 'sns-payload-validator';
import { z } from 'zod';
import { describeIssues } from '@payam/contracts';
import { ForbiddenError, InvalidInputError } from '@payam/errors';

/** Downloads a signing certificate (PEM). Injected so tests can supply their own certificate. */
export type CertificateFetcher = (url: string) => Promise<string>;

export const SnsMessage = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1).max(200),
  TopicArn: z.string().min(1).max(500),
  Message: z.string().max(256 * 1024),
  Timestamp: z.string().min(1).max(100),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().min(1).max(2048),
  SigningCertURL: z.string().min(1).max(2048),
  Subject: z.string().max(500).nullable().optional(),
  Token: z.string().max(2048).optional(),
  SubscribeURL: z.string().max(4096).optional(),
  UnsubscribeURL: z.string().max(4096).optional(),
});
export type SnsMessage = z.infer<typeof SnsMessage>;

/** https://sns.<region>.amazonaws.com (or .com.cn), nothing else: no port, no user info. */
const SNS_HOST = /^sns\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/;
const CERT_PATH = /^\/SimpleNotificationService-[A-Za-z0-9]{32}\.pem$/;
const TOPIC_ARN = /^arn:aws(?:-[a-z]+)*:sns:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:[A-Za-z0-9_.-]{1,256}$/;

/** The region of an SNS endpoint URL, or null when it is not exactly https://sns.<region>.amazonaws.com/…. */
export function snsUrlRegion(url: string, path?: RegExp): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' || u.port !== '' || u.username !== '' || u.password !== '') return null;
  const m = SNS_HOST.exec(u.hostname);
  if (!m) return null;
  if (path && !path.test(u.pathname)) return null;
  return m[1]!;
}

export interface SnsVerifierOptions {
  allowedTopicArns: string[];
  /** When set, only certificates (and subscribe URLs) of this region are accepted. */
  region?: string;
  fetchCertificate?: CertificateFetcher;
  maxCachedCertificates?: number;
}

/** The validator keeps its certificates in an LRU it consults before downloading (its own field). */
interface ValidatorWithCache {
  certCache?: { set(url: string, pem: string): void };
  validate(payload: object): Promise<unknown>;
}

/**
 * Believes an SNS message only after: its shape is right, its TopicArn is on the allow list,
 * its certificate URL is https://sns.<region>.amazonaws.com/SimpleNotificationService-….pem in
 * the topic's region (checked here and again by the library), and the SignatureVersion 1
 * (SHA1) or 2 (SHA256) RSA signature verifies against that certificate (sns-payload-validator).
 * Certificates are fetched through the injected fetcher and cached. There is no switch to turn
 * any of this off.
 */
export class SnsVerifier {
  private readonly allowed: Set<string>;
  private readonly certs = new Map<string, Promise<string>>();
  private readonly validator: ValidatorWithCache;
  private readonly fetchCertificate: CertificateFetcher;

  constructor(private readonly opts: SnsVerifierOptions) {
    this.allowed = new Set(opts.allowedTopicArns);
    this.fetchCertificate = opts.fetchCertificate ?? downloadCertificate;
    this.validator = new SnsPayloadValidator({ useCache: true, maxCerts: opts.maxCachedCertificates ?? 100 }) as unknown as ValidatorWithCache;
    if (!this.validator.certCache) throw new Error('sns-payload-validator without a certificate cache: refusing to let it download on its own');
  }

  /** The verified message; throws InvalidInputError (malformed) or ForbiddenError (not genuine). */
  async verify(body: unknown): Promise<SnsMessage> {
    let json: unknown;
    try {
      json = typeof body === 'string' ? JSON.parse(body) : body;
    } catch {
      throw new InvalidInputError([{ path: 'body', message: 'expected an SNS message (JSON)' }]);
    }
    const parsed = SnsMessage.safeParse(json);
    if (!parsed.success) throw new InvalidInputError(describeIssues(parsed.error, 'body'));
    const msg = parsed.data;
    const topicRegion = TOPIC_ARN.exec(msg.TopicArn)?.[1];
    if (!this.allowed.has(msg.TopicArn) || topicRegion === undefined) throw new ForbiddenError('SNS topic not accepted');
    const certRegion = snsUrlRegion(msg.SigningCertURL, CERT_PATH);
    if (certRegion === null || certRegion !== topicRegion || (this.opts.region !== undefined && certRegion !== this.opts.region)) {
      throw new ForbiddenError('SNS message not accepted');
    }
    if (msg.Type !== 'Notification' && (msg.SubscribeURL === undefined || snsUrlRegion(msg.SubscribeURL) !== topicRegion)) {
      throw new ForbiddenError('SNS message not accepted');
    }
    const pem = await this.certificate(msg.SigningCertURL);
    // Put our (injected, cached) certificate where the library looks first, synchronously before
    // validate(), which then never downloads by itself.
    this.validator.certCache!.set(msg.SigningCertURL, pem);
    const payload = Object.fromEntries(Object.entries(msg).filter(([, v]) => v !== undefined));
    try {
      await this.validator.validate(payload);
    } catch {
      throw new ForbiddenError('SNS message not accepted');
    }
    return msg;
  }

  private certificate(url: string): Promise<string> {
    const hit = this.certs.get(url);
    if (hit) return hit;
    if (this.certs.size >= (this.opts.maxCachedCertificates ?? 100)) this.certs.delete(this.certs.keys().next().value!);
    const pending = this.fetchCertificate(url).then((pem) => {
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('not a PEM certificate');
      return pem;
    });
    this.certs.set(url, pending);
    pending.catch(() => this.certs.delete(url));
    return pending.catch(() => {
      throw new ForbiddenError('SNS message not accepted');
    });
  }
}

/** The production fetcher: a small, time-limited https GET (the URL was checked before). */
export async function downloadCertificate(url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`certificate download answered ${res.status}`);
  const text = await res.text();
  if (text.length > 16 * 1024) throw new Error('certificate too large');
  return text;
}

/** GETs a SubscribeURL (already checked to be https://sns.<region>.amazonaws.com/…). */
export type SubscriptionConfirmer = (subscribeUrl: string) => Promise<void>;

export async function confirmSubscription(subscribeUrl: string): Promise<void> {
  const res = await fetch(subscribeUrl, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`SubscribeURL answered ${res.status}`);
}
