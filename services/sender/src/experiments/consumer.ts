import { Topics, type EmailEvent } from '@payam/contracts';
import { subscribe, type Delivered } from '@payam/kafka';
import { insertNew } from '@payam/mongo';
import type { Component } from '../app';
import { consumerComponent } from '../consumer-component';
import type { SenderContext } from '../context';
import { campaignModel } from '../campaigns/model';
import { deliveryModel } from '../delivery/model';
import { experimentEventModel, type ExperimentEventDoc, type ExperimentEventKind } from './model';

/** The only event types recordsOf turns into records (the consumer skips the rest unvalidated). */
export const EXPERIMENT_TYPES: ReadonlySet<string> = new Set<EmailEvent['type']>(['email.opened', 'email.clicked', 'email.bounced', 'email.delivered']);

/** The records an event adds for its variant: unique-per-contact facts plus one per open/click event. */
export function recordsOf(event: EmailEvent): Array<{ kind: ExperimentEventKind; key: string }> {
  switch (event.type) {
    case 'email.opened':
    case 'email.clicked': {
      const k = event.type === 'email.opened' ? 'open' : 'click';
      const out: Array<{ kind: ExperimentEventKind; key: string }> = [
        { kind: `${k}_any`, key: event.contactId },
        { kind: `${k}_event`, key: event.id },
      ];
      // Machine opens and clicks (image proxies, privacy prefetch, scanners) never count as human.
      if (event.classification.machine === false) out.push({ kind: `${k}_human`, key: event.contactId });
      return out;
    }
    case 'email.bounced':
      return [{ kind: 'bounce', key: event.contactId }];
    case 'email.delivered':
      return [{ kind: 'delivered', key: event.contactId }];
    default:
      return [];
  }
}

/**
 * Consumer group `sender.experiments` on email-events.v1: opens, clicks, bounces and deliveries
 * of test-cohort deliveries become insert-only records with deterministic ids, so a replay
 * is a no-op and unique counts are exact. Events without a variant cost nothing (prefilter).
 */
export function experimentEventsConsumer(ctx: SenderContext): Component {
  const records = experimentEventModel(ctx.conn);
  const deliveries = deliveryModel(ctx.conn);

  const handleBatch = async (batch: Array<Delivered<EmailEvent>>): Promise<void> => {
    const relevant = batch
      .map((r) => r.value)
      .filter((e) => e.variantId !== null && e.deliveryId !== null && e.campaignId !== null && recordsOf(e).length > 0);
    if (relevant.length === 0) return;
    // Only events of this store's experiment campaigns: one query over the small campaigns
    // collection first, rather than a read of the (large) deliveries per event of any campaign.
    const campaignIds = [...new Set(relevant.map((e) => e.campaignId!))];
    const experiments = new Set(
      (await campaignModel(ctx.conn).find({ _id: { $in: campaignIds }, experiment: { $ne: null } }, { _id: 1 }).lean()).map((c) => c._id),
    );
    const ids = [...new Set(relevant.filter((e) => experiments.has(e.campaignId!)).map((e) => e.deliveryId!))];
    if (ids.length === 0) return;
    // Reads by _id (fast on FerretDB); the delivery, not the event, says which variant and phase.
    const found = new Map(
      (await Promise.all(ids.map((id) => deliveries.findById(id, { campaignId: 1, workspaceId: 1, variantId: 1, phase: 1 }).lean())))
        .filter((d) => d !== null)
        .map((d) => [d._id, d]),
    );
    const docs: ExperimentEventDoc[] = [];
    const at = new Date();
    for (const e of relevant) {
      const d = found.get(e.deliveryId!);
      if (!d || d.phase !== 'test' || !d.variantId || d.campaignId !== e.campaignId || d.workspaceId !== e.workspaceId) continue;
      for (const r of recordsOf(e)) {
        docs.push({
          _id: `${d.campaignId}:${d.variantId}:${r.kind}:${r.key}`,
          campaignId: d.campaignId,
          variantId: d.variantId,
          kind: r.kind,
          contactId: e.contactId,
          at,
        });
      }
    }
    const unique = [...new Map(docs.map((d) => [d._id, d])).values()];
    for (let i = 0; i < unique.length; i += 1000) await insertNew(records.collection, unique.slice(i, i + 1000));
  };

  // Only a variant's events can matter: the others (every email.sent, every event of a campaign
  // without an experiment) are skipped before the schema check.
  const prefilter = (raw: Record<string, unknown>) => EXPERIMENT_TYPES.has(raw.type as string) && typeof raw.variantId === 'string';
  return consumerComponent(ctx, 'experiment-events', 'sender.experiments', [subscribe({ topic: Topics.emailEvents, prefilter, handleBatch })]);
}
