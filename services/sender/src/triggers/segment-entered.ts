import type { SegmentMembershipChanged } from '@payam/contracts';
import { insertNew } from '@payam/mongo';
import type { SenderContext } from '../context';
import { campaignModel, type CampaignDoc } from '../campaigns/model';
import { contactModel } from '../contacts/model';
import { isSuppressed } from '../suppression/service';
import { exclusionReason } from '../audience/resolve';
import { isMember, membershipModel } from '../audience/model';
import { publishSendJobs } from '../delivery/enqueue';
import { claimModel, deliveryIdFor, deliveryModel, type DeliveryDoc } from '../delivery/model';

/**
 * Triggered campaigns ("contact entered segment S"): each running campaign on that segment gets
 * one delivery for the contact. The delivery id is derived from campaign+contact, so a contact
 * who leaves and enters again, or a replayed membership event, never gets a second message; a
 * replay re-publishes the job only while the delivery is still unclaimed (the job may have been
 * lost with a crash), and the worker's claim makes that copy harmless.
 */
export class SegmentTriggers {
  private cache: { at: number; bySegment: Map<string, CampaignDoc[]> } | null = null;

  constructor(
    private readonly ctx: SenderContext,
    private readonly cacheMs = 1000,
  ) {}

  private async campaignsFor(workspaceId: string, segmentId: string): Promise<CampaignDoc[]> {
    if (!this.cache || Date.now() - this.cache.at > this.cacheMs) {
      const docs = await campaignModel(this.ctx.conn).find({ state: 'running', 'trigger.type': 'segment_entered' }).lean();
      const bySegment = new Map<string, CampaignDoc[]>();
      for (const d of docs) {
        const key = `${d.workspaceId}:${d.trigger!.segmentId}`;
        bySegment.set(key, [...(bySegment.get(key) ?? []), d]);
      }
      this.cache = { at: Date.now(), bySegment };
    }
    return this.cache.bySegment.get(`${workspaceId}:${segmentId}`) ?? [];
  }

  async onEntered(change: SegmentMembershipChanged): Promise<void> {
    const campaigns = await this.campaignsFor(change.workspaceId, change.segmentId);
    if (campaigns.length === 0) return;
    const contact = await contactModel(this.ctx.conn).findById(change.contactId).lean();
    if (!contact || contact.workspaceId !== change.workspaceId) return;
    const suppressed = contact.erasedAt ? false : await isSuppressed(this.ctx.conn, change.workspaceId, contact.email);
    const reason = exclusionReason(contact, suppressed);
    for (const c of campaigns) {
      if (contact.listIds.some((l) => c.audience.excludeLists.includes(l))) continue;
      if (await isMember(membershipModel(this.ctx.conn), c.workspaceId, c.audience.excludeSegments, contact._id)) continue;
      const delivery: DeliveryDoc = {
        _id: deliveryIdFor(c._id, contact._id),
        workspaceId: c.workspaceId,
        campaignId: c._id,
        contactId: contact._id,
        email: contact.erasedAt ? '' : contact.email,
        variantId: null,
        phase: 'trigger',
        state: reason ? 'suppressed' : 'queued',
        reason,
        createdAt: new Date(),
      };
      const inserted = (await insertNew(deliveryModel(this.ctx.conn).collection, [delivery])).size > 0;
      if (reason) continue;
      if (!inserted) {
        const existing = await deliveryModel(this.ctx.conn).findById(delivery._id, { state: 1 }).lean();
        if (existing?.state !== 'queued' || (await claimModel(this.ctx.conn).exists({ _id: delivery._id }))) continue;
      }
      await publishSendJobs(this.ctx.publisher, [delivery]);
    }
  }
}
