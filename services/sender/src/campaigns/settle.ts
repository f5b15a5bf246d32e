import type { Logger } from '@payam/observability';
import { FINISHED_STATES } from './model';
import type { CampaignService } from './service';

const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 3_600_000;

/**
 * Writes a finished campaign's delivery counts into its finalProgress once nothing of it is in
 * flight, so that GET /campaigns/:id stops counting them (CampaignService.progress). On FerretDB
 * v1 one count passes over every campaign's deliveries, claims and outcomes: ~22 s once a 100k
 * campaign's exist. So this runs one campaign at a time, beside the driver's tick rather than in
 * it, and a campaign still moving (a dead worker's claims not yet swept) is counted again only
 * after a wait that doubles each time. Campaigns finished before this existed are settled the
 * same way, oldest first. Several processes may settle the same campaign: the figures are equal.
 *
 * Nothing is settled while a campaign (not a triggered one: those run for good) is sending: the
 * passes would take the CPU and database its sends need. Until settled, GET counts as before.
 */
export class ProgressSettler {
  private running: Promise<unknown> | null = null;
  private readonly retry = new Map<string, { at: number; waitMs: number }>();

  constructor(
    private readonly campaigns: CampaignService,
    private readonly log: Logger,
  ) {}

  kick(): void {
    if (this.running) return;
    this.running = this.settleNext()
      .catch((err: unknown) => this.log.warn({ err }, 'settling campaign progress failed; will retry'))
      .finally(() => {
        this.running = null;
      });
  }

  async idle(): Promise<void> {
    await this.running;
  }

  /** Settles at most one campaign; answers its id when it did. */
  async settleNext(): Promise<string | null> {
    const now = Date.now();
    if (await this.campaigns.model.exists({ state: 'running', trigger: null })) return null;
    const candidates = await this.campaigns.model.find({ state: { $in: [...FINISHED_STATES] }, finalProgress: null }).sort({ _id: 1 }).limit(100).lean();
    const next = candidates.find((c) => (this.retry.get(c._id)?.at ?? 0) <= now);
    if (!next) return null;
    const { counts, total } = await this.campaigns.countProgress(next, { withRate: false });
    if (counts.sending > 0 || counts.queued > 0) {
      const waitMs = Math.min(MAX_RETRY_MS, (this.retry.get(next._id)?.waitMs ?? FIRST_RETRY_MS / 2) * 2);
      this.retry.set(next._id, { at: Date.now() + waitMs, waitMs });
      return null;
    }
    await this.campaigns.model.updateOne({ _id: next._id, state: next.state, finalProgress: null }, { $set: { finalProgress: { counts, total, settledAt: new Date() } } });
    this.retry.delete(next._id);
    this.log.info({ campaignId: next._id, total }, 'campaign progress settled');
    return next._id;
  }
}
