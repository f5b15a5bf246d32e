import { randomUUID } from 'node:crypto';
import type { Connection, Model } from 'mongoose';
import { workerModel, type WorkerDoc } from './model';

/**
 * A token bucket as virtual scheduling (GCRA): each acquire reserves the next free slot,
 * slots are 1/rate apart, and up to `burst` slots may be taken at once after an idle spell.
 * Waiters are served in order and no timer runs while nobody waits.
 */
export class TokenBucket {
  private nextSlot = 0;
  private intervalMs: number;

  constructor(
    private ratePerSecond: number,
    private readonly burst = 1,
  ) {
    this.intervalMs = 1000 / ratePerSecond;
  }

  get rate(): number {
    return this.ratePerSecond;
  }

  setRate(ratePerSecond: number): void {
    if (ratePerSecond === this.ratePerSecond || !(ratePerSecond > 0)) return;
    this.ratePerSecond = ratePerSecond;
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** Resolves when the caller may send one message. */
  acquire(): Promise<void> {
    const now = performance.now();
    const earliest = now - this.intervalMs * (this.burst - 1);
    const slot = Math.max(this.nextSlot, earliest);
    this.nextSlot = slot + this.intervalMs;
    const wait = slot - now;
    if (wait <= 1) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * Splits the provider's rate fairly across the send workers of every process: each worker
 * heartbeats into the `workers` collection and takes rate / (workers alive).
 */
export class WorkerRegistry {
  readonly workerId = `wkr_${randomUUID()}`;
  private readonly model: Model<WorkerDoc>;
  private timer: NodeJS.Timeout | null = null;
  private alive = 1;

  constructor(
    conn: Connection,
    private readonly opts: { heartbeatMs: number; onAliveChange?: (alive: number) => void; onError?: (err: unknown) => void },
  ) {
    this.model = workerModel(conn);
  }

  get aliveWorkers(): number {
    return this.alive;
  }

  /** A worker whose heartbeat is older than this is not counted (three missed beats). */
  get aliveWindowMs(): number {
    return this.opts.heartbeatMs * 3;
  }

  async start(): Promise<void> {
    const now = new Date();
    await this.model.collection.insertOne({ _id: this.workerId, heartbeatAt: now, startedAt: now, sweptAt: null } as never);
    await this.refresh();
    this.timer = setInterval(() => {
      void this.beat().catch((err) => this.opts.onError?.(err));
    }, this.opts.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    await this.model.updateOne({ _id: this.workerId }, { $set: { heartbeatAt: new Date() } });
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    const n = await this.model.countDocuments({ heartbeatAt: { $gte: new Date(Date.now() - this.aliveWindowMs) }, sweptAt: null });
    const alive = Math.max(1, n);
    if (alive !== this.alive) {
      this.alive = alive;
      this.opts.onAliveChange?.(alive);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A clean stop leaves no claims in flight, so the entry can go at once.
    await this.model.deleteOne({ _id: this.workerId }).catch(() => undefined);
  }
}

/** Exponential backoff with full jitter: a random delay in [base, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return baseMs + Math.random() * Math.max(0, ceiling - baseMs);
}

/** A counting semaphore: at most `limit` holders at a time, waiters served in order. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    }
  }
}
