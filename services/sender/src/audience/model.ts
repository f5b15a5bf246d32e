import { Schema, type Connection, type Model } from 'mongoose';

/** The sender's own copy of segment membership (from segment-membership.v1): audiences never call the segmenter. */
export interface MembershipDoc {
  /** `<workspaceId>:<segmentId>:<contactId>` */
  _id: string;
  workspaceId: string;
  segmentId: string;
  contactId: string;
  /** Segment (rule) version of the last applied change; an older one is ignored. */
  version: number;
  member: boolean;
  /** Envelope id of the last applied change. */
  eventId: string;
  changedAt: Date;
}

const membershipSchema = new Schema<MembershipDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    segmentId: { type: String, required: true },
    contactId: { type: String, required: true },
    version: { type: Number, required: true },
    member: { type: Boolean, required: true },
    eventId: { type: String, required: true },
    changedAt: { type: Date, required: true },
  },
  { collection: 'segment_memberships', versionKey: false, timestamps: false },
);
membershipSchema.index({ workspaceId: 1, segmentId: 1, member: 1 });

export type MembershipModel = Model<MembershipDoc>;

export function membershipModel(conn: Connection): MembershipModel {
  return (conn.models.SegmentMembership as MembershipModel | undefined) ?? conn.model<MembershipDoc>('SegmentMembership', membershipSchema);
}

export function membershipKey(workspaceId: string, segmentId: string, contactId: string): string {
  return `${workspaceId}:${segmentId}:${contactId}`;
}

/** Contact ids currently in any of the segments. */
export async function segmentMembers(m: MembershipModel, workspaceId: string, segmentIds: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (segmentIds.length === 0) return out;
  const cursor = m.find({ workspaceId, segmentId: { $in: segmentIds }, member: true }, { contactId: 1 }).lean().cursor({ batchSize: 5000 });
  for await (const d of cursor) out.add(d.contactId);
  return out;
}

export async function isMember(m: MembershipModel, workspaceId: string, segmentIds: string[], contactId: string): Promise<boolean> {
  if (segmentIds.length === 0) return false;
  const docs = await Promise.all(segmentIds.map((s) => m.findById(membershipKey(workspaceId, s, contactId), { member: 1 }).lean()));
  return docs.some((d) => d?.member === true);
}
