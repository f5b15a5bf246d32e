import { z } from 'zod';
import { baseEnvShape, envDuration, envInt, loadConfig, type Env } from '@payam/config';

export const segmenterEnvShape = {
  ...baseEnvShape,
  PORT: envInt(3003, { min: 0, max: 65535 }),
  HOST: z.string().trim().default('0.0.0.0'),
  MONGODB_DB: z.string().trim().min(1).default('payam_segmenter'),
  KAFKA_CLIENT_ID: z.string().trim().default('payam-segmenter'),
  /** Consumer group of the three input topics; api-keys.v1 uses "<group>.api-keys"... see README. */
  CONSUMER_GROUP: z.string().trim().default('segmenter'),
  SWEEP_INTERVAL: envDuration('1s'),
  SWEEP_BATCH: envInt(500, { min: 1, max: 10_000 }),
  RECOMPUTE_BATCH: envInt(1000, { min: 1, max: 10_000 }),
  PROFILE_CACHE_SIZE: envInt(100_000, { min: 0, max: 10_000_000 }),
  PARTITIONS_CONCURRENTLY: envInt(3, { min: 1, max: 64 }),
  RECENT_EVENT_IDS: envInt(256, { min: 16, max: 10_000 }),
  MAX_CUSTOM_EVENTS: envInt(200, { min: 0, max: 5_000 }),
};

export type SegmenterConfig = ReturnType<typeof loadSegmenterConfig>;

export function loadSegmenterConfig(env?: Env) {
  return loadConfig(segmenterEnvShape, env);
}
