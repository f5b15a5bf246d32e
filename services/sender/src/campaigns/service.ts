import { LRUCache } from 'lru-cache';
import type { Connection } from 'mongoose';
import { pageById, type Page } from '../paging';
import { ConflictError, InvalidInputError, NotFoundError } from '@payam/errors';
import { newId } from '../ids';
import { listModel } from '../lists/model';
import { templateModel } from '../templates/model';
import { claimModel, deliveryModel, outcomeModel } from '../delivery/model';
import { campaignModel, canTransition, EMPTY_COUNTS, TRANSITIONS, type CampaignAction, type CampaignDoc, type CampaignModel, type CampaignState, type FinalProgress } from './model';
import type { CampaignCreate } from './schemas';
import { experimentConfigView } from '../experiments/views';

export interface CampaignProgress {
  /** Deliveries by state. 'suppressed': excluded when the audience was resolved; 'skipped': at send time. */
  counts: FinalProgress['counts'];
  total: number;
  /** Messages sent per second over the last minute. */
  ratePerSecond: number;
  /** Seconds until the remaining deliveries are sent at that rate; null when nothing moves. */
  etaSeconds: number | null;
  /** When these figures were counted: a running campaign's are up to a few count-times old (see progress()). */
  countedAt: string;
  /** When these became the campaign's final figures (finished, nothing in flight); null while they may move. */
  settledAt: string | null;
}

/** A running campaign's counted progress is answered for at least this long before it is counted again. */
const MIN_PROGRESS_AGE_MS = 2_000;

export function campaignView(c: CampaignDoc) {
  return {
    campaignId: c._id,
    name: c.name,
    templateId: c.templateId,
    audience: c.audience,
    trigger: c.trigger,
    from: c.from,
    replyTo: c.replyTo,
    configurationSet: c.configurationSet,
    tags: c.tags,
    experiment: c.experiment ? experimentConfigView(c.experiment) : null,
    state: c.state,
    stateReason: c.stateReason,
    sendAt: c.sendAt?.toISOString() ?? null,
    audienceCounts: c.resolution.counts,
    resolution: c.resolution.status,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    startedAt: c.startedAt?.toISOString() ?? null,
    pausedAt: c.pausedAt?.toISOString() ?? null,
    completedAt: c.completedAt?.toISOString() ?? null,
    cancelledAt: c.cancelledAt?.toISOString() ?? null,
  };
}

export class CampaignService {
  readonly model: CampaignModel;

  /** Running campaigns' last counts (progress()); a stale entry is answered while it is counted again. */
  private readonly liveProgress = new LRUCache<string, CampaignProgress, CampaignDoc>({
    max: 1_000,
    ttl: MIN_PROGRESS_AGE_MS,
    allowStale: true,
    fetchMethod: async (_key, _stale, { options, context }) => {
      const began = Date.now();
      const counted = await this.countProgress(context);
      options.ttl = Math.max(MIN_PROGRESS_AGE_MS, 4 * (Date.now() - began));
      return counted;
    },
  });

  constructor(
    private readonly conn: Connection,
    /** Called after a change that gives the background driver work (start, resume). */
    private readonly kick: () => void = () => undefined,
  ) {
    this.model = campaignModel(conn);
  }

  async create(workspaceId: string, input: CampaignCreate): Promise<CampaignDoc> {
    await this.checkReferences(workspaceId, input);
    const now = new Date();
    const doc: CampaignDoc = {
      _id: newId('cmp'),
      workspaceId,
      name: input.name,
      templateId: input.templateId,
      audience: input.audience,
      trigger: input.trigger,
      from: input.from,
      replyTo: input.replyTo,
      configurationSet: input.configurationSet,
      tags: input.tags,
      state: 'draft',
      stateReason: null,
      sendAt: null,
      resolution: { status: 'pending', cursor: null, counts: { ...EMPTY_COUNTS }, resolvedAt: null },
      work: { pending: false, requeue: false, seq: 0, leaseBy: null, leaseUntil: null },
      experiment: input.experiment ? { ...input.experiment, stage: 'test', testFinishedAt: null, winnerId: null } : null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      pausedAt: null,
      completedAt: null,
      cancelledAt: null,
      finalProgress: null,
    };
    await this.model.collection.insertOne(doc as never);
    if (input.sendAt !== undefined) return this.schedule(workspaceId, doc._id, input.sendAt);
    return doc;
  }

