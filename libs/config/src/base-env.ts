import { z } from 'zod';
import { envInt, envList } from './env-schemas';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Variables every service reads. Defaults point at the local stack (infra/local/stack.sh), so
 * `npm run up` needs no environment at all; production sets each of them explicitly.
 */
export const baseEnvShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  MONGODB_URI: z
    .string()
    .trim()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'expected a mongodb:// or mongodb+srv:// URI')
    .default('mongodb://127.0.0.1:27017'),
  KAFKA_BROKERS: envList(['127.0.0.1:9092'])
    .refine((brokers) => brokers.length > 0, 'expected at least one broker')
    .refine((brokers) => brokers.every((b) => /^[^\s:/]+:\d{1,5}$/.test(b)), 'expected host:port entries separated by commas'),
  SHUTDOWN_TIMEOUT_MS: envInt(10_000, { min: 0 }),
};

export type LogLevel = (typeof LOG_LEVELS)[number];
