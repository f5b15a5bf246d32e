import { createHash } from 'node:crypto';
import type { EmailEvent } from '@payam/contracts';
import type { Delivered } from '@payam/kafka';
import { insertNew } from '@payam/mongo';
import type { Logger } from '@payam/observability';
import type { Guardrail } from '../guardrail/guardrail';
import { applyUpdates, type BulkWritable } from './increments';
import { fieldKey, variantKey, type Counter, type StatsCollections } from './store';

type Inc = Record<string, number>;

interface Pending {
  ws: string;
  campaignId: string;
  variantId: string | null;
  inc: Inc;
  set: Record<string, string>;
}

/** Markers a projector remembers as stored (forgetting one only costs a repeated insert). */
const KNOWN_MARKERS = 200_000;

/** A set that forgets its oldest entries beyond `capacity`. */
class RecentSet {
  private readonly items = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(item: string): boolean {
    return this.items.has(item);
  }

  add(item: string): void {
    if (this.items.has(item)) return;
    this.items.add(item);
    if (this.items.size > this.capacity) this.items.delete(this.items.values().next().value!);
  }
}

function hourOf(iso: string): string {
  return `${iso.slice(0, 13)}:00:00.000Z`;
}

export interface ProjectorOptions {
  /**
   * The Kafka cluster's id (describeCluster): it scopes the offset claims, so a wiped broker (a
   * new cluster whose offsets start at 0 again) gets fresh cursors instead of its events skipped.
   * email-events.v1 deleted and created again on the same cluster restarts its offsets too: the
   * stats_cursors documents must go with it (README "Event streams").
   */
  clusterId: string;
  guardrail?: Guardrail;
}

/**
 * The stats projector (consumer group tracker.stats on email-events.v1). Never counts an event
 * twice, without transactions (FerretDB has none):
 *   1. claim the batch's offsets: one findOneAndUpdate per partition raises stats_cursors'
 *      `through` to the batch's last offset and returns what it was; records at or below it were
 *      claimed by an earlier delivery (a restart, a rebalance, a retried batch) and are skipped;
 *   2. insert the id of each event whose source may write a second copy at another offset
 *      (needsIdCheck: SES notifications through SNS, which redelivers) into stats_seen_events
 *      (unique _id, unordered): a duplicate key means counted before, and the event is skipped.
 *      Opens and clicks from our own pixel and redirect, and the types whose every counter is
 *      claimed by a marker (MARKER_COUNTED), need no id insert: most of a stream costs none;
 *   3. insert "first" markers (first open of a delivery, first human click of a link, …) the same
 *      way: an inserted marker is what makes a unique counter move;
 *   4. the batch's increments merged per document (one $inc per per-variant and per-hour
 *      document), each written as its own upsert by _id, a few at a time (see increments.ts for
 *      why not one bulkWrite).
 * A crash (or a failed write) between 1 and the end of 4 leaves that batch claimed but not, or
 * only partly, counted (an under-count bounded by one batch); redelivery never double-counts.
 * One writer per partition: handleBatch runs once per partition at a time (and if two overlap in
 * a rebalance, the claim, one atomic update, gives each offset to one of them).
 */
export class StatsProjector {
  private readonly knownMarkers = new RecentSet(KNOWN_MARKERS);

  constructor(
    private readonly c: StatsCollections,
    private readonly logger: Logger,
    private readonly opts: ProjectorOptions,
  ) {}

