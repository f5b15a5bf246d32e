import type { Connection } from 'mongoose';
import { contactModel, type ContactDoc } from '../contacts/model';
import { suppressionModel } from '../suppression/model';
import type { AudienceCounts, CampaignDoc } from '../campaigns/model';
import { deliveryIdFor, type DeliveryDoc } from '../delivery/model';
import { membershipModel, segmentMembers } from './model';

/** Why a contact in the audience gets no message, or null when it is a recipient. */
export function exclusionReason(c: Pick<ContactDoc, 'status' | 'erasedAt' | 'email'>, suppressed: boolean): keyof AudienceCounts | null {
  if (c.erasedAt) return 'erased';
  if (c.status !== 'subscribed') return c.status;
  if (suppressed) return 'suppressed';
  return null;
}

export interface ResolveChunk {
  deliveries: DeliveryDoc[];
  /** Contact id of the last contact looked at: where a resumed resolution continues. */
  cursor: string;
  counts: AudienceCounts;
}

/**
 * Walks the workspace's contacts in id order from `cursor` and yields, per chunk, the deliveries
 * of the campaign's audience (lists ∪ segments, minus excluded lists and segments), one per
 * address; excluded contacts (unsubscribed, bounced, complained, suppressed, erased) become
 * 'suppressed' deliveries with the reason, so the count by state shows them. Segment
 * membership comes from the sender's own projection. `counts` accumulate from `start`.
 */
export async function* resolveAudience(
  conn: Connection,
  campaign: Pick<CampaignDoc, '_id' | 'workspaceId' | 'audience'>,
  opts: { cursor: string | null; start: AudienceCounts; chunkSize?: number },
): AsyncGenerator<ResolveChunk> {
  const { workspaceId, audience } = campaign;
  const memberships = membershipModel(conn);
  const [inSegments, outSegments, suppressedDocs] = await Promise.all([
    segmentMembers(memberships, workspaceId, audience.segments),
    segmentMembers(memberships, workspaceId, audience.excludeSegments),
    suppressionModel(conn).find({ workspaceId }, { email: 1 }).lean(),
  ]);
  const suppressed = new Set(suppressedDocs.map((d) => d.email));
  const lists = new Set(audience.lists);
  const excludeLists = new Set(audience.excludeLists);
  const seen = new Set<string>();
  const counts = { ...opts.start };
  const chunkSize = opts.chunkSize ?? 1000;

  const filter: Record<string, unknown> = { workspaceId };
  if (opts.cursor) filter._id = { $gt: opts.cursor };
  const cursor = contactModel(conn)
    .find(filter, { email: 1, status: 1, listIds: 1, erasedAt: 1 })
    .sort({ _id: 1 })
    .lean()
    .cursor({ batchSize: chunkSize });

  let chunk: DeliveryDoc[] = [];
  let last: string | null = null;
  let looked = 0;
  const now = new Date();
  for await (const c of cursor) {
    last = c._id;
    looked++;
    const inAudience = c.listIds.some((l) => lists.has(l)) || inSegments.has(c._id);
    if (inAudience) {
      if (c.listIds.some((l) => excludeLists.has(l)) || outSegments.has(c._id)) counts.excluded++;
      else if (!c.erasedAt && seen.has(c.email)) counts.duplicates++;
      else {
        if (!c.erasedAt) seen.add(c.email);
        const reason = exclusionReason(c, suppressed.has(c.email));
        if (reason) counts[reason]++;
        else counts.recipients++;
        chunk.push({
          _id: deliveryIdFor(campaign._id, c._id),
          workspaceId,
          campaignId: campaign._id,
          contactId: c._id,
          email: c.erasedAt ? '' : c.email,
          variantId: null,
          phase: 'all',
          state: reason ? 'suppressed' : 'queued',
          reason,
          createdAt: now,
        });
      }
    }
    if (looked >= chunkSize) {
      yield { deliveries: chunk, cursor: last, counts: { ...counts } };
      chunk = [];
      looked = 0;
    }
  }
  if (last !== null && (looked > 0 || chunk.length > 0)) yield { deliveries: chunk, cursor: last, counts: { ...counts } };
}
