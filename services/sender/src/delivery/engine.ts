import { Topics, type EmailEvent, type SendJob } from '@payam/contracts';
import type { TokenSigner } from '@payam/tracking-token';
import type { Logger } from '@payam/observability';
import { insertNew } from '@payam/mongo';
import type { SenderContext } from '../context';
import type { CampaignDoc } from '../campaigns/model';
import type { CampaignService } from '../campaigns/service';
import { renderMessage, type RenderableTemplate } from '../templates/render';
import { contactTemplateData } from '../templates/service';
import { exclusionReason } from '../audience/resolve';
import { addTextFooter, addTracking } from './compose';
import { variantOf, withVariant } from '../experiments/variants';
import { publishSendJobs } from './enqueue';
import { SendError, type Messenger, type OutgoingMessage } from './messenger';
import { claimModel, outcomeModel, type OutcomeDoc } from './model';
import { outcomeEvent, type DeliveryResult } from './outcome-event';
import { ProgressBuffer } from './progress';
import { backoffMs, Semaphore, type TokenBucket } from './rate-limiter';
import { BatchRecipients, RecipientReader, type Recipient, type RecipientSnapshot, type SendableContact } from './recipients';

export interface EngineOptions {
  /** Sends in flight per worker. */
  concurrency: number;
  /** Errors in a row (per campaign, per worker) after which the campaign pauses itself. */
  maxConsecutiveErrors: number;
  /** Attempts of one delivery on retryable errors before it is put back in the queue. */
  maxAttempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  trackingBaseUrl: string;
  /** Most jobs claimed together (one insert of claims, one of outcomes, one publish of events); at most half the concurrency. */
  chunkSize?: number;
  /** How stale a campaign's state may be before a send re-reads it (pause takes effect within this). */
  campaignStateTtlMs?: number;
  /**
   * How old the recipients' contacts and suppressions, read once for a fetched batch, may be
   * when a chunk of it is claimed; older, they are read again for the rest of the batch.
   */
  recipientsMaxAgeMs?: number;
}

/** Default of EngineOptions.recipientsMaxAgeMs: a suppression or unsubscribe is honoured within this (plus the rate wait). */
export const RECIPIENTS_MAX_AGE_MS = 5_000;

type Result =
  | { kind: 'done'; outcome: OutcomeDoc; event: EmailEvent }
  /** Not attempted (campaign stopped) or to be tried again later: the claim is withdrawn. */
  | { kind: 'release'; requeue: boolean };

interface CachedCampaign {
  doc: CampaignDoc | null;
  at: number;
  loading: Promise<CampaignDoc | null> | null;
}

/**
 * The send engine: a delivery moves queued → sending (claim) → sent | failed | skipped, each
 * step an insert that only one caller can win, so a job delivered twice, or to two workers
 * during a rebalance, sends at most once. The order per delivery is claim → send → publish
 * the event → record the outcome; a crash between send and outcome leaves the delivery in
 * 'sending', which the sweeper later marks 'unknown' (never re-sent: a duplicate marketing
 * email is worse than a missing one).
 */
export class SendEngine {
  private readonly sends: Semaphore;
  /** Chunks claimed and in progress at once, across all partitions (see handleJobs). */
  private readonly chunkLanes: Semaphore;
  private readonly chunkSize: number;
  private readonly campaigns = new Map<string, CachedCampaign>();
  private readonly templates = new Map<string, { at: number; tpl: Promise<RenderableTemplate> }>();
  private readonly errorsInARow = new Map<string, number>();
  private readonly recipients: RecipientReader;
  /** Outcome counts for the driver's completion check (progress.ts). */
  private readonly progress: ProgressBuffer;
  private readonly log: Logger;
  private readonly trackingBaseUrl: string;

  constructor(
    private readonly ctx: SenderContext,
    private readonly campaignService: CampaignService,
    private readonly messenger: Messenger,
    private readonly signer: TokenSigner,
    private readonly bucket: TokenBucket,
    private readonly workerId: string,
    private readonly opts: EngineOptions,
  ) {
    this.sends = new Semaphore(opts.concurrency);
    // At most 2 × concurrency deliveries claimed and unfinished at once, in chunks of half the
    // concurrency: four smaller chunks overlap one chunk's claim, event and outcome writes with
    // the others' sends better than two big ones, for the same number of claims at risk.
    this.chunkSize = Math.max(1, Math.min(opts.chunkSize ?? 64, Math.ceil(opts.concurrency / 2)));
    this.chunkLanes = new Semaphore(Math.max(1, Math.floor((2 * opts.concurrency) / this.chunkSize)));
    this.recipients = new RecipientReader(ctx.conn);
    this.log = ctx.logger.child({ component: 'send-engine', workerId });
    this.trackingBaseUrl = opts.trackingBaseUrl.replace(/\/+$/, '');
    // Only speeds up completion (the driver's exact count is the fallback): a failure is logged.
    this.progress = new ProgressBuffer(ctx.conn, 250, (err) => this.log.warn({ err }, 'progress note not written'));
  }

