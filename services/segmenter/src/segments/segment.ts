import { Schema, type Connection, type Model } from 'mongoose';
import type { Rule } from '../rules/schema';
import { parseRule } from '../rules/validate';

export interface RecomputeProgress {
  jobId: string;
  status: 'running' | 'done' | 'failed';
  processed: number;
  total: number;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface SegmentDoc {
  _id: string;
  workspaceId: string;
  name: string;
  description: string;
  /** The rule as the client wrote it (validated on save). */
  rule: unknown;
  version: number;
  /** Built-in model this segment was switched on from, if any. */
  template: string | null;
  deleted: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type SegmentModel = Model<SegmentDoc>;

const segmentSchema = new Schema<SegmentDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    rule: { type: Schema.Types.Mixed, required: true },
    version: { type: Number, required: true },
    template: { type: String, default: null },
    deleted: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'segments', versionKey: false, timestamps: false, minimize: false },
);
segmentSchema.index({ workspaceId: 1, deleted: 1 });

export function segmentModel(conn: Connection): SegmentModel {
  return (conn.models.Segment as SegmentModel | undefined) ?? conn.model<SegmentDoc>('Segment', segmentSchema);
}

/** What evaluation needs of a segment. */
export interface LiveSegment {
  id: string;
  version: number;
  rule: Rule;
}

const parsed = new Map<string, { version: number; rule: Rule }>();

/** Parses a stored segment's rule once per version. */
export function liveSegment(doc: Pick<SegmentDoc, '_id' | 'version' | 'rule'>): LiveSegment {
  const hit = parsed.get(doc._id);
  if (hit && hit.version === doc.version) return { id: doc._id, version: doc.version, rule: hit.rule };
  const rule = parseRule(doc.rule);
  if (parsed.size > 10_000) parsed.clear();
  parsed.set(doc._id, { version: doc.version, rule });
  return { id: doc._id, version: doc.version, rule };
}

export async function loadLiveSegments(model: SegmentModel, workspaceIds: string[]): Promise<Map<string, LiveSegment[]>> {
  const out = new Map<string, LiveSegment[]>(workspaceIds.map((w) => [w, []]));
  if (workspaceIds.length === 0) return out;
  const docs = await model
    .find(
      { workspaceId: workspaceIds.length === 1 ? workspaceIds[0] : { $in: workspaceIds }, deleted: false },
      { rule: 1, version: 1, workspaceId: 1 },
    )
    .lean();
  for (const d of docs) out.get(d.workspaceId)?.push(liveSegment(d));
  return out;
}
