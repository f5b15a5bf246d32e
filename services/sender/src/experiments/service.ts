import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import { ConflictError, InvalidInputError, NotFoundError } from '@payam/errors';
import type { EventPublisher } from '@payam/kafka';
import type { Logger } from '@payam/observability';
import { wilsonInterval } from '@payam/stats';
import { insertNew } from '@payam/mongo';
import { resolveAudience } from '../audience/resolve';
import { campaignModel, EMPTY_COUNTS, type AudienceCounts, type CampaignDoc } from '../campaigns/model';
import { publishSendJobs } from '../delivery/enqueue';
import { deliveryModel, outcomeModel, type DeliveryDoc } from '../delivery/model';
import { assignVariants, decideExperiment, type VariantOutcome } from './decide';
import { decisionModel, experimentEventModel, type CampaignExperiment, type DecisionComparison, type DecisionDoc } from './model';
import { durationMs } from './schemas';
import { experimentConfigView } from './views';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface VariantFigures {
  variantId: string;
  /** Test-cohort deliveries of the variant, and how many of them were sent. */
  recipients: number;
  sent: number;
  bounced: number;
  /** Unique contacts with an email.delivered event (SES Delivery notifications; 0 when not configured). */
  delivered: number;
  opens: { human: number; total: number; events: number };
  clicks: { human: number; total: number; events: number };
  /** Human clickers who also opened as a human (the click-to-open numerator). */
  humanClickersWhoOpened: number;
}

export type ExperimentState = 'not_started' | 'testing' | 'waiting_for_decision' | 'decided' | 'sending_remainder' | 'completed' | 'cancelled';

/**
 * A/B subject-line experiments: splits the audience into a test cohort (variants assigned by a
 * hash of campaign and contact) and a remainder, records per-variant figures, decides once, and
 * hands the remainder to the normal resolution path with the winner's variant id.
 *
 * Denominator of the open and click rates: the variant's test deliveries that were sent minus
 * those that bounced ("presumed delivered"), so the figures need no SES Delivery notifications.
 * Click-to-open: human clickers who also opened as a human, over human openers.
 */
export class ExperimentService {
  constructor(
    private readonly conn: Connection,
    private readonly publisher: EventPublisher,
    private readonly log: Logger,
    /** Gives the campaign driver work now (the remainder's resolution). */
    private readonly kick: () => void = () => undefined,
  ) {}

  private get campaigns() {
    return campaignModel(this.conn);
  }

  /**
   * Test-stage resolution: the whole audience is resolved in one pass (the split needs every
   * recipient's rank), then excluded contacts and the test cohort are inserted and the cohort's
   * jobs published. Re-running after a crash inserts nothing twice (delivery ids come from
   * campaign+contact) and republishes jobs the claims absorb.
   */
  async resolveTestCohort(c: CampaignDoc): Promise<{ counts: AudienceCounts; queued: number }> {
    const e = c.experiment!;
    const recipients: DeliveryDoc[] = [];
    const excluded: DeliveryDoc[] = [];
    let counts: AudienceCounts = { ...EMPTY_COUNTS };
    for await (const chunk of resolveAudience(this.conn, c, { start: { ...EMPTY_COUNTS } })) {
      for (const d of chunk.deliveries) (d.state === 'queued' ? recipients : excluded).push(d);
      counts = chunk.counts;
    }
    const { test } = assignVariants(
      c._id,
      recipients,
      e.variants.map((v) => v.id),
      e.testShare,
      sha256,
    );
    const cohort: DeliveryDoc[] = test.map((d) => ({ ...d, phase: 'test' }));
    for (let i = 0; i < excluded.length; i += 1000) await insertNew(deliveryModel(this.conn).collection, excluded.slice(i, i + 1000));
    for (let i = 0; i < cohort.length; i += 1000) {
      const part = cohort.slice(i, i + 1000);
      await insertNew(deliveryModel(this.conn).collection, part);
      await publishSendJobs(this.publisher, part);
    }
    this.log.info({ campaignId: c._id, cohort: cohort.length, audience: recipients.length }, 'experiment test cohort enqueued');
    return { counts, queued: cohort.length };
  }

  /** Delivery ids of the test cohort (the remainder's resolution skips them). */
  async testDeliveryIds(campaignId: string): Promise<Set<string>> {
    const docs = await deliveryModel(this.conn).find({ campaignId, phase: 'test' }, { _id: 1 }).lean();
    return new Set(docs.map((d) => d._id));
  }

