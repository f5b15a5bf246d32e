import { z } from 'zod';
import { DEV_TRACKING_KEYS } from '@payam/tracking-token';
import { baseEnvShape, envDuration, envInt, envUrl, loadConfig, type Env } from '@payam/config';
import { defaultWorkerConcurrency, deliveryEnvShape } from './delivery/config';

/** Outside production only: lets `npm run up` work without any environment. */
export const DEV_ADMIN_SECRET = 'dev-admin-secret-change-me';
/** Outside production with TRACKING_KEYS unset: the development key shared with the tracker. */
export const [DEV_TRACKING_KEY_ID, DEV_TRACKING_KEY] = DEV_TRACKING_KEYS.split(':') as [string, string];

/** "kid1:secret1,kid2:secret2" → { kid1: secret1, kid2: secret2 }. */
const trackingKeys = z.string().transform((s, ctx) => {
  const keys: Record<string, string> = {};
  for (const part of s.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const i = part.indexOf(':');
    const id = part.slice(0, i).trim();
    const secret = part.slice(i + 1).trim();
    if (i <= 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || secret.length < 32) {
      ctx.addIssue({ code: 'custom', message: 'expected keyId:secret pairs separated by commas (key id [A-Za-z0-9_-], secret of 32+ characters)' });
      return z.NEVER;
    }
    keys[id] = secret;
  }
  return keys;
});

export const senderEnv = z
  .object({
    ...baseEnvShape,
    PORT: envInt(3001, { min: 0, max: 65535 }),
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    MONGODB_DB: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,63}$/, 'expected a database name of letters, digits, "_" or "-"')
      .default('payam_sender'),
    ADMIN_SECRET: z.string().trim().min(16, 'expected at least 16 characters').optional(),
    TRACKING_BASE_URL: envUrl('http://127.0.0.1:3002'),
    TRACKING_KEYS: trackingKeys.optional(),
    TRACKING_SIGNING_KEY_ID: z.string().trim().min(1).optional(),
    SES_ENDPOINT: envUrl('http://127.0.0.1:8005'),
    SES_REGION: z.string().trim().min(1).default('us-east-1'),
    SES_MAX_SEND_RATE: envInt(14, { min: 1 }),
    /** Largest accepted contact import upload (it is spooled to disk, never held in memory). */
    IMPORT_MAX_BYTES: envInt(512 * 1024 * 1024, { min: 1024 }),
    // Campaigns and delivery (part B): SENDER_* and SES_RATE_FROM_ACCOUNT, see delivery/config.ts.
    ...deliveryEnvShape,
    /** How often contacts and keys whose Kafka publish failed are published again. */
    REPUBLISH_INTERVAL_MS: envInt(30_000, { min: 100 }),
    /**
     * How long the contact change log (contacts/changes.ts) keeps an entry: must exceed the
     * retention of send-jobs.v1 (Kafka's default 7 days), the longest a resolved job can wait.
     */
    SENDER_CONTACT_CHANGES_RETENTION: envDuration('8d'),
    /** How often entries older than SENDER_CONTACT_CHANGES_RETENTION are deleted. */
    SENDER_CONTACT_CHANGES_PRUNE_EVERY: envDuration('1h', { min: 10 }),
    /** How long an API key lookup is reused; a revoked key stops working within this time. */
    API_KEY_CACHE_TTL_MS: envInt(5_000, { min: 0 }),
    /** Prefix of every consumer group id ("<prefix>.sender.workers"); unset in production. Lets a test run real processes in groups of their own. */
    SENDER_GROUP_PREFIX: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'expected letters, digits, ".", "_" or "-"')
      .optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    if (!env.ADMIN_SECRET) ctx.addIssue({ code: 'custom', path: ['ADMIN_SECRET'], message: 'required in production' });
    if (!env.TRACKING_KEYS) ctx.addIssue({ code: 'custom', path: ['TRACKING_KEYS'], message: 'required in production' });
    if (!env.TRACKING_SIGNING_KEY_ID) ctx.addIssue({ code: 'custom', path: ['TRACKING_SIGNING_KEY_ID'], message: 'required in production' });
  })
  .superRefine((env, ctx) => {
    if (env.TRACKING_KEYS && env.TRACKING_SIGNING_KEY_ID && !(env.TRACKING_SIGNING_KEY_ID in env.TRACKING_KEYS)) {
      ctx.addIssue({ code: 'custom', path: ['TRACKING_SIGNING_KEY_ID'], message: 'must name one of the keys in TRACKING_KEYS' });
    }
  });

type RawSenderEnv = z.output<typeof senderEnv>;

export type SenderConfig = Readonly<
  Omit<RawSenderEnv, 'ADMIN_SECRET' | 'TRACKING_KEYS' | 'TRACKING_SIGNING_KEY_ID' | 'SENDER_WORKER_CONCURRENCY'> & {
    ADMIN_SECRET: string;
    SENDER_WORKER_CONCURRENCY: number;
    TRACKING_KEYS: Readonly<Record<string, string>>;
    TRACKING_SIGNING_KEY_ID: string;
    /** Dev defaults that were applied; main logs each as a warning. */
    warnings: readonly string[];
  }
>;

/** Reads and checks the environment once; throws a ConfigError naming every bad variable. */
export function loadSenderConfig(env: Env = process.env): SenderConfig {
  const raw = loadConfig(senderEnv, env);
  const warnings: string[] = [];
  if (!raw.ADMIN_SECRET) warnings.push('ADMIN_SECRET not set: using the development default (never in production)');
  if (!raw.TRACKING_KEYS) warnings.push('TRACKING_KEYS not set: using the fixed development tracking key (never in production)');
  const keys = raw.TRACKING_KEYS ?? { [DEV_TRACKING_KEY_ID]: DEV_TRACKING_KEY };
  const signing = raw.TRACKING_SIGNING_KEY_ID ?? (raw.TRACKING_KEYS ? Object.keys(raw.TRACKING_KEYS)[0]! : DEV_TRACKING_KEY_ID);
  return Object.freeze({
    ...raw,
    ADMIN_SECRET: raw.ADMIN_SECRET ?? DEV_ADMIN_SECRET,
    SENDER_WORKER_CONCURRENCY: raw.SENDER_WORKER_CONCURRENCY ?? defaultWorkerConcurrency(raw.SES_MAX_SEND_RATE),
    TRACKING_KEYS: Object.freeze(keys),
    TRACKING_SIGNING_KEY_ID: signing,
    warnings: Object.freeze(warnings),
  });
}