  private async checkReferences(workspaceId: string, input: CampaignCreate): Promise<void> {
    const problems: Array<{ path: string; message: string }> = [];
    const tpl = await templateModel(this.conn).exists({ _id: input.templateId, workspaceId });
    if (!tpl) problems.push({ path: 'body.templateId', message: `no template ${input.templateId} in this workspace` });
    const lists = listModel(this.conn);
    for (const key of ['lists', 'excludeLists'] as const) {
      for (const [i, id] of input.audience[key].entries()) {
        if (!(await lists.exists({ _id: id, workspaceId }))) problems.push({ path: `body.audience.${key}.${i}`, message: `no list ${id} in this workspace` });
      }
    }
    if (problems.length > 0) throw new InvalidInputError(problems);
  }

  async get(workspaceId: string, campaignId: string): Promise<CampaignDoc> {
    const doc = await this.model.findById(campaignId).lean();
    if (!doc || doc.workspaceId !== workspaceId) throw new NotFoundError('campaign', campaignId);
    return doc;
  }

  /** Newest first, a page at a time: `nextCursor` (null on the last page) asks for the next one. */
  async list(workspaceId: string, q: { state?: CampaignState; limit: number; cursor?: string }): Promise<Page<CampaignDoc>> {
    return pageById(this.model, q.state ? { workspaceId, state: q.state } : { workspaceId }, q, -1);
  }

  /**
   * Moves the campaign if its current state allows the action, atomically (the state is part
   * of the filter, so two concurrent requests cannot both win); else 409 with the current state.
   */
  async transition(workspaceId: string, campaignId: string, action: CampaignAction, set: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<CampaignDoc> {
    const allowed = TRANSITIONS[action].from as readonly CampaignState[];
    const to = TRANSITIONS[action].to;
    const update: Record<string, unknown> = { $set: { ...set, ...(to ? { state: to } : {}), updatedAt: new Date() }, ...extra };
    const doc = await this.model.findOneAndUpdate({ _id: campaignId, workspaceId, state: { $in: allowed } }, update, { new: true }).lean();
    if (doc) return doc;
    const current = await this.get(workspaceId, campaignId);
    throw new ConflictError(`cannot ${action} a campaign that is ${current.state}`, { currentState: current.state, action });
  }

  async schedule(workspaceId: string, campaignId: string, sendAt: string): Promise<CampaignDoc> {
    const at = new Date(sendAt);
    const current = await this.get(workspaceId, campaignId);
    if (current.trigger) throw new InvalidInputError([{ path: 'body.sendAt', message: 'a triggered campaign cannot be scheduled; start it' }]);
    if (!canTransition('schedule', current.state)) {
      throw new ConflictError(`cannot schedule a campaign that is ${current.state}`, { currentState: current.state, action: 'schedule' });
    }
    return this.transition(workspaceId, campaignId, 'schedule', { sendAt: at, stateReason: null });
  }

  async start(workspaceId: string, campaignId: string): Promise<CampaignDoc> {
    const current = await this.get(workspaceId, campaignId);
    const tpl = await templateModel(this.conn).exists({ _id: current.templateId, workspaceId });
    if (!tpl && canTransition('start', current.state)) {
      throw new ConflictError(`template ${current.templateId} no longer exists`, { currentState: current.state, action: 'start' });
    }
    const doc = await this.transition(workspaceId, campaignId, 'start', startFields(current.trigger !== null), { $inc: { 'work.seq': 1 } });
    this.kick();
    return doc;
  }

  async pause(workspaceId: string, campaignId: string, reason = 'paused by request'): Promise<CampaignDoc> {
    return this.transition(workspaceId, campaignId, 'pause', { pausedAt: new Date(), stateReason: reason });
  }

  async resume(workspaceId: string, campaignId: string): Promise<CampaignDoc> {
    // Jobs that arrived while paused were dropped by the workers: enqueue every queued delivery again.
    const doc = await this.transition(
      workspaceId,
      campaignId,
      'resume',
      { stateReason: null, pausedAt: null, 'work.pending': true, 'work.requeue': true },
      { $inc: { 'work.seq': 1 } },
    );
    this.kick();
    return doc;
  }

  async cancel(workspaceId: string, campaignId: string): Promise<CampaignDoc> {
    return this.transition(workspaceId, campaignId, 'cancel', { cancelledAt: new Date(), 'work.pending': false });
  }

  /** Pause by the system (too many errors, a guardrail, a suspended account): idempotent, never throws on state. */
  async pauseBySystem(campaignId: string, reason: string): Promise<boolean> {
    const res = await this.model.updateOne(
      { _id: campaignId, state: 'running' },
      { $set: { state: 'paused', stateReason: reason, pausedAt: new Date(), updatedAt: new Date() } },
    );
    return res.modifiedCount > 0;
  }

  /**
   * Counted from the deliveries, claims and outcomes while the campaign can move; a finished one
   * answers the figures the driver settled (model.ts, finalProgress), and one never started has
   * no deliveries to count.
   *
   * The count is four passes over every campaign's deliveries, claims and outcomes on FerretDB
   * v1 (~22 s once a 100k campaign's exist), and dashboards poll this while a campaign sends. So
   * each campaign is counted by one request at a time (the others wait for that count), and its
   * figures are answered for max(2 s, 4 × the count's duration); after that the old figures are
   * answered while a new count runs. Their countedAt says how old they are.
   */
  async progress(campaign: CampaignDoc): Promise<CampaignProgress> {
    const final = campaign.finalProgress;
    if (final) {
      const at = new Date(final.settledAt).toISOString();
      return { counts: final.counts, total: final.total, ratePerSecond: 0, etaSeconds: 0, countedAt: at, settledAt: at };
    }
    if (campaign.startedAt === null && (campaign.state === 'draft' || campaign.state === 'scheduled')) {
      const counts = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0, unknown: 0, suppressed: 0, cancelled: 0 };
      return { counts, total: 0, ratePerSecond: 0, etaSeconds: 0, countedAt: new Date().toISOString(), settledAt: null };
    }
    // Keyed with the state: a campaign paused, resumed or cancelled is counted afresh.
    const counted = await this.liveProgress.fetch(`${campaign._id}:${campaign.state}`, { context: campaign });
    return counted ?? this.countProgress(campaign);
  }