  /** A resolved chunk of the remainder: everyone outside the test cohort gets the winner. */
  remainderDeliveries(c: CampaignDoc, deliveries: DeliveryDoc[], testIds: Set<string>): DeliveryDoc[] {
    const winner = c.experiment!.winnerId;
    return deliveries.filter((d) => !testIds.has(d._id)).map((d) => ({ ...d, variantId: winner, phase: 'remainder' as const }));
  }

  /**
   * Called by the campaign driver for a running campaign in the test stage whose test cohort is
   * resolved: hands a recorded decision to the remainder, notes when the cohort finished
   * sending (the driver's `allSent`, which paces its own checks), and decides when decideAfter
   * has passed since.
   */
  async tick(c: CampaignDoc, by: string, allSent: () => Promise<boolean>): Promise<void> {
    const e = c.experiment!;
    if (await decisionModel(this.conn).exists({ _id: c._id })) return void (await this.advance(c._id));
    if (!e.testFinishedAt) {
      if (!(await allSent())) return;
      await this.campaigns.updateOne({ _id: c._id, 'experiment.stage': 'test', 'experiment.testFinishedAt': null }, { $set: { 'experiment.testFinishedAt': new Date() } });
      this.log.info({ campaignId: c._id, deliveries: c.resolution.queued }, 'experiment test cohort sent; waiting for the decision');
      return;
    }
    if (Date.now() >= decisionDueAt(e)!.getTime()) {
      const { created } = await this.decideAuto(c._id, by);
      if (created) this.log.info({ campaignId: c._id }, 'experiment decided at its decision time');
    }
  }

  /** Decides by the rules now (the scheduler at decideAfter; tests call it directly). Never decides twice. */
  async decideAuto(campaignId: string, by: string): Promise<{ decision: DecisionDoc; created: boolean }> {
    const c = await this.campaigns.findById(campaignId).lean();
    if (!c?.experiment) throw new NotFoundError('experiment', campaignId);
    const existing = await decisionModel(this.conn).findById(campaignId).lean();
    if (existing) return { decision: existing, created: false };
    const e = c.experiment;
    const outcomes = await this.outcomes(c);
    const d = decideExperiment({
      outcomes,
      controlId: e.variants[0]!.id,
      confidence: e.confidence,
      minSamplePerVariant: e.minSamplePerVariant,
      policy: e.notSignificantPolicy,
    });
    return this.record(c, { winnerId: d.winnerId, basis: d.basis, reason: d.reason, comparisons: withCounts(d.comparisons, outcomes), by });
  }

  /** The manual "pick the winner now": recorded as 'manual'; 409 with the decision when one exists. */
  async pickWinner(workspaceId: string, campaignId: string, variantId: string, by: string): Promise<DecisionDoc> {
    const c = await this.campaigns.findById(campaignId).lean();
    if (!c || c.workspaceId !== workspaceId) throw new NotFoundError('campaign', campaignId);
    if (!c.experiment) throw new NotFoundError('experiment', campaignId);
    const e = c.experiment;
    if (!e.variants.some((v) => v.id === variantId)) {
      throw new InvalidInputError([{ path: 'body.variantId', message: `no variant ${variantId}; expected one of ${e.variants.map((v) => v.id).join(', ')}` }]);
    }
    const existing = await decisionModel(this.conn).findById(campaignId).lean();
    if (existing) throw new ConflictError('the experiment is already decided', { decision: decisionView(existing) });
    if (c.state === 'draft' || c.state === 'scheduled' || c.state === 'cancelled') {
      throw new ConflictError(`cannot pick a winner for a campaign that is ${c.state}`, { currentState: c.state });
    }
    const outcomes = await this.outcomes(c);
    const stats = decideExperiment({ outcomes, controlId: e.variants[0]!.id, confidence: e.confidence, minSamplePerVariant: e.minSamplePerVariant, policy: e.notSignificantPolicy });
    const { decision, created } = await this.record(c, {
      winnerId: variantId,
      basis: 'manual',
      reason: `picked by hand (${by}); the figures said: ${stats.reason}`,
      comparisons: withCounts(stats.comparisons, outcomes),
      by,
    });
    if (!created) throw new ConflictError('the experiment is already decided', { decision: decisionView(decision) });
    return decision;
  }

  /** Inserts the decision (the unique _id makes it once only), then starts the remainder. */
  private async record(c: CampaignDoc, d: Pick<DecisionDoc, 'winnerId' | 'basis' | 'reason' | 'comparisons' | 'by'>): Promise<{ decision: DecisionDoc; created: boolean }> {
    const e = c.experiment!;
    const doc: DecisionDoc = { _id: c._id, workspaceId: c.workspaceId, ...d, metric: e.metric, confidence: e.confidence, minSamplePerVariant: e.minSamplePerVariant, decidedAt: new Date() };
    try {
      await decisionModel(this.conn).collection.insertOne(doc as never);
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      const existing = await decisionModel(this.conn).findById(c._id).lean();
      return { decision: existing!, created: false };
    }
    this.log.info({ campaignId: c._id, winner: doc.winnerId, basis: doc.basis, by: doc.by }, 'experiment decided');
    await this.advance(c._id);
    return { decision: doc, created: true };
  }

