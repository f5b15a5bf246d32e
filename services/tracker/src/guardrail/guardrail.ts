import { deterministicEventId, Topics, type CampaignGuardrailTripped } from '@payam/contracts';
import type { EventPublisher } from '@payam/kafka';
import type { Logger, Metrics } from '@payam/observability';
import type { StatsCollections } from '../stats/store';

export interface GuardrailOptions {
  /** Complaints per delivery above which a campaign is paused (0.003: Gmail's and Yahoo's line). */
  complaintRate: number;
  /** Deliveries before the rate means anything. */
  minDeliveries: number;
}

/**
 * Publishes campaign.guardrail_tripped (campaign-signals.v1) when a campaign's complaint rate
 * (complaints / deliveries, over all its variants) passes the threshold after the minimum number
 * of deliveries. Once per campaign and rule: the event id is deterministic (campaign + rule), and
 * a guardrail_trips document written after the publish stops us re-sending it on every batch; a
 * crash between the two re-sends the same id, which the sender's de-duplication absorbs.
 *
 * The tracker does not know whether the campaign is still running; the sender, which does,
 * pauses a running campaign and ignores the signal otherwise.
 */
export class Guardrail {
  private readonly tripped;

  constructor(
    private readonly c: StatsCollections,
    private readonly publisher: Pick<EventPublisher, 'publish'>,
    private readonly opts: GuardrailOptions,
    private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.tripped = metrics.counter('tracker_guardrail_tripped_total', 'Campaigns paused by the complaint-rate guardrail');
  }

  async check(workspaceId: string, campaignId: string): Promise<boolean> {
    const docs = await this.c.campaigns.find({ workspaceId, campaignId }, { projection: { 'c.delivered': 1, 'c.complained': 1 } }).toArray();
    const deliveries = docs.reduce((n, d) => n + (d.c?.delivered ?? 0), 0);
    const complaints = docs.reduce((n, d) => n + (d.c?.complained ?? 0), 0);
    if (deliveries < this.opts.minDeliveries) return false;
    const rate = complaints / deliveries;
    if (rate <= this.opts.complaintRate) return false;
    const tripId = `${workspaceId}:${campaignId}:complaint_rate`;
    if (await this.c.guardrailTrips.findOne({ _id: tripId })) return false;
    const signal: CampaignGuardrailTripped = {
      id: deterministicEventId('campaign.guardrail_tripped', workspaceId, campaignId, 'complaint_rate'),
      type: 'campaign.guardrail_tripped',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      workspaceId,
      campaignId,
      rule: 'complaint_rate',
      reason: `complaint rate ${(rate * 100).toFixed(2)}% (${complaints} complaints in ${deliveries} deliveries) is above ${(this.opts.complaintRate * 100).toFixed(2)}%`,
      complaintRate: rate,
      threshold: this.opts.complaintRate,
      deliveries,
      complaints,
    };
    await this.publisher.publish(Topics.campaignSignals, [{ key: campaignId, value: signal }]);
    await this.c.guardrailTrips.updateOne({ _id: tripId }, { $setOnInsert: { at: new Date(), complaintRate: rate } }, { upsert: true });
    this.tripped.inc();
    this.logger.warn({ workspaceId, campaignId, complaintRate: rate, deliveries, complaints }, 'complaint guardrail tripped: campaign pause requested');
    return true;
  }
}
