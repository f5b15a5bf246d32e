import { Topics, type SendJob } from '@payam/contracts';
import { runConsumer, subscribe, type ConsumerHandle, type Delivered } from '@payam/kafka';
import { TokenSigner } from '@payam/tracking-token';
import { groupId, type Component } from '../app';
import type { SenderContext } from '../context';
import type { CampaignService } from '../campaigns/service';
import { SendEngine } from './engine';
import type { Messenger } from './messenger';
import { TokenBucket, WorkerRegistry } from './rate-limiter';
import { SesMessenger } from './ses-messenger';

export function trackingSigner(ctx: SenderContext): TokenSigner {
  return new TokenSigner({
    keys: Object.entries(ctx.config.TRACKING_KEYS).map(([id, secret]) => ({ id, secret })),
    signingKeyId: ctx.config.TRACKING_SIGNING_KEY_ID,
  });
}

export function sesMessenger(ctx: SenderContext): SesMessenger {
  return new SesMessenger({
    endpoint: ctx.config.SES_ENDPOINT,
    region: ctx.config.SES_REGION,
    // The local emulator needs some credentials; a real deployment gets them from the environment.
    ...(ctx.config.NODE_ENV !== 'production' ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxSockets: ctx.config.SENDER_WORKER_CONCURRENCY * 2,
  });
}

/**
 * A send worker: consumer group sender.workers on send-jobs.v1 (more processes scale out), a
 * token bucket at (SES max rate) / (workers alive), and the send engine.
 */
export function sendWorker(ctx: SenderContext, campaigns: CampaignService, messenger: Messenger = sesMessenger(ctx)): Component {
  const c = ctx.config;
  let handle: ConsumerHandle | null = null;
  let engine: SendEngine | null = null;
  let providerRate = c.SES_MAX_SEND_RATE;
  const bucket = new TokenBucket(providerRate);
  const registry = new WorkerRegistry(ctx.conn, {
    heartbeatMs: c.SENDER_WORKER_HEARTBEAT_MS,
    onAliveChange: (alive) => {
      bucket.setRate(providerRate / alive);
      ctx.logger.info({ alive, ratePerSecond: providerRate / alive }, 'send rate share changed');
    },
    onError: (err) => ctx.logger.error({ err }, 'worker heartbeat failed'),
  });
  return {
    name: 'send-worker',
    async start() {
      if (c.SES_RATE_FROM_ACCOUNT === 'true' && messenger.maxSendRate) {
        providerRate = (await messenger.maxSendRate()) ?? providerRate;
      }
      await registry.start();
      bucket.setRate(providerRate / registry.aliveWorkers);
      const eng = new SendEngine(ctx, campaigns, messenger, trackingSigner(ctx), bucket, registry.workerId, {
        concurrency: c.SENDER_WORKER_CONCURRENCY,
        maxConsecutiveErrors: c.SENDER_MAX_CONSECUTIVE_ERRORS,
        maxAttempts: c.SENDER_MAX_SEND_ATTEMPTS,
        backoffBaseMs: c.SENDER_BACKOFF_BASE_MS,
        backoffCapMs: c.SENDER_BACKOFF_CAP_MS,
        trackingBaseUrl: c.TRACKING_BASE_URL,
      });
      engine = eng;
      handle = await runConsumer({
        kafka: ctx.kafka,
        groupId: groupId(ctx, 'sender.workers'),
        logger: ctx.logger,
        deadLetters: ctx.publisher,
        partitionsConsumedConcurrently: Topics.sendJobs.partitions,
        sessionTimeoutMs: c.SENDER_WORKER_SESSION_TIMEOUT_MS,
        maxBytesPerPartition: c.SENDER_WORKER_FETCH_BYTES,
        subscriptions: [
          subscribe({
            topic: Topics.sendJobs,
            handleBatch: (records: Array<Delivered<SendJob>>, batch) => eng.handleJobs(records.map((r) => r.value), batch.heartbeat),
          }),
        ],
      });
    },
    async stop() {
      await handle?.stop();
      handle = null;
      await engine?.flushProgress();
      engine = null;
      await registry.stop();
    },
  };
}
