import { parseWith, EmailEvent as EmailEventSchema, type DeadLetter, type EmailEvent } from '@payam/contracts';
import { InvalidEventError, type PublishOptions } from '@payam/kafka';
import type { Logger, Metrics } from '@payam/observability';
import { checkEvents, spoolDeadLetter } from './invalid-events';
import type { Spool, SpoolRecord } from './spool';

/** Sends records to email-events.v1 and resolves when Kafka acknowledged them (acks=all). */
export type PublishEvents = (records: Array<{ key: string; value: EmailEvent }>, options?: PublishOptions) => Promise<void>;

export interface RecorderOptions {
  publish: PublishEvents;
  /** Replays the spool; one producer, so the replay keeps the spool's order. Defaults to publish. */
  replayPublish?: PublishEvents;
  /** Publishes to dead-letters.v1 the spooled records that fail the schema (and so could never be published). */
  publishDeadLetters: (letters: DeadLetter[]) => Promise<void>;
  spool: Spool;
  logger: Logger;
  metrics: Metrics;
  /** How long a request waits for Kafka before its event goes to the spool instead. */
  publishTimeoutMs: number;
  replayBatchSize?: number;
}

/**
 * The one way the tracker records an event. record() resolves only when the event is safe:
 * acknowledged by Kafka, or fsynced into the local spool (see Spool for the crash-loss bound).
 *
 * Direct mode: publish and wait up to publishTimeoutMs. A failure or a timeout switches to spool
 * mode: from then on every event is appended to the spool (so replay keeps the order in which
 * events were answered), and a background loop replays the spool to Kafka, oldest first,
 * advancing the checkpoint after each acknowledged batch. When the spool is empty again, the
 * recorder returns to direct mode.
 *
 * An event that fails the schema is no outage: record() refuses it (InvalidInputError) before
 * anything is sent or spooled, and the recorder stays in its mode. The replay checks every
 * spooled record too and moves one that fails to dead-letters.v1, so it never blocks the rest.
 *
 * No duplicates from the timeout: a publish that timed out may still succeed later (kafkajs keeps
 * retrying). Its records are in the spool too, so the replay first waits for every such late
 * publish to settle and skips the records whose late publish was acknowledged.
 */
export class EventRecorder {
  private spoolMode: boolean;
  private replaying: Promise<void> | null = null;
  private stopped = false;
  private readonly lateInFlight = new Set<Promise<void>>();
  private readonly lateAcked = new Set<string>();
  private readonly spooled;
  private readonly replayed;
  private readonly pendingGauge;

  constructor(private readonly opts: RecorderOptions) {
    this.spoolMode = opts.spool.pending > 0;
    this.spooled = opts.metrics.counter('tracker_spooled_events_total', 'Events written to the local spool because Kafka did not acknowledge in time');
    this.replayed = opts.metrics.counter('tracker_spool_replayed_events_total', 'Spooled events acknowledged by Kafka on replay');
    this.pendingGauge = opts.metrics.gauge('tracker_spool_pending_events', 'Events in the spool not yet acknowledged by Kafka');
    this.pendingGauge.set(opts.spool.pending);
    if (this.spoolMode) this.kick();
  }

  get mode(): 'direct' | 'spool' {
    return this.spoolMode ? 'spool' : 'direct';
  }

  get pending(): number {
    return this.opts.spool.pending;
  }

  /**
   * `validate: false` is for events this process built from already validated data (opens and
   * clicks from a verified token; see tracking/events.ts); the default checks the schema and
   * throws InvalidInputError (fields as `events.<i>.<path>`) for any event that fails it, having
   * recorded none of them.
   */
  async record(events: EmailEvent[], options: PublishOptions = {}): Promise<void> {
    // Checked here, not by the publisher, so that an invalid event is refused in spool mode too.
    const checked = options.validate === false ? events : checkEvents(events);
    const records = checked.map((e) => ({ key: e.contactId, value: e }));
    if (this.spoolMode || this.opts.spool.pending > 0) return this.toSpool(records);
    const sent = this.opts.publish(records, { validate: false });
    const outcome = await settleWithin(sent, this.opts.publishTimeoutMs);
    if (outcome === 'acked') return;
    // The publisher's own refusal (nothing was sent): an outage it is not, so no spooling.
    if (outcome instanceof InvalidEventError) throw outcome;
    if (!this.spoolMode) this.opts.logger.warn({ outcome }, 'kafka did not acknowledge in time: spooling events locally');
    this.spoolMode = true;
    if (outcome === 'timeout') this.watchLate(sent, events);
    return this.toSpool(records);
  }