  /**
   * Test stage → remainder stage, once: a conditional update on the stage, and only after the
   * test cohort's resolution is done (else the driver calls this again on a later tick).
   * The remainder is resolved by the driver's normal, checkpointed path.
   */
  async advance(campaignId: string): Promise<void> {
    const decision = await decisionModel(this.conn).findById(campaignId).lean();
    if (!decision) return;
    const res = await this.campaigns.updateOne(
      { _id: campaignId, 'experiment.stage': 'test', 'resolution.status': 'done' },
      {
        $set: {
          'experiment.stage': 'remainder',
          'experiment.winnerId': decision.winnerId,
          'resolution.status': 'pending',
          'resolution.cursor': null,
          'resolution.counts': { ...EMPTY_COUNTS },
          'work.pending': true,
          updatedAt: new Date(),
        },
        $inc: { 'work.seq': 1 },
      },
    );
    if (res.modifiedCount > 0) {
      this.log.info({ campaignId, winner: decision.winnerId }, 'experiment remainder started');
      this.kick();
    }
  }

  /** Per-variant figures of the test cohort, exact (counted from insert-only records). */
  async figures(c: CampaignDoc): Promise<{ variants: VariantFigures[]; remainder: { recipients: number; sent: number } }> {
    const e = c.experiment!;
    const [deliveries, sent, records] = await Promise.all([
      deliveryModel(this.conn).find({ campaignId: c._id, state: 'queued' }, { _id: 1, variantId: 1, phase: 1 }).lean(),
      outcomeModel(this.conn).find({ campaignId: c._id, state: 'sent' }, { _id: 1 }).lean(),
      experimentEventModel(this.conn).find({ campaignId: c._id }, { variantId: 1, kind: 1, contactId: 1 }).lean(),
    ]);
    const byId = new Map(deliveries.map((d) => [d._id, d]));
    const out = new Map<string, VariantFigures & { sets: Record<string, Set<string>> }>(
      e.variants.map((v) => [
        v.id,
        {
          variantId: v.id,
          recipients: 0,
          sent: 0,
          bounced: 0,
          delivered: 0,
          opens: { human: 0, total: 0, events: 0 },
          clicks: { human: 0, total: 0, events: 0 },
          humanClickersWhoOpened: 0,
          sets: {},
        },
      ]),
    );
    const remainder = { recipients: 0, sent: 0 };
    for (const d of deliveries) {
      if (d.phase === 'test' && d.variantId && out.has(d.variantId)) out.get(d.variantId)!.recipients++;
      else if (d.phase === 'remainder') remainder.recipients++;
    }
    for (const s of sent) {
      const d = byId.get(s._id);
      if (d?.phase === 'test' && d.variantId && out.has(d.variantId)) out.get(d.variantId)!.sent++;
      else if (d?.phase === 'remainder') remainder.sent++;
    }
    // Unique kinds (open_human, open_any, …) hold one record per contact; the *_event kinds hold
    // one record per event id, so they are counted as records, not as distinct contacts.
    const eventCounts = new Map<string, number>();
    for (const r of records) {
      const v = out.get(r.variantId);
      if (!v) continue;
      (v.sets[r.kind] ??= new Set()).add(r.contactId);
      if (r.kind.endsWith('_event')) eventCounts.set(`${r.variantId}:${r.kind}`, (eventCounts.get(`${r.variantId}:${r.kind}`) ?? 0) + 1);
    }
    const size = (v: { sets: Record<string, Set<string>> }, k: string) => v.sets[k]?.size ?? 0;
    const events = (v: { variantId: string }, k: string) => eventCounts.get(`${v.variantId}:${k}`) ?? 0;
    const variants = [...out.values()].map((v) => {
      const openers = v.sets.open_human ?? new Set<string>();
      const { sets, ...figures } = v;
      return {
        ...figures,
        bounced: size(v, 'bounce'),
        delivered: size(v, 'delivered'),
        opens: { human: size(v, 'open_human'), total: size(v, 'open_any'), events: events(v, 'open_event') },
        clicks: { human: size(v, 'click_human'), total: size(v, 'click_any'), events: events(v, 'click_event') },
        humanClickersWhoOpened: [...(sets.click_human ?? [])].filter((id) => openers.has(id)).length,
      };
    });
    return { variants, remainder };
  }