  /**
   * `withRate: false` skips the last minute's send rate (a fourth pass over the outcomes) for a
   * caller that keeps only the counts: ratePerSecond is then 0.
   */
  async countProgress(campaign: CampaignDoc, { withRate = true }: { withRate?: boolean } = {}): Promise<CampaignProgress> {
    const campaignId = campaign._id;
    const since = new Date(Date.now() - 60_000);
    const [byInitial, claimed, byOutcome, recent] = await Promise.all([
      deliveryModel(this.conn).aggregate<{ _id: string; n: number }>([{ $match: { campaignId } }, { $group: { _id: '$state', n: { $sum: 1 } } }]),
      claimModel(this.conn).countDocuments({ campaignId }),
      outcomeModel(this.conn).aggregate<{ _id: string; n: number }>([{ $match: { campaignId } }, { $group: { _id: '$state', n: { $sum: 1 } } }]),
      withRate ? outcomeModel(this.conn).countDocuments({ campaignId, state: 'sent', at: { $gte: since } }) : 0,
    ]);
    const initial = Object.fromEntries(byInitial.map((r) => [r._id, r.n])) as Record<string, number>;
    const outcome = Object.fromEntries(byOutcome.map((r) => [r._id, r.n])) as Record<string, number>;
    const finished = Object.values(outcome).reduce((a, b) => a + b, 0);
    const unclaimed = Math.max(0, (initial.queued ?? 0) - claimed);
    const cancelled = campaign.state === 'cancelled' ? unclaimed : 0;
    const counts = {
      queued: unclaimed - cancelled,
      sending: Math.max(0, claimed - finished),
      sent: outcome.sent ?? 0,
      failed: outcome.failed ?? 0,
      skipped: outcome.skipped ?? 0,
      unknown: outcome.unknown ?? 0,
      suppressed: initial.suppressed ?? 0,
      cancelled,
    };
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const ratePerSecond = Math.round((recent / 60) * 100) / 100;
    const remaining = counts.queued + counts.sending;
    const etaSeconds = remaining === 0 ? 0 : ratePerSecond > 0 && campaign.state === 'running' ? Math.ceil(remaining / ratePerSecond) : null;
    return { counts, total, ratePerSecond, etaSeconds, countedAt: new Date().toISOString(), settledAt: null };
  }
}

/** Fields set when a campaign starts (now or at its sendAt). A triggered campaign has no audience to resolve. */
export function startFields(triggered: boolean): Record<string, unknown> {
  const now = new Date();
  return {
    startedAt: now,
    stateReason: null,
    'work.pending': !triggered,
    'work.requeue': false,
    ...(triggered ? { 'resolution.status': 'done', 'resolution.resolvedAt': now } : {}),
  };
}