  private async toSpool(records: SpoolRecord[]): Promise<void> {
    await this.opts.spool.append(records);
    this.spooled.inc(records.length);
    this.pendingGauge.set(this.opts.spool.pending);
    this.kick();
  }

  private watchLate(sent: Promise<void>, events: EmailEvent[]): void {
    const watched = sent.then(
      () => {
        for (const e of events) this.lateAcked.add(e.id);
      },
      () => undefined,
    );
    this.lateInFlight.add(watched);
    void watched.finally(() => this.lateInFlight.delete(watched));
  }

  private kick(): void {
    if (this.replaying || this.stopped) return;
    this.replaying = this.replayLoop().finally(() => {
      this.replaying = null;
    });
  }

  private async replayLoop(): Promise<void> {
    const { spool, logger } = this.opts;
    const publish = this.opts.replayPublish ?? this.opts.publish;
    let delay = 250;
    while (!this.stopped) {
      if (spool.pending === 0) {
        // Synchronous with the check: the next record() sees an empty spool and goes direct.
        this.spoolMode = false;
        this.lateAcked.clear();
        logger.info({}, 'spool drained: publishing directly again');
        return;
      }
      try {
        const batch = await spool.read(this.opts.replayBatchSize ?? 1000);
        // After the read: a record's late watcher is registered before it is appended, so every
        // record in this batch whose first publish may still land is waited for here.
        if (this.lateInFlight.size > 0) await Promise.allSettled([...this.lateInFlight]);
        if (batch.records.length === 0 && batch.skipped === 0) {
          // Appends are still being fsynced: their count is pending, their bytes not yet readable.
          await sleep(5);
          continue;
        }
        const unacked = batch.records.filter((r) => !this.lateAcked.has((r.value as EmailEvent).id));
        const { toSend, letters } = this.sortOut(unacked);
        if (batch.skipped > 0) logger.error({ skipped: batch.skipped }, 'spool had unreadable lines; skipped');
        if (letters.length > 0) await this.opts.publishDeadLetters(letters);
        await publish(toSend, { validate: false });
        await spool.ack(batch.end, batch.records.length + batch.skipped);
        this.replayed.inc(toSend.length);
        this.pendingGauge.set(spool.pending);
        delay = 250;
      } catch (err) {
        logger.warn({ err, pending: spool.pending, retryInMs: delay }, 'spool replay failed; will retry');
        await sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  /** Splits spooled records into valid events and dead letters for those that fail the schema. */
  private sortOut(records: SpoolRecord[]): { toSend: Array<{ key: string; value: EmailEvent }>; letters: DeadLetter[] } {
    const toSend: Array<{ key: string; value: EmailEvent }> = [];
    const letters: DeadLetter[] = [];
    for (const r of records) {
      const parsed = parseWith(EmailEventSchema, r.value);
      if (parsed.ok) {
        toSend.push({ key: r.key, value: parsed.value });
        continue;
      }
      this.opts.logger.error({ key: r.key, problems: parsed.problems }, 'spooled event fails the schema: moved to dead letters');
      letters.push(spoolDeadLetter(r, parsed.problems, new Date()));
    }
    return { toSend, letters };
  }

  /** Waits for the replay in progress to finish its batch; what remains stays in the spool. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.replaying;
  }

  /** For tests and shutdown: resolves when the spool is empty (or the timeout passes). */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.opts.spool.pending > 0 || this.spoolMode) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** 'failed' is Kafka's failure; the publisher refusing a record comes back as its error. */
async function settleWithin(p: Promise<void>, ms: number): Promise<'acked' | 'failed' | 'timeout' | InvalidEventError> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const settled = p.then(
    (): 'acked' => 'acked',
    (err: unknown) => (err instanceof InvalidEventError ? err : ('failed' as const)),
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