  private async outcomes(c: CampaignDoc): Promise<VariantOutcome[]> {
    const { variants } = await this.figures(c);
    return variants.map((v) => metricOutcome(c.experiment!, v));
  }

  /** GET /campaigns/:id/experiment. */
  async report(workspaceId: string, campaignId: string) {
    const c = await this.campaigns.findById(campaignId).lean();
    if (!c || c.workspaceId !== workspaceId) throw new NotFoundError('campaign', campaignId);
    if (!c.experiment) throw new NotFoundError('experiment', campaignId);
    const e = c.experiment;
    const [{ variants, remainder }, decision] = await Promise.all([this.figures(c), decisionModel(this.conn).findById(campaignId).lean()]);
    const outcomes = variants.map((v) => metricOutcome(e, v));
    // Live statistics while testing; the recorded ones (what the decision saw) once decided.
    const comparisons: DecisionComparison[] =
      decision?.comparisons ??
      withCounts(
        decideExperiment({ outcomes, controlId: e.variants[0]!.id, confidence: e.confidence, minSamplePerVariant: e.minSamplePerVariant, policy: e.notSignificantPolicy }).comparisons,
        outcomes,
      );
    return {
      campaignId,
      state: experimentState(c, decision !== null),
      config: experimentConfigView(e),
      controlId: e.variants[0]!.id,
      testFinishedAt: e.testFinishedAt?.toISOString() ?? null,
      decisionDueAt: decisionDueAt(e)?.toISOString() ?? null,
      variants: variants.map((v, i) => {
        const cmp = comparisons.find((x) => x.variantId === v.variantId);
        return {
          ...v,
          presumedDelivered: Math.max(0, v.sent - v.bounced),
          metric: { name: e.metric, successes: outcomes[i]!.successes, trials: outcomes[i]!.trials, ...wilsonInterval(outcomes[i]!, e.confidence) },
          decisionMetric: cmp ? { successes: cmp.successes, trials: cmp.trials, interval: cmp.interval } : null,
          pValue: cmp?.pValue ?? null,
          adjustedPValue: cmp?.adjustedPValue ?? null,
          significant: cmp?.significant ?? false,
        };
      }),
      remainder: { ...remainder, variantId: e.winnerId },
      decision: decision ? decisionView(decision) : null,
    };
  }
}

/** The decision's successes/trials on the experiment's metric (machine opens and clicks never count). */
export function metricOutcome(e: CampaignExperiment, v: VariantFigures): VariantOutcome {
  const delivered = Math.max(0, v.sent - v.bounced);
  switch (e.metric) {
    case 'unique_human_open_rate':
      return { variantId: v.variantId, successes: Math.min(v.opens.human, delivered), trials: delivered };
    case 'unique_human_click_rate':
      return { variantId: v.variantId, successes: Math.min(v.clicks.human, delivered), trials: delivered };
    case 'click_to_open_rate':
      return { variantId: v.variantId, successes: v.humanClickersWhoOpened, trials: v.opens.human };
  }
}

function withCounts(comparisons: ReturnType<typeof decideExperiment>['comparisons'], outcomes: VariantOutcome[]): DecisionComparison[] {
  return comparisons.map((c) => {
    const o = outcomes.find((x) => x.variantId === c.variantId)!;
    return { ...c, successes: o.successes, trials: o.trials };
  });
}

export function decisionDueAt(e: CampaignExperiment): Date | null {
  return e.testFinishedAt ? new Date(new Date(e.testFinishedAt).getTime() + durationMs(e.decideAfter)!) : null;
}

export function experimentState(c: CampaignDoc, decided: boolean): ExperimentState {
  const e = c.experiment!;
  if (c.state === 'draft' || c.state === 'scheduled') return 'not_started';
  if (e.stage === 'remainder') return c.state === 'completed' ? 'completed' : c.state === 'cancelled' ? 'cancelled' : 'sending_remainder';
  if (c.state === 'cancelled') return 'cancelled';
  if (decided) return 'decided';
  return e.testFinishedAt ? 'waiting_for_decision' : 'testing';
}

export function decisionView(d: DecisionDoc) {
  return {
    winnerId: d.winnerId,
    basis: d.basis,
    reason: d.reason,
    metric: d.metric,
    confidence: d.confidence,
    minSamplePerVariant: d.minSamplePerVariant,
    comparisons: d.comparisons,
    decidedAt: new Date(d.decidedAt).toISOString(),
    by: d.by,
  };
}
