import { Schema, type Connection, type Model } from 'mongoose';
import type { CampaignExperiment } from '../experiments/model';

export type CampaignState = 'draft' | 'scheduled' | 'running' | 'paused' | 'completed' | 'cancelled' | 'failed';

export interface Audience {
  lists: string[];
  segments: string[];
  excludeLists: string[];
  excludeSegments: string[];
}

export interface SegmentEnteredTrigger {
  type: 'segment_entered';
  segmentId: string;
}

/** What resolution counted: recipients, and the contacts left out and why. */
export interface AudienceCounts {
  recipients: number;
  suppressed: number;
  unsubscribed: number;
  bounced: number;
  complained: number;
  erased: number;
  /** A second contact with an address already in the audience. */
  duplicates: number;
  /** In the audience but also in an excluded list or segment. */
  excluded: number;
}

export const EMPTY_COUNTS: AudienceCounts = {
  recipients: 0,
  suppressed: 0,
  unsubscribed: 0,
  bounced: 0,
  complained: 0,
  erased: 0,
  duplicates: 0,
  excluded: 0,
};

/**
 * Background work a campaign needs (resolve its audience into deliveries and enqueue them;
 * enqueue again after a pause). Any sender process may do it: it takes a lease first, and a
 * process that dies leaves a lease that expires, so another one resumes from `cursor`.
 */
export interface CampaignWork {
  pending: boolean;
  /** Publish jobs again for every queued delivery first (after resume). */
  requeue: boolean;
  /** Bumped by every request for work, so a worker finishing old work does not clear a new request. */
  seq: number;
  leaseBy: string | null;
  leaseUntil: Date | null;
}

export interface CampaignDoc {
  _id: string;
  workspaceId: string;
  name: string;
  templateId: string;
  audience: Audience;
  trigger: SegmentEnteredTrigger | null;
  from: { name: string | null; address: string };
  replyTo: string[];
  configurationSet: string | null;
  tags: Record<string, string>;
  state: CampaignState;
  /** Why the campaign is paused or failed (a person, too many errors, a guardrail). */
  stateReason: string | null;
  sendAt: Date | null;
  resolution: {
    status: 'pending' | 'done';
    cursor: string | null;
    counts: AudienceCounts;
    resolvedAt: Date | null;
    /** Queued deliveries of a plain campaign's resolution (absent: unknown, e.g. experiments); for completion. */
    queued?: number;
  };
  work: CampaignWork;
  /** A/B subject-line experiment (issue 6); null for a plain campaign. */
  experiment: CampaignExperiment | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  pausedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  /**
   * The delivery counts of a finished campaign once nothing of it is in flight (ProgressSettler,
   * campaigns/settle.ts): they cannot change after that, and counting them again on every GET would
   * pass over every campaign's deliveries and outcomes on FerretDB v1 (~22 s once 100k exist).
   */
  finalProgress: FinalProgress | null;
}

export interface FinalProgress {
  counts: Record<'queued' | 'sending' | 'sent' | 'failed' | 'skipped' | 'unknown' | 'suppressed' | 'cancelled', number>;
  total: number;
  settledAt: Date;
}

/** States a campaign never leaves: its deliveries only finish, none is added. */
export const FINISHED_STATES = ['completed', 'cancelled', 'failed'] as const satisfies readonly CampaignState[];

const campaignSchema = new Schema<CampaignDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    name: { type: String, required: true },
    templateId: { type: String, required: true },
    audience: { type: Schema.Types.Mixed, required: true },
    trigger: { type: Schema.Types.Mixed, default: null },
    from: { type: Schema.Types.Mixed, required: true },
    replyTo: { type: [String], default: [] },
    configurationSet: { type: String, default: null },
    tags: { type: Schema.Types.Mixed, default: {} },
    state: { type: String, required: true },
    stateReason: { type: String, default: null },
    sendAt: { type: Date, default: null },
    resolution: { type: Schema.Types.Mixed, required: true },
    work: { type: Schema.Types.Mixed, required: true },
    experiment: { type: Schema.Types.Mixed, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    startedAt: { type: Date, default: null },
    pausedAt: { type: Date, default: null },
    completedAt: { type: Date, default: null },
    cancelledAt: { type: Date, default: null },
    finalProgress: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'campaigns', versionKey: false, timestamps: false, minimize: false },
);
campaignSchema.index({ workspaceId: 1, _id: 1 });
campaignSchema.index({ state: 1, sendAt: 1 });

export type CampaignModel = Model<CampaignDoc>;

export function campaignModel(conn: Connection): CampaignModel {
  return (conn.models.Campaign as CampaignModel | undefined) ?? conn.model<CampaignDoc>('Campaign', campaignSchema);
}

/** Which states each action may start from; anything else answers 409 with the current state. */
export const TRANSITIONS = {
  schedule: { from: ['draft', 'scheduled'], to: 'scheduled' },
  start: { from: ['draft', 'scheduled'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['draft', 'scheduled', 'running', 'paused'], to: 'cancelled' },
  update: { from: ['draft', 'scheduled'], to: null },
  delete: { from: ['draft', 'scheduled', 'completed', 'cancelled', 'failed'], to: null },
} as const satisfies Record<string, { from: readonly CampaignState[]; to: CampaignState | null }>;

export type CampaignAction = keyof typeof TRANSITIONS;

export function canTransition(action: CampaignAction, state: CampaignState): boolean {
  return (TRANSITIONS[action].from as readonly CampaignState[]).includes(state);
}
