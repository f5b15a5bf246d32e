// The funnel, without Kafka: decode and validate a record, fold it into per-campaign counts,
// render the table. No I/O here, so it is unit-tested and funnel.ts only moves bytes.
import { decodeRecord, EmailEvent } from '@payam/contracts';

/** Contacts counted once per stage: a funnel compares people, not events. */
interface CampaignSets {
  workspaceId: string;
  sent: Set<string>;
  delivered: Set<string>;
  openedHuman: Set<string>;
  openedAll: Set<string>;
  clickedHuman: Set<string>;
  bounced: Set<string>;
  complained: Set<string>;
  unsubscribed: Set<string>;
}

export interface FunnelState {
  /** Envelope ids already counted: a redelivered or replayed event has the same id. */
  seenIds: Set<string>;
  campaigns: Map<string, CampaignSets>;
  /** Records that were not JSON or did not match the EmailEvent schema. */
  invalid: number;
  duplicates: number;
  /** Valid events that do not count here: no campaign (transactional mail) or another workspace. */
  ignored: number;
  counted: number;
}

export interface FunnelOptions {
  /** Only count this workspace's events. */
  workspaceId?: string;
}

export type Outcome = 'counted' | 'duplicate' | 'ignored' | 'invalid';

export interface FunnelRow {
  campaignId: string;
  workspaceId: string;
  sent: number;
  delivered: number;
  /** Unique contacts with an open classified as human. */
  openedHuman: number;
  /** Unique contacts with any open, machine opens (image proxies, privacy prefetch) included. */
  openedAll: number;
  /** Unique contacts with a click classified as human (security scanners excluded). */
  clickedHuman: number;
  bounced: number;
  complained: number;
  unsubscribed: number;
}

export function createFunnelState(): FunnelState {
  return { seenIds: new Set(), campaigns: new Map(), invalid: 0, duplicates: 0, ignored: 0, counted: 0 };
}

function campaignSets(state: FunnelState, campaignId: string, workspaceId: string): CampaignSets {
  let sets = state.campaigns.get(campaignId);
  if (!sets) {
    sets = {
      workspaceId,
      sent: new Set(),
      delivered: new Set(),
      openedHuman: new Set(),
      openedAll: new Set(),
      clickedHuman: new Set(),
      bounced: new Set(),
      complained: new Set(),
      unsubscribed: new Set(),
    };
    state.campaigns.set(campaignId, sets);
  }
  return sets;
}

/** Folds one validated event into the state (mutating it) and says what happened to it. */
export function applyEvent(state: FunnelState, event: EmailEvent, opts: FunnelOptions = {}): Outcome {
  if (state.seenIds.has(event.id)) {
    state.duplicates++;
    return 'duplicate';
  }
  state.seenIds.add(event.id);
  if (event.campaignId === null || (opts.workspaceId !== undefined && event.workspaceId !== opts.workspaceId)) {
    state.ignored++;
    return 'ignored';
  }
  const sets = campaignSets(state, event.campaignId, event.workspaceId);
  const contact = event.contactId;
  switch (event.type) {
    case 'email.sent':
      sets.sent.add(contact);
      break;
    case 'email.delivered':
      sets.delivered.add(contact);
      break;
    case 'email.opened':
      sets.openedAll.add(contact);
      if (!event.classification.machine) sets.openedHuman.add(contact);
      break;
    case 'email.clicked':
      if (!event.classification.machine) sets.clickedHuman.add(contact);
      break;
    case 'email.bounced':
      sets.bounced.add(contact);
      break;
    case 'email.complained':
      sets.complained.add(contact);
      break;
    case 'email.unsubscribed':
      sets.unsubscribed.add(contact);
      break;
    default:
      // accepted, failed, delayed, rejected: not a funnel stage.
      state.ignored++;
      return 'ignored';
  }
  state.counted++;
  return 'counted';
}

/** One Kafka record value (JSON bytes): validated against EmailEvent, then applied. */
export function ingestRecord(state: FunnelState, value: Buffer | string | null, opts: FunnelOptions = {}): Outcome {
  const decoded = decodeRecord(EmailEvent, value);
  if (!decoded.ok) {
    state.invalid++;
    return 'invalid';
  }
  return applyEvent(state, decoded.value, opts);
}

/** The counts per campaign, most sent first. */
export function funnelRows(state: FunnelState): FunnelRow[] {
  return [...state.campaigns]
    .map(([campaignId, s]) => ({
      campaignId,
      workspaceId: s.workspaceId,
      sent: s.sent.size,
      delivered: s.delivered.size,
      openedHuman: s.openedHuman.size,
      openedAll: s.openedAll.size,
      clickedHuman: s.clickedHuman.size,
      bounced: s.bounced.size,
      complained: s.complained.size,
      unsubscribed: s.unsubscribed.size,
    }))
    .sort((a, b) => b.sent - a.sent || a.campaignId.localeCompare(b.campaignId));
}

/** "12 (34.5%)" of the delivered count; just the number when nothing was delivered yet. */
function withRate(count: number, delivered: number): string {
  if (delivered === 0) return String(count);
  return `${count} (${((count / delivered) * 100).toFixed(1)}%)`;
}

const COLUMNS: Array<[string, (r: FunnelRow) => string]> = [
  ['campaign', (r) => r.campaignId],
  ['workspace', (r) => r.workspaceId],
  ['sent', (r) => String(r.sent)],
  ['delivered', (r) => String(r.delivered)],
  ['opened(human)', (r) => withRate(r.openedHuman, r.delivered)],
  ['opened(all)', (r) => withRate(r.openedAll, r.delivered)],
  ['clicked(human)', (r) => withRate(r.clickedHuman, r.delivered)],
  ['bounced', (r) => withRate(r.bounced, r.sent)],
  ['complained', (r) => withRate(r.complained, r.delivered)],
  ['unsubscribed', (r) => withRate(r.unsubscribed, r.delivered)],
];

/** The table as fixed-width text, with the stream's health below it. */
export function renderFunnel(state: FunnelState, maxRows = 30): string {
  const rows = funnelRows(state);
  const shown = rows.slice(0, maxRows);
  const cells = [COLUMNS.map(([title]) => title), ...shown.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const lines = cells.map((line) => line.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  if (rows.length === 0) lines.push('(no campaign events yet)');
  if (rows.length > shown.length) lines.push(`… ${rows.length - shown.length} more campaigns`);
  lines.push(
    '',
    `events counted ${state.counted} · duplicates ${state.duplicates} · ignored ${state.ignored} · invalid ${state.invalid}`,
    'rates: % of delivered (bounced: % of sent); unique contacts per stage',
  );
  return lines.join('\n');
}