  /**
   * Processes the jobs of one fetched batch in chunks of half the send concurrency. A
   * claim is a promise to send now: whatever is claimed when a worker dies becomes 'unknown' and
   * is never re-sent, so claiming whole fetched batches up front would strand all of them. The
   * engine therefore lets at most 2 × concurrency deliveries be claimed at a time across every
   * partition it serves (some sending while others are claimed and rendered, or have their
   * events and outcomes written): a crash strands at most that many. `heartbeat` keeps the
   * consumer's session alive between chunks of a long, rate-limited batch.
   *
   * The recipients (contacts, suppressions) of the whole batch are read before its first chunk is
   * claimed, in one query per collection rather than one per message (each query scans a whole
   * collection on FerretDB). A chunk that finds that read older than recipientsMaxAgeMs reads
   * again for itself and the rest of the batch. So the send-time checks (unsubscribe, bounce,
   * complaint, suppression, erasure) see data at most recipientsMaxAgeMs old when a chunk is
   * claimed; its sends then wait for their rate tokens, as they did after the per-message reads.
   */
  async handleJobs(jobs: SendJob[], heartbeat: () => Promise<void> = async () => undefined): Promise<void> {
    // Jobs of a paused or cancelled campaign are dropped without reading their recipients.
    const { active: unique } = await this.runningJobs([...new Map(jobs.map((j) => [j.deliveryId, j])).values()], 0);
    if (unique.length === 0) return;
    const chunks: SendJob[][] = [];
    for (let i = 0; i < unique.length; i += this.chunkSize) chunks.push(unique.slice(i, i + this.chunkSize));
    const recipients = new BatchRecipients(this.recipients, chunks, this.opts.recipientsMaxAgeMs ?? RECIPIENTS_MAX_AGE_MS);
    await Promise.all(
      chunks.map((c, i) =>
        this.chunkLanes.run(async () => {
          await this.processChunk(c, () => recipients.of(i));
          recipients.done(i);
          await heartbeat();
        }),
      ),
    );
  }

  /** Writes the progress notes gathered so far (on stop: completion then needs no exact count). */
  flushProgress(): Promise<void> {
    return this.progress.flush();
  }

  private async campaign(campaignId: string, maxAgeMs: number): Promise<CampaignDoc | null> {
    let entry = this.campaigns.get(campaignId);
    if (entry && Date.now() - entry.at <= maxAgeMs) return entry.doc;
    if (entry?.loading) return entry.loading;
    if (!entry) {
      entry = { doc: null, at: 0, loading: null };
      this.campaigns.set(campaignId, entry);
    }
    const e = entry;
    const started = Date.now();
    e.loading = this.campaignService.model
      .findById(campaignId)
      .lean()
      .then((doc) => {
        e.doc = doc;
        e.at = started;
        return doc;
      })
      .finally(() => {
        e.loading = null;
      });
    return e.loading;
  }

  private async isRunning(campaignId: string): Promise<boolean> {
    const c = await this.campaign(campaignId, this.opts.campaignStateTtlMs ?? 500);
    return c?.state === 'running';
  }

  private template(c: CampaignDoc): Promise<RenderableTemplate> {
    const hit = this.templates.get(c._id);
    if (hit && Date.now() - hit.at < 10_000) return hit.tpl;
    const tpl = this.ctx.templates.loadRenderable(c.workspaceId, c.templateId);
    tpl.catch(() => this.templates.delete(c._id));
    this.templates.set(c._id, { at: Date.now(), tpl });
    return tpl;
  }

  /**
   * The jobs whose campaign is running. A batch reads the campaigns afresh (maxAgeMs 0: a job
   * published after a resume always sees it running); its chunks accept the state as old as a
   * send does (campaignStateTtlMs), so a pause stops the next chunk as soon as it stops a send.
   */
  private async runningJobs(jobs: SendJob[], maxAgeMs: number): Promise<{ active: SendJob[]; docs: Map<string, CampaignDoc | null> }> {
    const ids = [...new Set(jobs.map((j) => j.campaignId))];
    const docs = new Map(await Promise.all(ids.map(async (id) => [id, await this.campaign(id, maxAgeMs)] as const)));
    const active = jobs.filter((j) => {
      const c = docs.get(j.campaignId);
      return c !== undefined && c !== null && c.state === 'running' && c.workspaceId === j.workspaceId;
    });
    return { active, docs };
  }

