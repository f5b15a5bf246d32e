import { randomUUID } from 'node:crypto';
import type { Logger } from '@payam/observability';
import { insertNew } from '@payam/mongo';
import type { Component } from '../app';
import type { SenderContext } from '../context';
import { resolveAudience } from '../audience/resolve';
import { readAhead } from './read-ahead';
import { publishSendJobs } from '../delivery/enqueue';
import { claimModel, deliveryModel, outcomeModel, workerModel } from '../delivery/model';
import { forgetProgress, progressOf, recordProgress } from '../delivery/progress';
import { EMPTY_COUNTS, type CampaignDoc } from './model';
import { startFields, type CampaignService } from './service';
import { ProgressSettler } from './settle';
import type { ExperimentService } from '../experiments/service';

/** Deliveries per insert while resolving an audience (see work()). */
const DELIVERY_INSERT_SLICE = 250;

export interface DriverOptions {
  intervalMs: number;
  /** A claim older than this, held by a worker that stopped heart-beating, is 'unknown'. */
  sendingLeaseMs: number;
  /** How long a process owns a campaign's background work before another may take over. */
  workLeaseMs?: number;
}

/**
 * The campaign driver, run by every sender process (all of them safely at once: every step
 * claims what it does with an atomic conditional update):
 * - starts scheduled campaigns whose sendAt has come;
 * - does campaigns' background work (resolve the audience into deliveries and enqueue their
 *   jobs, chunk by chunk, so sending starts while resolution goes on; a process that dies
 *   mid-start is resumed by another, which walks again without duplicates; re-enqueue after a resume);
 * - completes campaigns with nothing left to send, and settles finished ones' counts (settle.ts);
 * - marks deliveries left in 'sending' by dead workers as 'unknown'.
 */
export class CampaignDriver implements Component {
  readonly name = 'campaign-driver';
  private readonly me = `drv_${randomUUID()}`;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private readonly working = new Map<string, Promise<void>>();
  private readonly log: Logger;
  private readonly settler: ProgressSettler;
  private stopped = false;
  private lastSweep = 0;
  /** Per campaign: the last progress-note sum (and when it last grew) and the last exact count, when and how long they took. */
  private readonly lastCheck = new Map<string, { at: number; tookMs: number; done: number; movedAt: number; exactAt: number; exactTookMs: number }>();

