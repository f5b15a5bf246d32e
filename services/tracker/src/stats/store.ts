import type { Connection, mongo } from 'mongoose';

/** Counters kept per campaign variant and per hour. */
export const COUNTERS = [
  'sent',
  'failed',
  'accepted',
  'rejected',
  'delivered',
  'delayed',
  'bouncedHard',
  'bouncedSoft',
  'complained',
  'unsubscribed',
  'opens',
  'opensHuman',
  'uniqueOpens',
  'uniqueHumanOpens',
  'clicks',
  'clicksHuman',
  'uniqueClicks',
  'uniqueHumanClicks',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;

export interface LinkStats {
  url: string;
  clicks: number;
  clicksHuman: number;
  uniqueClicks: number;
  uniqueHumanClicks: number;
}

export interface Breakdown {
  opens: number;
  opensHuman: number;
  clicks: number;
  clicksHuman: number;
}

/** One document per (workspace, campaign, variant): the variant's counters and breakdowns. */
export interface CampaignStatsDoc {
  _id: string;
  workspaceId: string;
  campaignId: string;
  variantId: string | null;
  c?: Partial<Counts>;
  links?: Record<string, Partial<LinkStats>>;
  clients?: Record<string, Partial<Breakdown>>;
  os?: Record<string, Partial<Breakdown>>;
  devices?: Record<string, Partial<Breakdown>>;
}

export interface HourlyDoc {
  _id: string;
  workspaceId: string;
  campaignId: string;
  variantId: string | null;
  hour: Date;
  c?: Partial<Counts>;
}

/** The projector's place in one partition: the highest offset of a batch it has claimed. */
export interface CursorDoc {
  /** `<Kafka cluster id>:<topic>:<partition>`. */
  _id: string;
  /** A Kafka offset as a number (exact below 2^53, which no partition reaches). */
  through: number;
  at: Date;
}

export interface StatsCollections {
  /** Per partition, the offsets claimed: a redelivered record is never counted again (projector.ts). */
  cursors: mongo.Collection<CursorDoc>;
  /** Ids of the events already counted, for the events whose source may write a second copy (projector.ts, needsIdCheck). */
  seen: mongo.Collection<{ _id: string; at: Date }>;
  /** "First of its kind" markers (first open of a delivery, first click of a link…): unique counts. */
  firsts: mongo.Collection<{ _id: string; at: Date }>;
  campaigns: mongo.Collection<CampaignStatsDoc>;
  hourly: mongo.Collection<HourlyDoc>;
  guardrailTrips: mongo.Collection<{ _id: string; at: Date; complaintRate: number }>;
}

export function statsCollections(conn: Connection): StatsCollections {
  const db = conn.db;
  if (!db) throw new Error('mongodb connection not open');
  return {
    cursors: db.collection('stats_cursors'),
    seen: db.collection('stats_seen_events'),
    firsts: db.collection('stats_firsts'),
    campaigns: db.collection('campaign_stats'),
    hourly: db.collection('campaign_stats_hourly'),
    guardrailTrips: db.collection('guardrail_trips'),
  };
}

export async function ensureStatsIndexes(c: StatsCollections): Promise<void> {
  await c.campaigns.createIndex({ workspaceId: 1, campaignId: 1 });
  await c.hourly.createIndex({ workspaceId: 1, campaignId: 1, hour: 1 });
}

export function variantKey(variantId: string | null): string {
  return variantId ?? '_';
}

/** Mongo field names may not contain "." or start with "$": breakdown keys (client names…) are made safe. */
export function fieldKey(name: string | null): string {
  if (name === null || name === '') return 'unknown';
  return name.replace(/[.$]/g, '_').slice(0, 80);
}