  private async processChunk(jobs: SendJob[], readRecipients: () => Promise<RecipientSnapshot>): Promise<void> {
    const { active, docs } = await this.runningJobs(jobs, this.opts.campaignStateTtlMs ?? 500);
    if (active.length === 0) return;
    const recipients = await readRecipients();

    const now = new Date();
    const won = await insertNew(
      claimModel(this.ctx.conn).collection,
      active.map((j) => ({ _id: j.deliveryId, campaignId: j.campaignId, workerId: this.workerId, claimedAt: now })),
    );
    const claimed = active.filter((_, i) => won.has(i));
    if (claimed.length === 0) return;

    const results = await Promise.all(
      claimed.map((j) => this.deliver(j, docs.get(j.campaignId)!, recipients.byDelivery.get(j.deliveryId)!).catch((err: unknown) => this.unexpected(j, err))),
    );

    const released = claimed.filter((_, i) => results[i]!.kind === 'release');
    const done = results.filter((r): r is Extract<Result, { kind: 'done' }> => r.kind === 'done');
    if (done.length > 0) {
      // Built by outcomeEvent from validated data, proven to pass the schema in its test.
      await this.ctx.publisher.publish(
        Topics.emailEvents,
        done.map((r) => ({ key: r.outcome.contactId, value: r.event })),
        { validate: false },
      );
      const outcomes = done.map((r) => r.outcome);
      const added = await retrying(() => insertNew(outcomeModel(this.ctx.conn).collection, outcomes), 5);
      this.progress.add(outcomes.filter((_, i) => added.has(i)));
    }
    if (released.length > 0) {
      await claimModel(this.ctx.conn).deleteMany({ _id: { $in: released.map((j) => j.deliveryId) }, workerId: this.workerId });
      const again = claimed.filter((_, i) => results[i]!.kind === 'release' && (results[i] as { requeue: boolean }).requeue);
      if (again.length > 0) {
        await publishSendJobs(
          this.ctx.publisher,
          again.map((j) => ({
            _id: j.deliveryId,
            workspaceId: j.workspaceId,
            campaignId: j.campaignId,
            contactId: j.contactId,
            phase: j.phase,
            variantId: recipients.byDelivery.get(j.deliveryId)!.variantId,
            contact: j.contact,
          })),
          Date.now(),
        );
      }
    }
  }

  /** A bug or an outage while preparing a message (not a send error): give the delivery back, untried. */
  private unexpected(job: SendJob, err: unknown): Result {
    this.log.error({ err, deliveryId: job.deliveryId }, 'delivery preparation failed; returning it to the queue');
    return { kind: 'release', requeue: true };
  }

  private async deliver(job: SendJob, campaign: CampaignDoc, recipient: Recipient): Promise<Result> {
    const { contact, variantId } = recipient;
    if (!recipient.queued) {
      return this.finish(job, variantId, campaign, { state: 'skipped', code: 'not_queued', reason: 'delivery is not a queued recipient' });
    }
    // Re-checked at send time (from the batch's read, see handleJobs): a complaint, bounce,
    // unsubscribe or erasure since resolution wins.
    if (!contact) return this.finish(job, variantId, campaign, { state: 'skipped', code: 'erased', reason: 'contact no longer exists' });
    const why = exclusionReason(contact, recipient.suppressed);
    if (why) return this.finish(job, variantId, campaign, { state: 'skipped', code: why, reason: `contact is ${why} at send time` });

    let message: OutgoingMessage;
    let subject: string;
    try {
      ({ message, subject } = await this.compose(job, campaign, variantId, contact));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return this.finish(job, variantId, campaign, { state: 'failed', code: 'render_failed', reason }, contact.email);
    }

    for (let attempt = 0; ; attempt++) {
      if (!(await this.isRunning(job.campaignId))) return { kind: 'release', requeue: false };
      try {
        const sent = await this.sends.run(async () => {
          // Waiting for a send slot and a rate token can take as long as the whole claimed
          // backlog: a pause or cancel during that wait must stop this send too (checked before
          // the token too, so a stopped campaign's backlog is released without using the rate).
          if (!(await this.isRunning(job.campaignId))) return null;
          await this.bucket.acquire();
          if (!(await this.isRunning(job.campaignId))) return null;
          return this.messenger.send(message);
        });
        if (sent === null) return { kind: 'release', requeue: false };
        const { messageId } = sent;
        this.errorsInARow.delete(job.campaignId);
        return this.finish(job, variantId, campaign, { state: 'sent', messageId, subject }, contact.email);
      } catch (err) {
        const e = err instanceof SendError ? err : new SendError('retryable', 'Error', String(err));
        if (e.kind === 'account') {
          await this.stopCampaign(job.campaignId, `sending account cannot send (${e.code}): ${e.message}`);
          return { kind: 'release', requeue: false };
        }
        const inARow = (this.errorsInARow.get(job.campaignId) ?? 0) + 1;
        this.errorsInARow.set(job.campaignId, inARow);
        if (inARow >= this.opts.maxConsecutiveErrors) {
          await this.stopCampaign(job.campaignId, `${inARow} send errors in a row; last: ${e.code}: ${e.message}`.slice(0, 500));
        }
        if (e.kind === 'permanent') {
          return this.finish(job, variantId, campaign, { state: 'failed', code: e.code, reason: e.message }, contact.email);
        }
        if (attempt + 1 >= this.opts.maxAttempts) return { kind: 'release', requeue: true };
        await sleep(backoffMs(attempt, this.opts.backoffBaseMs, this.opts.backoffCapMs));
      }
    }
  }