  async handleBatch(records: Array<Delivered<EmailEvent>>): Promise<void> {
    const byId = new Map<string, EmailEvent>();
    for (const r of await this.claim(records)) if (r.value.campaignId !== null && !byId.has(r.value.id)) byId.set(r.value.id, r.value);
    const candidates = [...byId.values()];
    if (candidates.length === 0) return;
    const checked = candidates.filter(needsIdCheck);
    const firstSeen = await insertNew(
      this.c.seen,
      checked.map((e) => ({ _id: e.id, at: new Date() })),
    );
    const seenFirst = new Set(checked.filter((_, i) => firstSeen.has(i)));
    const fresh = candidates.filter((e) => !needsIdCheck(e) || seenFirst.has(e));
    if (fresh.length === 0) return;

    // Markers, in batch order, so that the first event of a kind in the batch claims it. A marker
    // this process saw stored (inserted or found) is never inserted again: markers are permanent,
    // and repeat opens and clicks (proxies, rereads) would otherwise cost a failing insert each.
    const markerIds: string[] = [];
    const markerIndex = new Map<string, number>();
    const wants = fresh.map((e) => markersOf(e));
    for (const list of wants) for (const m of list) if (!markerIndex.has(m) && !this.knownMarkers.has(m)) markerIndex.set(m, markerIds.push(m) - 1);
    const won = await insertNew(
      this.c.firsts,
      markerIds.map((_id) => ({ _id, at: new Date() })),
    );
    for (const m of markerIds) this.knownMarkers.add(m);
    const claimed = new Set<string>();
    const granted = (m: string): boolean => {
      const i = markerIndex.get(m);
      if (i === undefined || !won.has(i) || claimed.has(m)) return false;
      claimed.add(m);
      return true;
    };

    const docs = new Map<string, Pending>();
    const hours = new Map<string, Pending & { hour: string }>();
    const touched = new Set<string>();
    for (const e of fresh) {
      const inc: Inc = {};
      const add = (k: string, n = 1) => {
        inc[k] = (inc[k] ?? 0) + n;
      };
      const set: Record<string, string> = {};
      countEvent(e, add, set, granted);
      if (Object.keys(inc).length === 0) continue;
      const campaignId = e.campaignId!;
      const docId = `${e.workspaceId}:${campaignId}:${variantKey(e.variantId)}`;
      merge(docs, docId, { ws: e.workspaceId, campaignId, variantId: e.variantId, inc, set });
      const hour = hourOf(e.occurredAt);
      const hourlyInc = Object.fromEntries(Object.entries(inc).filter(([k]) => k.startsWith('c.')));
      if (Object.keys(hourlyInc).length > 0) {
        const hid = `${docId}:${hour}`;
        merge(hours, hid, { ws: e.workspaceId, campaignId, variantId: e.variantId, inc: hourlyInc, set: {}, hour });
      }
      if ('c.delivered' in inc || 'c.complained' in inc) touched.add(`${e.workspaceId}\u0000${campaignId}`);
    }

    const campaigns = this.c.campaigns as unknown as BulkWritable;
    const hourly = this.c.hourly as unknown as BulkWritable;
    await applyUpdates([
      ...[...docs].map(([_id, d]) => ({
        coll: campaigns,
        _id,
        update: {
          $inc: d.inc,
          ...(Object.keys(d.set).length > 0 ? { $set: d.set } : {}),
          $setOnInsert: { workspaceId: d.ws, campaignId: d.campaignId, variantId: d.variantId },
        },
      })),
      ...[...hours].map(([_id, d]) => ({
        coll: hourly,
        _id,
        update: {
          $inc: d.inc,
          $setOnInsert: { workspaceId: d.ws, campaignId: d.campaignId, variantId: d.variantId, hour: new Date(d.hour) },
        },
      })),
    ]);
    const { guardrail } = this.opts;
    if (guardrail) {
      for (const key of touched) {
        const [ws, campaignId] = key.split('\u0000') as [string, string];
        await guardrail.check(ws, campaignId);
      }
    }
    this.logger.debug({ events: fresh.length, docs: docs.size }, 'stats projected');
  }

  /** Step 1: claims the records' offsets per partition; returns the records no earlier delivery claimed. */
  private async claim(records: Array<Delivered<EmailEvent>>): Promise<Array<Delivered<EmailEvent>>> {
    const last = new Map<string, number>();
    for (const { meta } of records) {
      const key = `${meta.topic}:${meta.partition}`;
      last.set(key, Math.max(last.get(key) ?? -1, Number(meta.offset)));
    }
    const claimedBefore = new Map<string, number>();
    for (const [key, through] of last) {
      const before = await this.c.cursors.findOneAndUpdate(
        { _id: `${this.opts.clusterId}:${key}` },
        { $max: { through }, $set: { at: new Date() } },
        { upsert: true, returnDocument: 'before' },
      );
      claimedBefore.set(key, before?.through ?? -1);
    }
    return records.filter(({ meta }) => Number(meta.offset) > claimedBefore.get(`${meta.topic}:${meta.partition}`)!);
  }
}

/**
 * Whether an event's id must be checked against stats_seen_events (step 2): only where its source
 * may put a second copy at another offset, which the offset claim cannot see. SES notifications
 * (opens, clicks, delivery delays) come through SNS, which redelivers: checked. Not checked:
 * - the types whose every counter moves only with a marker (MARKER_COUNTED): a copy finds its
 *   marker taken;
 * - opens and clicks from our own pixel and redirect: one request, one event with a fresh id,
 *   written once (the tracker's idempotent producer; its spool replays only what Kafka did not
 *   acknowledge, test/kafka-outage.test.ts). The one way to a second copy: kafkajs reporting a
 *   publish failed that the broker had in fact written, then the spool replaying it; that open
 *   would count twice in the totals, never in the uniques (markers).
 */
export function needsIdCheck(e: EmailEvent): boolean {
  if (MARKER_COUNTED.has(e.type)) return false;
  if (e.type === 'email.opened') return e.source !== 'pixel';
  if (e.type === 'email.clicked') return e.source !== 'redirect';
  return true;
}

