import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import type { OutcomeDoc } from './model';

/**
 * How many outcomes were added, per campaign: the driver sums these notes to see a campaign
 * finished, instead of counting its outcomes and deliveries (two whole-collection scans on
 * FerretDB v1, ~6 s each at 100k). Written after the outcomes, so the sum never runs ahead of
 * them; a crash in between leaves it short, and the driver's exact count is the fallback.
 */
export interface ProgressDoc {
  _id: string;
  campaignId: string;
  n: number;
  at: Date;
}

const progressSchema = new Schema<ProgressDoc>(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    n: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'delivery_progress', versionKey: false, timestamps: false },
);
progressSchema.index({ campaignId: 1 });

export function progressModel(conn: Connection): Model<ProgressDoc> {
  return (conn.models.DeliveryProgress as Model<ProgressDoc> | undefined) ?? conn.model<ProgressDoc>('DeliveryProgress', progressSchema);
}

/** Notes how many of the given (inserted) outcomes there are, per campaign: one insert. */
export async function recordProgress(conn: Connection, inserted: Array<Pick<OutcomeDoc, 'campaignId'>>): Promise<void> {
  const byCampaign = new Map<string, number>();
  for (const o of inserted) byCampaign.set(o.campaignId, (byCampaign.get(o.campaignId) ?? 0) + 1);
  await writeNotes(conn, byCampaign);
}

async function writeNotes(conn: Connection, byCampaign: Map<string, number>): Promise<void> {
  if (byCampaign.size === 0) return;
  const at = new Date();
  await progressModel(conn).collection.insertMany([...byCampaign].map(([campaignId, n]) => ({ _id: randomUUID(), campaignId, n, at })) as never[]);
}

/** Outcomes recorded for a campaign, as the progress notes add up (never more than there are). */
export async function progressOf(conn: Connection, campaignId: string): Promise<number> {
  const docs = await progressModel(conn).find({ campaignId }, { n: 1 }).lean();
  return docs.reduce((a, d) => a + d.n, 0);
}

/**
 * Drops a finished campaign's notes: nothing reads them after completion, and on FerretDB v1
 * every campaign's sum above passes over the whole collection, so notes kept forever would make
 * each later campaign's completion check slower. A note a worker writes after this (an outcome
 * the exact count already saw) stays; it is small and harmless.
 */
export async function forgetProgress(conn: Connection, campaignId: string): Promise<void> {
  await progressModel(conn).deleteMany({ campaignId });
}

/**
 * A send worker's notes, gathered for `everyMs` and written as one insert: off the chunks'
 * critical path, and a few hundred notes for a 100k campaign rather than one per chunk (the
 * driver's sum reads them all). What a crash loses here only delays completion to the driver's
 * exact count.
 */
export class ProgressBuffer {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly conn: Connection,
    private readonly everyMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(inserted: Array<Pick<OutcomeDoc, 'campaignId'>>): void {
    for (const o of inserted) this.pending.set(o.campaignId, (this.pending.get(o.campaignId) ?? 0) + 1);
    if (this.pending.size === 0 || this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.everyMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const notes = this.pending;
    this.pending = new Map();
    await writeNotes(this.conn, notes).catch(this.onError);
  }
}
