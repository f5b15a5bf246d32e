import { envInt, envList } from '@payam/config';
import { z } from 'zod';

/**
 * Default of SENDER_WORKER_CONCURRENCY: about 0.1 s of the fleet's send rate (never fewer than
 * 32, never more than 128). A worker's throughput is at most its sends in flight divided by the
 * time one takes end to end (claim, render, SES, event, outcome: ~100 ms on the local stack), so
 * a fixed 32 capped a worker near 300-650 msg/s whatever the configured rate. Its claims, and
 * so what a crash can leave 'unknown', are bounded at twice this: at 1,000/s, ~0.25 s of sending.
 */
export function defaultWorkerConcurrency(maxSendRate: number): number {
  return Math.min(128, Math.max(32, Math.ceil(maxSendRate / 10)));
}

/** Environment of the campaign and delivery part of the sender (spread into senderEnv). */
export const deliveryEnvShape = {
  /** Sends in flight per worker process; unset: defaultWorkerConcurrency(SES_MAX_SEND_RATE). */
  SENDER_WORKER_CONCURRENCY: envInt(undefined, { min: 1, max: 1024 }).optional(),
  /**
   * Background components this process runs (names as in app.ts: send-worker, campaign-driver,
   * suppression-consumer, …); unset: all. Lets worker-only processes scale sending out while
   * API processes keep the rest.
   */
  SENDER_COMPONENTS: envList().optional(),
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