function merge<T extends Pending>(map: Map<string, T>, id: string, p: T): void {
  const cur = map.get(id);
  if (!cur) {
    map.set(id, p);
    return;
  }
  for (const [k, v] of Object.entries(p.inc)) cur.inc[k] = (cur.inc[k] ?? 0) + v;
  Object.assign(cur.set, p.set);
}

function subject(e: EmailEvent): string {
  return `${e.workspaceId}:${e.campaignId}:${e.deliveryId ?? `contact-${e.contactId}`}`;
}

function linkKey(e: Extract<EmailEvent, { type: 'email.clicked' }>): string {
  return e.linkIndex !== null ? `i${e.linkIndex}` : `u${createHash('sha256').update(e.url).digest('hex').slice(0, 16)}`;
}

/** Markers an event may claim: once per delivery for outcomes, per delivery (and link) for uniques. */
function markersOf(e: EmailEvent): string[] {
  const s = subject(e);
  switch (e.type) {
    case 'email.opened':
      return [`${s}:open`, ...(e.classification.machine ? [] : [`${s}:open-human`])];
    case 'email.clicked': {
      const l = linkKey(e);
      return e.classification.machine
        ? [`${s}:click`, `${s}:click:${l}`]
        : [`${s}:click`, `${s}:click-human`, `${s}:click:${l}`, `${s}:click-human:${l}`];
    }
    case 'email.bounced':
      return [`${s}:bounce:${e.bounceType === 'Permanent' ? 'hard' : 'soft'}`];
    default:
      return [`${s}:${e.type}`];
  }
}

const ONCE: Partial<Record<EmailEvent['type'], Counter>> = {
  'email.sent': 'sent',
  'email.failed': 'failed',
  'email.accepted': 'accepted',
  'email.rejected': 'rejected',
  'email.delivered': 'delivered',
  'email.complained': 'complained',
  'email.unsubscribed': 'unsubscribed',
};

/**
 * Types whose every counter moves only with a marker (ONCE, and bounces): a copy of one can never
 * count twice, whatever its id, so they skip the per-event id check (stats_seen_events).
 * test/marker-counted.test.ts checks every type of the contract against countEvent.
 */
export const MARKER_COUNTED: ReadonlySet<EmailEvent['type']> = new Set([...(Object.keys(ONCE) as Array<EmailEvent['type']>), 'email.bounced']);

export function countEvent(
  e: EmailEvent,
  add: (k: string, n?: number) => void,
  set: Record<string, string>,
  granted: (m: string) => boolean,
): void {
  const s = subject(e);
  const once = ONCE[e.type];
  if (once) {
    if (granted(`${s}:${e.type}`)) add(`c.${once}`);
    return;
  }
  switch (e.type) {
    case 'email.delivery_delayed':
      add('c.delayed');
      return;
    case 'email.bounced': {
      const hard = e.bounceType === 'Permanent';
      if (granted(`${s}:bounce:${hard ? 'hard' : 'soft'}`)) add(hard ? 'c.bouncedHard' : 'c.bouncedSoft');
      return;
    }
    case 'email.opened': {
      const human = !e.classification.machine;
      add('c.opens');
      if (human) add('c.opensHuman');
      if (granted(`${s}:open`)) add('c.uniqueOpens');
      if (human && granted(`${s}:open-human`)) add('c.uniqueHumanOpens');
      breakdown(e.classification, 'opens', human, add);
      return;
    }
    case 'email.clicked': {
      const human = !e.classification.machine;
      const l = linkKey(e);
      add('c.clicks');
      add(`links.${l}.clicks`);
      set[`links.${l}.url`] = e.url.slice(0, 2048);
      if (human) {
        add('c.clicksHuman');
        add(`links.${l}.clicksHuman`);
      }
      if (granted(`${s}:click`)) add('c.uniqueClicks');
      if (human && granted(`${s}:click-human`)) add('c.uniqueHumanClicks');
      if (granted(`${s}:click:${l}`)) add(`links.${l}.uniqueClicks`);
      if (human && granted(`${s}:click-human:${l}`)) add(`links.${l}.uniqueHumanClicks`);
      breakdown(e.classification, 'clicks', human, add);
      return;
    }
  }
}

function breakdown(
  cls: { client: string | null; os: string | null; device: string },
  what: 'opens' | 'clicks',
  human: boolean,
  add: (k: string, n?: number) => void,
): void {
  for (const [field, value] of [
    ['clients', cls.client],
    ['os', cls.os],
    ['devices', cls.device],
  ] as const) {
    add(`${field}.${fieldKey(value)}.${what}`);
    if (human) add(`${field}.${fieldKey(value)}.${what}Human`);
  }
}
