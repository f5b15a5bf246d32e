import path from 'node:path';
import { z } from 'zod';
import { DEV_TRACKING_KEYS } from '@payam/tracking-token';
import { baseEnvShape, ConfigError, envBool, envDuration, envInt, envList, loadConfig, type Env } from '@payam/config';

/** Outside production with TRACKING_KEYS unset, the development key shared with the sender. */
export { DEV_TRACKING_KEYS };

const rate = (def: number) =>
  z
    .string()
    .trim()
    .regex(/^\d*\.?\d+$/, 'expected a number between 0 and 1')
    .transform(Number)
    .pipe(z.number().min(0).max(1))
    .default(def);

export const trackerEnvShape = {
  ...baseEnvShape,
  PORT: envInt(3002, { min: 0, max: 65535 }),
  HOST: z.string().trim().default('0.0.0.0'),
  MONGODB_DB: z.string().trim().min(1).default('payam_tracker'),
  /** "id:base64secret,…": the first signs (the sender), every one verifies. */
  TRACKING_KEYS: z.string().optional(),
  /** Which key signs; the tracker only verifies, so this matters only for tooling. */
  TRACKING_SIGNING_KEY_ID: z.string().trim().optional(),
  /** Topic ARNs whose SES notifications we accept; empty means every SNS message is refused. */
  SNS_ALLOWED_TOPIC_ARNS: envList([]),
  /** When set, signing certificates must come from sns.<this region>.amazonaws.com. */
  SNS_REGION: z
    .string()
    .trim()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1')
    .optional(),
  /**
   * Demo only (`npm run demo`): also accept SNS messages signed with the public demo key in
   * demo/ for the demo topic. Logs loudly; refused together with NODE_ENV=production.
   */
  SNS_DEMO_MODE: envBool(false),
  SPOOL_DIR: z.string().trim().default(path.join(process.cwd(), '.spool', 'tracker')),
  /** How long a hot-path request waits for Kafka's ack before the event goes to the spool. */
  KAFKA_PUBLISH_TIMEOUT_MS: envInt(1500, { min: 50, max: 30_000 }),
  /**
   * Producers the hot path spreads its batches over. One producer has one batch in flight
   * (idempotent, acks=all): the requests that arrive meanwhile go out together in the next one.
   * Several overlap their round trips but split the batches, and kafkajs costs ~0.2 ms of CPU per
   * batch whatever its size (bench:tracker, 50 connections, edge-only: 1 producer 10.6k–13.4k
   * req/s, 2 → 9.2k, 4 → 8.2k). More only pays where the broker, not this process, is the wait.
   */
  KAFKA_HOT_PRODUCERS: envInt(1, { min: 1, max: 16 }),
  STORE_RAW_IP: envBool(false),
  /** Express "trust proxy": unset/false, true, a hop count or a list of subnets. */
  TRUST_PROXY: z.string().trim().optional(),
  MPP_RANGES_FILE: z.string().trim().default(path.join(__dirname, '..', 'data', 'apple-mpp-ranges.txt')),
  /** A click this soon after the send (token issuedAt) is flagged "too_fast". */
  CLICK_TOO_FAST: envDuration('10s'),
  /** Two different links of one message clicked within this window are flagged "link_burst". */
  CLICK_BURST_WINDOW: envDuration('1500ms'),
  GUARDRAIL_COMPLAINT_RATE: rate(0.003),
  GUARDRAIL_MIN_DELIVERIES: envInt(1000, { min: 1 }),
  /**
   * Run the stats projector and the api-keys projection in this process. An edge-only instance
   * (false) just answers tracking requests; at least one instance must run them.
   */
  RUN_CONSUMERS: envBool(true),
  STATS_GROUP_ID: z.string().trim().default('tracker.stats'),
  /** How long the stats projector keeps an event id to recognise a copy (see stats/seen-pruner.ts). */
  STATS_SEEN_RETENTION: envDuration('30d'),
  /** How often the projector deletes the ids older than STATS_SEEN_RETENTION. */
  STATS_SEEN_PRUNE_EVERY: envDuration('1h', { min: 10 }),
  API_KEYS_GROUP_ID: z.string().trim().default('tracker.api-keys'),
};

export type TrackerConfig = ReturnType<typeof loadTrackerConfig>;

export function loadTrackerConfig(env: Env = process.env) {
  const cfg = loadConfig(trackerEnvShape, env);
  if (cfg.NODE_ENV === 'production' && cfg.SNS_DEMO_MODE) {
    throw new ConfigError([{ path: 'SNS_DEMO_MODE', message: 'must not be true with NODE_ENV=production: the demo SNS key is public, anyone could forge bounces and complaints' }]);
  }
  if (cfg.NODE_ENV === 'production' && !cfg.TRACKING_KEYS) {
    throw new Error('Invalid configuration:\n  - TRACKING_KEYS: required in production');
  }
  return { ...cfg, TRACKING_KEYS: cfg.TRACKING_KEYS ?? DEV_TRACKING_KEYS };
}

export function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
