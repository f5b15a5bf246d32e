import { NotFoundError } from '@payam/errors';
import { wilsonInterval, type Interval } from '@payam/stats';
import { COUNTERS, type Breakdown, type CampaignStatsDoc, type Counts, type LinkStats, type StatsCollections } from './store';

export interface Rates {
  delivery: number | null;
  bounce: number | null;
  complaint: number | null;
  unsubscribe: number | null;
  open: { total: number | null; human: number | null };
  clickThrough: { total: number | null; human: number | null };
  clickToOpen: { total: number | null; human: number | null };
}

export interface CampaignReport {
  campaignId: string;
  totals: { counts: Counts; rates: Rates };
  variants: Array<{ variantId: string | null; counts: Counts; rates: Rates; intervals: VariantIntervals }>;
  links: Array<{ key: string } & LinkStats>;
  clients: Record<string, Breakdown>;
  os: Record<string, Breakdown>;
  devices: Record<string, Breakdown>;
  hourly: Array<{ hour: string } & Counts>;
}

/** 95% Wilson intervals of a variant's human open and click-through rates (per delivered message). */
export interface VariantIntervals {
  openHuman: Interval | null;
  clickHuman: Interval | null;
}

function intervalsOf(c: Counts): VariantIntervals {
  if (c.delivered === 0) return { openHuman: null, clickHuman: null };
  // Uniques cannot exceed deliveries in a consistent stream; clamp so a delivery notification
  // still in flight never turns the interval into an error.
  const of = (n: number) => wilsonInterval({ successes: Math.min(n, c.delivered), trials: c.delivered });
  return { openHuman: of(c.uniqueHumanOpens), clickHuman: of(c.uniqueHumanClicks) };
}

const ratio = (n: number, d: number): number | null => (d > 0 ? Math.round((n / d) * 1e6) / 1e6 : null);

function zero(): Counts {
  return Object.fromEntries(COUNTERS.map((k) => [k, 0])) as Counts;
}

function addCounts(into: Counts, c: Partial<Counts> | undefined): Counts {
  for (const k of COUNTERS) into[k] += c?.[k] ?? 0;
  return into;
}

/**
 * Rates with the denominators marketers expect: delivery and bounce per message sent; complaint,
 * unsubscribe, open and click-through per delivered message; click-to-open per unique opener.
 * Open and click figures come as total (every agent) and human (machine opens and scanner clicks
 * left out) side by side.
 */
export function ratesOf(c: Counts): Rates {
  return {
    delivery: ratio(c.delivered, c.sent),
    bounce: ratio(c.bouncedHard + c.bouncedSoft, c.sent),
    complaint: ratio(c.complained, c.delivered),
    unsubscribe: ratio(c.unsubscribed, c.delivered),
    open: { total: ratio(c.uniqueOpens, c.delivered), human: ratio(c.uniqueHumanOpens, c.delivered) },
    clickThrough: { total: ratio(c.uniqueClicks, c.delivered), human: ratio(c.uniqueHumanClicks, c.delivered) },
    clickToOpen: { total: ratio(c.uniqueClicks, c.uniqueOpens), human: ratio(c.uniqueHumanClicks, c.uniqueHumanOpens) },
  };
}

function mergeBreakdowns(into: Record<string, Breakdown>, from: Record<string, Partial<Breakdown>> | undefined): void {
  for (const [k, v] of Object.entries(from ?? {})) {
    const cur = (into[k] ??= { opens: 0, opensHuman: 0, clicks: 0, clicksHuman: 0 });
    cur.opens += v.opens ?? 0;
    cur.opensHuman += v.opensHuman ?? 0;
    cur.clicks += v.clicks ?? 0;
    cur.clicksHuman += v.clicksHuman ?? 0;
  }
}

/** The report of one campaign of the caller's workspace; another workspace's campaign is "not found". */
export async function campaignReport(c: StatsCollections, workspaceId: string, campaignId: string): Promise<CampaignReport> {
  const docs: CampaignStatsDoc[] = await c.campaigns.find({ workspaceId, campaignId }).toArray();
  if (docs.length === 0) throw new NotFoundError('campaign', campaignId);
  docs.sort((a, b) => String(a.variantId ?? '').localeCompare(String(b.variantId ?? '')));
  const totals = zero();
  const links = new Map<string, LinkStats>();
  const clients: Record<string, Breakdown> = {};
  const os: Record<string, Breakdown> = {};
  const devices: Record<string, Breakdown> = {};
  const variants = docs.map((d) => {
    const counts = addCounts(zero(), d.c);
    addCounts(totals, d.c);
    for (const [key, l] of Object.entries(d.links ?? {})) {
      const cur = links.get(key) ?? { url: l.url ?? '', clicks: 0, clicksHuman: 0, uniqueClicks: 0, uniqueHumanClicks: 0 };
      cur.clicks += l.clicks ?? 0;
      cur.clicksHuman += l.clicksHuman ?? 0;
      cur.uniqueClicks += l.uniqueClicks ?? 0;
      cur.uniqueHumanClicks += l.uniqueHumanClicks ?? 0;
      links.set(key, cur);
    }
    mergeBreakdowns(clients, d.clients);
    mergeBreakdowns(os, d.os);
    mergeBreakdowns(devices, d.devices);
    return { variantId: d.variantId, counts, rates: ratesOf(counts), intervals: intervalsOf(counts) };
  });

  const hourlyDocs = await c.hourly.find({ workspaceId, campaignId }).sort({ hour: 1 }).limit(24 * 90).toArray();
  const byHour = new Map<string, Counts>();
  for (const h of hourlyDocs) {
    const key = new Date(h.hour).toISOString();
    byHour.set(key, addCounts(byHour.get(key) ?? zero(), h.c));
  }

  return {
    campaignId,
    totals: { counts: totals, rates: ratesOf(totals) },
    variants,
    links: [...links].map(([key, l]) => ({ key, ...l })).sort((a, b) => b.clicks - a.clicks),
    clients,
    os,
    devices,
    hourly: [...byHour].sort(([a], [b]) => a.localeCompare(b)).map(([hour, counts]) => ({ hour, ...counts })),
  };
}