  constructor(
    private readonly ctx: SenderContext,
    private readonly campaigns: CampaignService,
    private readonly experiments: ExperimentService,
    private readonly opts: DriverOptions,
  ) {
    this.log = ctx.logger.child({ component: 'campaign-driver' });
    this.settler = new ProgressSettler(campaigns, this.log);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.opts.intervalMs);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.allSettled(this.working.values());
    await this.settler.idle();
  }

  /** Runs a tick now (after start or resume, so nobody waits for the interval). */
  kick(): void {
    if (this.stopped || this.ticking) return;
    this.ticking = this.tick()
      .catch((err: unknown) => this.log.error({ err }, 'campaign driver tick failed'))
      .finally(() => {
        this.ticking = null;
      });
  }

  private get model() {
    return this.campaigns.model;
  }

  private async tick(): Promise<void> {
    await this.startDue();
    const pending = await this.model.find({ state: 'running', 'work.pending': true }, { _id: 1 }).lean();
    for (const c of pending) if (!this.working.has(c._id)) this.runWork(c._id);
    await this.completeFinished();
    this.settler.kick();
    if (Date.now() - this.lastSweep >= Math.min(this.opts.sendingLeaseMs / 2, 10_000)) {
      this.lastSweep = Date.now();
      await this.sweepDeadWorkers();
    }
  }

  private async startDue(): Promise<void> {
    for (;;) {
      const c = await this.model
        .findOneAndUpdate(
          { state: 'scheduled', sendAt: { $lte: new Date() } },
          { $set: { ...startFields(false), state: 'running', updatedAt: new Date() }, $inc: { 'work.seq': 1 } },
          { new: true },
        )
        .lean();
      if (!c) return;
      this.log.info({ campaignId: c._id }, 'scheduled campaign started');
    }
  }

  private runWork(campaignId: string): void {
    const p = this.work(campaignId)
      .catch((err: unknown) => this.log.error({ err, campaignId }, 'campaign work failed; it will be resumed'))
      .finally(() => this.working.delete(campaignId));
    this.working.set(campaignId, p);
  }

  /** Takes the campaign's work lease; null when another process holds it. */
  private async lease(campaignId: string, seq?: number): Promise<CampaignDoc | null> {
    const now = new Date();
    const filter: Record<string, unknown> = {
      _id: campaignId,
      'work.pending': true,
      $or: [{ 'work.leaseUntil': null }, { 'work.leaseUntil': { $lt: now } }, { 'work.leaseBy': this.me }],
    };
    if (seq !== undefined) filter['work.seq'] = seq;
    return this.model
      .findOneAndUpdate(filter, { $set: { 'work.leaseBy': this.me, 'work.leaseUntil': new Date(now.getTime() + (this.opts.workLeaseMs ?? 30_000)) } }, { new: true })
      .lean();
  }

  private async work(campaignId: string): Promise<void> {
    let c = await this.lease(campaignId);
    if (!c) return;
    const seq = c.work.seq;
    const release = () => this.model.updateOne({ _id: campaignId, 'work.leaseBy': this.me }, { $set: { 'work.leaseBy': null, 'work.leaseUntil': null } });
    const stillRunning = async () => {
      const cur = await this.model.findById(campaignId, { state: 1 }).lean();
      return !this.stopped && cur?.state === 'running';
    };

    if (c.work.requeue) {
      // After a resume: every queued delivery gets a job again (claims make extra copies no-ops).
      const cursor = deliveryModel(this.ctx.conn).find({ campaignId, state: 'queued' }).sort({ _id: 1 }).lean().cursor({ batchSize: 1000 });
      let batch = [];
      const round = Date.now();
      for await (const d of cursor) {
        batch.push(d);
        if (batch.length >= 1000) {
          await publishSendJobs(this.ctx.publisher, batch, round);
          batch = [];
          if (!(await stillRunning())) return void (await release());
        }
      }
      await publishSendJobs(this.ctx.publisher, batch, round);
      c = await this.model.findOneAndUpdate({ _id: campaignId, 'work.leaseBy': this.me }, { $set: { 'work.requeue': false } }, { new: true }).lean();
      if (!c) return;
    }

    if (c.resolution.status !== 'done' && c.experiment?.stage === 'test') {
      // Experiment, test stage: the cohort is resolved in one pass (the split ranks the whole audience).
      const { counts, queued } = await this.experiments.resolveTestCohort(c);
      const saved = await this.model.updateOne(
        { _id: campaignId, 'work.leaseBy': this.me },
        { $set: { 'resolution.status': 'done', 'resolution.counts': counts, 'resolution.queued': queued, 'resolution.resolvedAt': new Date() } },
      );
      if (saved.matchedCount === 0) return;
    } else if (c.resolution.status !== 'done') {
      // Experiment, remainder stage: everyone outside the test cohort gets the winner.
      const testIds = c.experiment ? await this.experiments.testDeliveryIds(campaignId) : null;
      // A resumed resolution walks the audience again from the start (see resolveAudience).
      // One chunk read ahead: the walk's next read overlaps this chunk's inserts and publish.
      const chunks = readAhead(resolveAudience(this.ctx.conn, c, { start: { ...EMPTY_COUNTS } }));
      let queued = 0;
      for await (const resolved of chunks) {
        const chunk = testIds ? { ...resolved, deliveries: this.experiments.remainderDeliveries(c, resolved.deliveries, testIds) } : resolved;
        queued += chunk.deliveries.filter((d) => d.state === 'queued').length;
        // In slices: FerretDB (SQLite) runs one write at a time, and a 1,000-document insert kept
        // the send workers' claims and outcomes waiting behind it (100k at 1,000/s: 112.9 s → 109.2 s).
        for (let i = 0; i < chunk.deliveries.length; i += DELIVERY_INSERT_SLICE) {
          await insertNew(deliveryModel(this.ctx.conn).collection, chunk.deliveries.slice(i, i + DELIVERY_INSERT_SLICE));
        }
        // Jobs for the whole chunk, also for deliveries a crashed run had inserted already: a
        // job it had published too is a duplicate the claim absorbs, one it had not is needed.
        await publishSendJobs(
          this.ctx.publisher,
          chunk.deliveries.filter((d) => d.state === 'queued').map((d) => ({ ...d, contact: resolved.jobContacts.get(d._id) })),
        );
        const saved = await this.model.updateOne(
          { _id: campaignId, 'work.leaseBy': this.me },
          {
            $set: {
              'resolution.cursor': chunk.cursor,
              'resolution.counts': chunk.counts,
              // An experiment's remainder completes with its test cohort: the progress notes count both.
              'resolution.queued': (testIds?.size ?? 0) + queued,
              'work.leaseUntil': new Date(Date.now() + (this.opts.workLeaseMs ?? 30_000)),
            },
          },
        );
        if (saved.matchedCount === 0) return; // our lease was taken over
        if (!(await stillRunning())) return void (await release());
      }
      await this.model.updateOne(
        { _id: campaignId, 'work.leaseBy': this.me },
        { $set: { 'resolution.status': 'done', 'resolution.resolvedAt': new Date() } },
      );
      this.log.info({ campaignId }, 'audience resolved');
    }
    // Done, unless more work was asked for meanwhile (then the next tick runs it again).
    const finished = await this.model.updateOne(
      { _id: campaignId, 'work.leaseBy': this.me, 'work.seq': seq },
      { $set: { 'work.pending': false, 'work.leaseBy': null, 'work.leaseUntil': null } },
    );
    if (finished.matchedCount === 0) await release();
    this.kick();
  }

  /** Running, fully resolved, non-triggered campaigns whose every recipient has an outcome. */
  private async completeFinished(): Promise<void> {
    const candidates = await this.model
      .find({ state: 'running', trigger: null, 'resolution.status': 'done', 'work.pending': false }, { resolution: 1, experiment: 1, workspaceId: 1, state: 1 })
      .lean();
    for (const c of candidates) {
      // An experiment's test stage ends in a decision (then the remainder), not in completion.
      if (c.experiment && c.experiment.stage !== 'remainder') {
        await this.experiments.tick(c, `scheduler:${this.me}`, () => this.allSent(c)).catch((err: unknown) => this.log.error({ err, campaignId: c._id }, 'experiment check failed'));
        continue;
      }
      if (!(await this.allSent(c))) continue;
      const res = await this.model.updateOne(
        { _id: c._id, state: 'running' },
        { $set: { state: 'completed', completedAt: new Date(), updatedAt: new Date() } },
      );
      if (res.modifiedCount > 0) {
        this.log.info({ campaignId: c._id }, 'campaign completed');
        await forgetProgress(this.ctx.conn, c._id).catch((err: unknown) => this.log.warn({ err, campaignId: c._id }, 'progress notes not dropped'));
      }
    }
  }

  /**
   * Whether every queued delivery of a resolved campaign (so far: an experiment's test cohort,
   * then cohort and remainder) has an outcome. Not looked at more often than every 4x the time
   * the last look took, so a false answer may only mean "not checked this tick".
   */
  private async allSent(c: Pick<CampaignDoc, '_id' | 'resolution'>): Promise<boolean> {
    // Fast path: the workers' progress notes add up to the resolved recipients (a few thousand
    // small documents for 100k).
    const now = Date.now();
    const known = typeof c.resolution.queued === 'number' ? c.resolution.queued : null;
    const last = this.lastCheck.get(c._id) ?? { at: 0, tookMs: 0, done: -1, movedAt: now, exactAt: 0, exactTookMs: 0 };
    this.lastCheck.set(c._id, last);
    let finished = false;
    if (known !== null && now - last.at >= Math.max(this.opts.intervalMs, last.tookMs * 4)) {
      const done = await progressOf(this.ctx.conn, c._id);
      if (done !== last.done) Object.assign(last, { done, movedAt: now });
      Object.assign(last, { at: Date.now(), tookMs: Date.now() - now });
      finished = done >= known;
    }
    // Exact counts (no counters: FerretDB v1 loses concurrent $inc updates, measured). They scan
    // the deliveries and outcomes (~6 s each at 100k there, seconds at a few thousand under
    // load), so with a figure to go by they are only the fallback for notes lost in a crash:
    // once the notes stopped growing for 30 s.
    const due = Date.now() - last.exactAt >= Math.max(this.opts.intervalMs, last.exactTookMs * 4);
    if (!finished && due && (known === null || Date.now() - last.movedAt >= 30_000)) {
      const began = Date.now();
      const [queued, outcomes] = await Promise.all([
        deliveryModel(this.ctx.conn).countDocuments({ campaignId: c._id, state: 'queued' }),
        outcomeModel(this.ctx.conn).countDocuments({ campaignId: c._id }),
      ]);
      Object.assign(last, { exactAt: Date.now(), exactTookMs: Date.now() - began });
      finished = outcomes >= queued;
    }
    // The next look (the remainder's, after a test cohort) starts afresh.
    if (finished) this.lastCheck.delete(c._id);
    return finished;
  }

  /**
   * A worker that stopped heart-beating for longer than the sending lease is dead: each of its
   * claims without an outcome was maybe sent, maybe not. It becomes 'unknown' and is never
   * sent again automatically.
   */
  private async sweepDeadWorkers(): Promise<void> {
    const workers = workerModel(this.ctx.conn);
    const cutoff = new Date(Date.now() - this.opts.sendingLeaseMs);
    const dead = await workers.find({ heartbeatAt: { $lt: cutoff }, sweptAt: null }).lean();
    for (const w of dead) {
      const claims = await claimModel(this.ctx.conn).find({ workerId: w._id }).lean();
      const outcomes = outcomeModel(this.ctx.conn);
      const open = [];
      for (const cl of claims) if (!(await outcomes.exists({ _id: cl._id }))) open.push(cl);
      if (open.length > 0) {
        const deliveries = await Promise.all(open.map((cl) => deliveryModel(this.ctx.conn).findById(cl._id).lean()));
        const now = new Date();
        const docs = open.map((cl, i) => ({
          _id: cl._id,
          workspaceId: deliveries[i]?.workspaceId ?? '',
          campaignId: cl.campaignId,
          contactId: deliveries[i]?.contactId ?? '',
          state: 'unknown' as const,
          messageId: null,
          code: 'worker_lost',
          reason: `worker ${w._id} stopped while sending; not retried to avoid a duplicate`,
          at: now,
        }));
        const inserted = await insertNew(outcomes.collection, docs);
        await recordProgress(this.ctx.conn, docs.filter((_, i) => inserted.has(i)));
        this.log.warn({ workerId: w._id, unknown: inserted.size }, 'deliveries of a dead worker marked unknown');
      }
      await workers.updateOne({ _id: w._id }, { $set: { sweptAt: new Date() } });
    }
    await workers.deleteMany({ heartbeatAt: { $lt: new Date(Date.now() - 7 * 86_400_000) } });
  }
}
