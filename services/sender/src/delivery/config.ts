import { envInt } from '@payam/config';
import { z } from 'zod';

/** Environment of the campaign and delivery part of the sender (spread into senderEnv). */
export const deliveryEnvShape = {
  /** Sends in flight per worker process. */
  SENDER_WORKER_CONCURRENCY: envInt(32, { min: 1, max: 1024 }),
  /** Send errors in a row after which a campaign pauses itself. */
  SENDER_MAX_CONSECUTIVE_ERRORS: envInt(50, { min: 1 }),
  /** Attempts per delivery on throttling / transient errors before it goes back to the queue. */
  SENDER_MAX_SEND_ATTEMPTS: envInt(8, { min: 1 }),
  SENDER_BACKOFF_BASE_MS: envInt(100, { min: 1 }),
  SENDER_BACKOFF_CAP_MS: envInt(5_000, { min: 1 }),
  /** A delivery in 'sending' this long, held by a dead worker, becomes 'unknown'. */
  SENDER_SENDING_LEASE_MS: envInt(120_000, { min: 100 }),
  SENDER_WORKER_HEARTBEAT_MS: envInt(5_000, { min: 50 }),
  /** How often the campaign driver looks for due, unfinished and finished campaigns. */
  SENDER_SCHEDULER_INTERVAL_MS: envInt(1_000, { min: 50 }),
  /** Kafka session timeout of the send workers (a killed worker's partitions move after it). */
  SENDER_WORKER_SESSION_TIMEOUT_MS: envInt(30_000, { min: 6_000 }),
  /** Fetch size per partition: bounds how many jobs a worker claims ahead of its rate. */
  SENDER_WORKER_FETCH_BYTES: envInt(65_536, { min: 1_024 }),
  /** Use SES GetAccount's MaxSendRate instead of SES_MAX_SEND_RATE when SES answers it. */
  SES_RATE_FROM_ACCOUNT: z.enum(['true', 'false']).default('false'),
};
