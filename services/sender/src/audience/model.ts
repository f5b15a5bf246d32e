import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The sender's own copy of segment membership (from segment-membership.v1): audiences never
 * call the segmenter. It is an insert-only log of the changes, one document per event (the
 * event id is the _id, so a redelivered change is a duplicate insert and changes nothing);
 * a contact's membership in a segment is its latest change. Insert-only because FerretDB
 * (the local MongoDB) re-reads the whole collection for every update or non-_id lookup,
 * which made a per-change read-then-upsert projection fall minutes behind a 5,000-contact
 * workspace; inserts stay cheap at any size. Superseded changes are never read for a
 * decision, only skipped while reducing.
 */
export interface MembershipChangeDoc {
  /** Envelope id of the segment-membership.v1 event. */
  _id: string;
  workspaceId: string;
  segmentId: string;
  contactId: string;
  /** Segment (rule) version the change was computed under: a newer version wins. */
  version: number;
  member: boolean;
  changedAt: Date;
  /**
   * Kafka offset of the change within its partition. Changes of one contact share a
   * partition (keyed by contactId), so within a version the highest offset is the latest.
   */
  offset: number;
}

const membershipChangeSchema = new Schema<MembershipChangeDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    segmentId: { type: String, required: true },
    contactId: { type: String, required: true },
    version: { type: Number, required: true },
    member: { type: Boolean, required: true },
    changedAt: { type: Date, required: true },
    offset: { type: Number, required: true },
  },
  { collection: 'segment_membership_changes', versionKey: false, timestamps: false },
);
membershipChangeSchema.index({ workspaceId: 1, segmentId: 1 });
membershipChangeSchema.index({ workspaceId: 1, contactId: 1 });

export type MembershipModel = Model<MembershipChangeDoc>;

export function membershipModel(conn: Connection): MembershipModel {
  return (
    (conn.models.SegmentMembershipChange as MembershipModel | undefined) ??
    conn.model<MembershipChangeDoc>('SegmentMembershipChange', membershipChangeSchema)
  );
}

type Change = Pick<MembershipChangeDoc, 'segmentId' | 'contactId' | 'version' | 'member' | 'offset'>;

function isLater(a: Change, b: Change): boolean {
  return a.version !== b.version ? a.version > b.version : a.offset > b.offset;
}

/** Keeps the latest change per (segment, contact) in `latest`; changes may come in any order. */
export function foldLatest(latest: Map<string, Change>, c: Change): void {
  const key = `${c.segmentId}:${c.contactId}`;
  const seen = latest.get(key);
  if (!seen || isLater(c, seen)) latest.set(key, c);
}

const PROJECTION = { segmentId: 1, contactId: 1, version: 1, member: 1, offset: 1 } as const;

/** Contact ids currently in any of the segments. */
export async function segmentMembers(m: MembershipModel, workspaceId: string, segmentIds: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (segmentIds.length === 0) return out;
  const latest = new Map<string, Change>();
  const cursor = m
    .find({ workspaceId, segmentId: { $in: segmentIds } }, PROJECTION)
    .lean<Change[]>()
    .cursor({ batchSize: 5000 });
  for await (const d of cursor) foldLatest(latest, d as Change);
  for (const c of latest.values()) if (c.member) out.add(c.contactId);
  return out;
}

export async function isMember(m: MembershipModel, workspaceId: string, segmentIds: string[], contactId: string): Promise<boolean> {
  if (segmentIds.length === 0) return false;
  const docs = await m.find({ workspaceId, contactId, segmentId: { $in: segmentIds } }, PROJECTION).lean<Change[]>();
  const latest = new Map<string, Change>();
  for (const d of docs) foldLatest(latest, d);
  return [...latest.values()].some((c) => c.member);
}
