import { Schema, type Connection, type Model } from 'mongoose';
import type { Interval } from '@payam/stats';
import type { ExperimentInput, ExperimentMetric } from './schemas';

/**
 * What a campaign with an experiment holds: the configuration plus where it stands. The
 * campaign document has one writer per step (the driver holding the work lease, or a
 * conditional update on `stage`), so these fields never race.
 */
export interface CampaignExperiment extends ExperimentInput {
  /** 'test': the cohort is being sent or waits for the decision; 'remainder': the winner goes to everyone else. */
  stage: 'test' | 'remainder';
  /** When every test delivery had an outcome; the decision is due decideAfter later. */
  testFinishedAt: Date | null;
  /** Copied from the decision when the remainder starts. */
  winnerId: string | null;
}

export type ExperimentEventKind = 'open_human' | 'open_any' | 'open_event' | 'click_human' | 'click_any' | 'click_event' | 'bounce' | 'delivered';

/**
 * One per counted fact, insert-only, with a deterministic _id
 * `${campaignId}:${variantId}:${kind}:${contactId | eventId}`: a replayed or repeated event
 * inserts a duplicate, which is a no-op, so counting documents gives exact unique counts
 * (no counters: FerretDB v1 loses concurrent $inc). Only test-cohort deliveries are recorded.
 */
export interface ExperimentEventDoc {
  _id: string;
  campaignId: string;
  variantId: string;
  kind: ExperimentEventKind;
  contactId: string;
  at: Date;
}

export type DecisionBasis = 'significant' | 'fallback_control' | 'fallback_best_observed' | 'manual';

export interface DecisionComparison {
  variantId: string;
  successes: number;
  trials: number;
  interval: Interval;
  pValue: number | null;
  adjustedPValue: number | null;
  significant: boolean;
}

/**
 * The decision, insert-only with _id = campaignId: a second attempt (another process, a
 * restart, a manual pick racing the scheduler) fails the unique insert and changes nothing.
 */
export interface DecisionDoc {
  _id: string;
  workspaceId: string;
  winnerId: string;
  basis: DecisionBasis;
  reason: string;
  metric: ExperimentMetric;
  confidence: number;
  minSamplePerVariant: number;
  comparisons: DecisionComparison[];
  decidedAt: Date;
  /** 'scheduler:<process>' or 'api:<key id>'. */
  by: string;
}

const opts = { versionKey: false as const, timestamps: false };

const eventSchema = new Schema<ExperimentEventDoc>(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    variantId: { type: String, required: true },
    kind: { type: String, required: true },
    contactId: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'experiment_events', ...opts },
);
eventSchema.index({ campaignId: 1 });

const decisionSchema = new Schema<DecisionDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    winnerId: { type: String, required: true },
    basis: { type: String, required: true },
    reason: { type: String, required: true },
    metric: { type: String, required: true },
    confidence: { type: Number, required: true },
    minSamplePerVariant: { type: Number, required: true },
    comparisons: { type: Schema.Types.Mixed, required: true },
    decidedAt: { type: Date, required: true },
    by: { type: String, required: true },
  },
  { collection: 'experiment_decisions', ...opts, minimize: false },
);

function model<T>(conn: Connection, name: string, schema: Schema<T>): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema);
}

export const experimentEventModel = (conn: Connection): Model<ExperimentEventDoc> => model(conn, 'ExperimentEvent', eventSchema);
export const decisionModel = (conn: Connection): Model<DecisionDoc> => model(conn, 'ExperimentDecision', decisionSchema);
