import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';

/*
 * Deliveries are written insert-only. A state change is the insertion of a document whose _id
 * is the delivery id into the collection of that state (claims: queued → sending; outcomes:
 * sending → sent | failed | skipped | unknown). A unique _id makes every transition atomic and
 * idempotent on any MongoDB-compatible server, and it keeps the hot path on the two operations
 * FerretDB v1 serves fast (insert, read by _id): its updates scan the whole collection, which
 * at 100k deliveries costs ~100 ms each (measured), so an update per delivery cannot work there.
 */

export type DeliveryPhase = 'all' | 'test' | 'remainder' | 'trigger';
/** What audience resolution decided: a recipient, or a contact counted as excluded. */
export type DeliveryInitialState = 'queued' | 'suppressed';
export type OutcomeState = 'sent' | 'failed' | 'skipped' | 'unknown';
export type DeliveryState = 'queued' | 'sending' | OutcomeState | 'suppressed' | 'cancelled';

export interface DeliveryDoc {
  _id: string;
  workspaceId: string;
  campaignId: string;
  contactId: string;
  /** Address at resolution time ('' for an erased contact). */
  email: string;
  /** A/B variant (issue 6); null for a plain campaign. */
  variantId: string | null;
  phase: DeliveryPhase;
  state: DeliveryInitialState;
  /** Why a contact was excluded: suppressed, unsubscribed, bounced, complained, erased. */
  reason: string | null;
  createdAt: Date;
}

export interface ClaimDoc {
  _id: string;
  campaignId: string;
  workerId: string;
  claimedAt: Date;
}

export interface OutcomeDoc {
  _id: string;
  workspaceId: string;
  campaignId: string;
  contactId: string;
  state: OutcomeState;
  messageId: string | null;
  code: string | null;
  reason: string | null;
  at: Date;
}

export interface WorkerDoc {
  _id: string;
  heartbeatAt: Date;
  startedAt: Date;
  /** Set once the sweeper turned this dead worker's unfinished claims into 'unknown'. */
  sweptAt: Date | null;
}

const opts = { versionKey: false as const, timestamps: false };

const deliverySchema = new Schema<DeliveryDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    campaignId: { type: String, required: true },
    contactId: { type: String, required: true },
    email: { type: String, default: '' },
    variantId: { type: String, default: null },
    phase: { type: String, required: true },
    state: { type: String, required: true },
    reason: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'deliveries', ...opts },
);
// The _id is derived from campaign+contact (deliveryIdFor), so it is the unique key on campaign+contact.
deliverySchema.index({ campaignId: 1, state: 1 });

const claimSchema = new Schema<ClaimDoc>(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    workerId: { type: String, required: true },
    claimedAt: { type: Date, required: true },
  },
  { collection: 'delivery_claims', ...opts },
);
claimSchema.index({ campaignId: 1 });
claimSchema.index({ workerId: 1 });

const outcomeSchema = new Schema<OutcomeDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    campaignId: { type: String, required: true },
    contactId: { type: String, required: true },
    state: { type: String, required: true },
    messageId: { type: String, default: null },
    code: { type: String, default: null },
    reason: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'delivery_outcomes', ...opts },
);
outcomeSchema.index({ campaignId: 1, state: 1 });

// No TTL index: FerretDB v1 refuses expireAfterSeconds; liveness is judged by heartbeatAt and
// the sweeper prunes long-dead entries.
const workerSchema = new Schema<WorkerDoc>(
  {
    _id: { type: String, required: true },
    heartbeatAt: { type: Date, required: true },
    startedAt: { type: Date, required: true },
    sweptAt: { type: Date, default: null },
  },
  { collection: 'workers', ...opts },
);

function model<T>(conn: Connection, name: string, schema: Schema<T>): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema);
}

export const deliveryModel = (conn: Connection): Model<DeliveryDoc> => model(conn, 'Delivery', deliverySchema);
export const claimModel = (conn: Connection): Model<ClaimDoc> => model(conn, 'DeliveryClaim', claimSchema);
export const outcomeModel = (conn: Connection): Model<OutcomeDoc> => model(conn, 'DeliveryOutcome', outcomeSchema);
export const workerModel = (conn: Connection): Model<WorkerDoc> => model(conn, 'SendWorker', workerSchema);

/** One delivery per campaign and contact: the id is derived from both, so re-resolving never duplicates. */
export function deliveryIdFor(campaignId: string, contactId: string): string {
  return `dlv_${createHash('sha256').update(`${campaignId}\u001f${contactId}`).digest('base64url').slice(0, 32)}`;
}