  private async stopCampaign(campaignId: string, reason: string): Promise<void> {
    this.errorsInARow.delete(campaignId);
    const paused = await this.campaignService.pauseBySystem(campaignId, reason);
    if (paused) this.log.warn({ campaignId, reason }, 'campaign paused by the send engine');
    const entry = this.campaigns.get(campaignId);
    if (entry?.doc) entry.doc = { ...entry.doc, state: 'paused' };
  }

  private async compose(job: SendJob, campaign: CampaignDoc, variantId: string | null, contact: SendableContact): Promise<{ message: OutgoingMessage; subject: string }> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const tokens = this.signer.forMessage({
      workspaceId: job.workspaceId,
      contactId: job.contactId,
      campaignId: job.campaignId,
      deliveryId: job.deliveryId,
      variantId,
      issuedAt,
    });
    const url = this.trackingBaseUrl;
    const unsubscribeUrl = `${url}/u/${tokens.unsubscribe()}`;
    // An experiment variant's subject, preheader and from-name override the template's.
    const variant = variantOf(campaign, variantId);
    const plain = await this.template(campaign);
    const tpl = variant ? withVariant(plain, campaign._id, variant) : plain;
    const fromName = variant?.fromName ?? campaign.from.name;
    const rendered = renderMessage(tpl, { ...contactTemplateData(contact), unsubscribe_url: unsubscribeUrl });
    const html = addTracking(rendered.html, {
      unsubscribeUrl,
      openPixelUrl: `${url}/o/${tokens.open()}.gif`,
      clickUrl: (target, linkIndex) => `${url}/c/${tokens.click(target, linkIndex)}`,
    }).html;
    const tags: Record<string, string> = {
      ...campaign.tags,
      workspace: job.workspaceId,
      campaign: job.campaignId,
      delivery: job.deliveryId,
      contact: job.contactId,
    };
    if (variantId) tags.variant = variantId;
    return {
      subject: rendered.subject,
      message: {
        from: fromName ? `"${fromName}" <${campaign.from.address}>` : campaign.from.address,
        to: contact.email,
        replyTo: campaign.replyTo,
        subject: rendered.subject,
        html,
        text: addTextFooter(rendered.text, unsubscribeUrl),
        headers: [
          { name: 'List-Unsubscribe', value: `<${unsubscribeUrl}>` },
          { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
        ],
        configurationSet: campaign.configurationSet,
        tags,
      },
    };
  }

  private finish(
    job: SendJob,
    variantId: string | null,
    campaign: CampaignDoc,
    r: DeliveryResult,
    recipient: string | null = null,
  ): Result {
    const at = new Date();
    const event = outcomeEvent(job, campaign._id, variantId, r, recipient, at);
    const outcome: OutcomeDoc = {
      _id: job.deliveryId,
      workspaceId: job.workspaceId,
      campaignId: job.campaignId,
      contactId: job.contactId,
      state: r.state,
      messageId: r.state === 'sent' ? r.messageId : null,
      code: r.state === 'sent' ? null : r.code,
      reason: r.state === 'sent' ? null : r.reason,
      at,
    };
    return { kind: 'done', outcome, event };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function retrying<T>(fn: () => Promise<T>, attempts: number): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i + 1 >= attempts) throw err;
      await sleep(backoffMs(i, 100, 2000));
    }
  }
}
