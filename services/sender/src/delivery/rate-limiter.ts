import { randomUUID } from 'node:crypto';
import type { Connection, Model } from 'mongoose';
import { workerModel, type WorkerDoc } from './model';

/**
 * The send rate as SES counts it: messages per second. Sends are paced 1/rate apart (a token
 * bucket as virtual scheduling, GCRA); after an idle spell up to `burstSeconds` of the rate may
 * go at once, but never more than ⌈rate⌉ sends in any window of ⌈rate⌉/rate seconds (one second
 * for a whole rate), so the per-second limit holds in every second, not just on average.
 *
 * Why a burst at all: the pipeline has bubbles (a fetch, a chunk's writes) during which nobody
 * waits for a token. With a burst of one, every slot of a bubble was lost for good: a campaign
 * at 1,000/s sent ~850/s. The burst lets the sends after a bubble take the slots it left unused
 * in the current second. Waiters are served in order and no timer runs while nobody waits.
 */
export class TokenBucket {
  private nextSlot = 0;
  private intervalMs = 0;
  private burst = 1;
  private windowMs = 1000;
  private perWindow = 1;
  /** When the last ⌈rate⌉ sends go (a ring): the next may not go within windowMs of the oldest. */
  private recent: number[] = [];
  private recentAt = 0;

  constructor(
    private ratePerSecond: number,
    private readonly burstSeconds = 0.25,
  ) {
    this.configure(ratePerSecond);
  }

  get rate(): number {
    return this.ratePerSecond;
  }

  setRate(ratePerSecond: number): void {
    if (ratePerSecond === this.ratePerSecond || !(ratePerSecond > 0)) return;
    this.configure(ratePerSecond);
  }

  private configure(ratePerSecond: number): void {
    this.ratePerSecond = ratePerSecond;
    this.intervalMs = 1000 / ratePerSecond;
    this.burst = Math.max(1, Math.floor(ratePerSecond * this.burstSeconds));
    const perWindow = Math.max(1, Math.ceil(ratePerSecond));
    this.windowMs = (perWindow / ratePerSecond) * 1000;
    // The newest send times, oldest first, are kept: a rate change must not empty a full window.
    const kept = [...this.recent.slice(this.recentAt), ...this.recent.slice(0, this.recentAt)].slice(-perWindow);
    this.recent = kept;
    this.recentAt = kept.length % perWindow;
    this.perWindow = perWindow;
  }

  /**
   * Reserves the next send for a caller asking at `now` (performance.now() time) and returns when
   * it may go. The pacing is virtual (a slot behind `now` is a burst credit); the window counts
   * the times sends really go, so a burst can never put more than the limit in one second.
   */
  reserve(now: number): number {
    const slot = Math.max(this.nextSlot, now - this.intervalMs * (this.burst - 1));
    this.nextSlot = slot + this.intervalMs;
    let at = Math.max(slot, now);
    if (this.recent.length === this.perWindow) at = Math.max(at, this.recent[this.recentAt]! + this.windowMs);
    this.recent[this.recentAt] = at;
    this.recentAt = (this.recentAt + 1) % this.perWindow;
    return at;
  }

  /** Resolves when the caller may send one message. */
  acquire(): Promise<void> {
    const now = performance.now();
    const wait = this.reserve(now) - now;
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
