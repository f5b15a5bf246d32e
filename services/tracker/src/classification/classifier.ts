import UAParser from 'ua-parser-js';
import type { Classification } from '@payam/contracts';
import { ClickBurstMemory } from './click-burst';
import { type IpRanges, normalizeIp, truncateIp } from './ip';
import { BARE_MOZILLA, CLICK_ONLY_SCANNER_AGENTS, CLIENT_RULES, SCANNER_AGENTS, SCANNER_REFERRERS, type Device } from './rules';

export interface ClassifierOptions {
  /** Apple Mail Privacy Protection egress ranges (MPP_RANGES_FILE). */
  appleProxyRanges: IpRanges;
  storeRawIp: boolean;
  /** A click sooner than this after the send is a scanner's. */
  clickTooFastMs: number;
  clickBurstWindowMs: number;
}

export interface Observation {
  userAgent: string | undefined;
  ip: string | undefined;
  method: string;
  referrer?: string | undefined;
}

export interface ClickContext {
  /** Unix seconds the message was sent (token issuedAt). */
  issuedAt: number;
  /** Per-delivery key for the burst memory; null when the token names no delivery. */
  deliveryKey: string | null;
  linkIndex: number | null;
  now: number;
}

interface AgentFacts {
  client: string | null;
  clientVersion: string | null;
  os: string | null;
  device: Device;
  proxyReason: string | null;
  scanner: boolean;
  clickScanner: boolean;
  bare: boolean;
}

const DESKTOP_OS = new Set(['Windows', 'Mac OS', 'macOS', 'Linux', 'Ubuntu', 'Chromium OS', 'Debian', 'Fedora', 'FreeBSD']);
const MAX_UA = 512;
const CACHE_MAX = 5_000;

/**
 * Client, OS and device of an open or a click, and whether a machine made it (with why). Agent
 * facts are cached per user-agent string: mail traffic repeats a few hundred agents, and parsing
 * is the dearest step of the hot path.
 */
export class Classifier {
  private readonly cache = new Map<string, AgentFacts>();
  private readonly bursts: ClickBurstMemory;

  constructor(private readonly opts: ClassifierOptions) {
    this.bursts = new ClickBurstMemory(opts.clickBurstWindowMs);
  }

  classifyOpen(obs: Observation): Classification {
    const ip = normalizeIp(obs.ip);
    const facts = this.agent(obs.userAgent);
    const reasons: string[] = [];
    let { client, device } = facts;
    if (facts.proxyReason) reasons.push(facts.proxyReason);
    if (facts.bare && this.opts.appleProxyRanges.contains(ip)) {
      reasons.push('apple_mpp');
      client = 'Apple Mail';
      device = 'proxy';
    }
    this.common(obs, facts, reasons, false);
    return this.result(obs, ip, { ...facts, client, device }, reasons);
  }

  classifyClick(obs: Observation, ctx: ClickContext): Classification {
    const ip = normalizeIp(obs.ip);
    const facts = this.agent(obs.userAgent);
    const reasons: string[] = [];
    if (facts.proxyReason) reasons.push(facts.proxyReason);
    this.common(obs, facts, reasons, true);
    if (facts.bare) reasons.push('bare_user_agent');
    if (ctx.now - ctx.issuedAt * 1000 < this.opts.clickTooFastMs) reasons.push('too_fast');
    if (ctx.deliveryKey !== null && ctx.linkIndex !== null && this.bursts.observe(ctx.deliveryKey, ctx.linkIndex, ctx.now)) {
      reasons.push('link_burst');
    }
    return this.result(obs, ip, facts, reasons);
  }

  private common(obs: Observation, facts: AgentFacts, reasons: string[], click: boolean): void {
    if (obs.method === 'HEAD') reasons.push('head_request');
    if (!obs.userAgent || obs.userAgent.trim() === '') reasons.push('no_user_agent');
    if (facts.scanner || (click && facts.clickScanner)) reasons.push('scanner_agent');
    if (obs.referrer && SCANNER_REFERRERS.some((r) => r.test(obs.referrer!))) reasons.push('scanner_referrer');
  }

  private result(obs: Observation, ip: string | null, facts: Pick<AgentFacts, 'client' | 'clientVersion' | 'os' | 'device'>, reasons: string[]): Classification {
    const machine = reasons.length > 0;
    const scanner = reasons.some((r) => r !== 'gmail_image_proxy' && r !== 'yahoo_image_proxy' && r !== 'apple_mpp');
    return {
      client: facts.client,
      clientVersion: facts.clientVersion,
      os: facts.os,
      device: scanner && facts.device !== 'proxy' ? 'bot' : facts.device,
      machine,
      machineReasons: reasons.slice(0, 10),
      ip: this.opts.storeRawIp ? ip : truncateIp(ip),
      userAgent: obs.userAgent ? obs.userAgent.slice(0, MAX_UA) : null,
    };
  }

  private agent(userAgent: string | undefined): AgentFacts {
    const ua = (userAgent ?? '').trim().slice(0, MAX_UA);
    const hit = this.cache.get(ua);
    if (hit) return hit;
    const facts = parseAgent(ua);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(ua, facts);
    return facts;
  }
}

function parseAgent(ua: string): AgentFacts {
  const parsed = new UAParser(ua).getResult();
  const os = parsed.os.name ?? null;
  const uaDevice = parsed.device.type;
  let device: Device =
    uaDevice === 'mobile' || uaDevice === 'tablet' ? uaDevice : uaDevice === undefined && os !== null && DESKTOP_OS.has(os) ? 'desktop' : 'unknown';
  let client: string | null = parsed.browser.name ?? null;
  let clientVersion: string | null = parsed.browser.version ?? null;
  let proxyReason: string | null = null;
  const rule = CLIENT_RULES.find((r) => r.test.test(ua));
  if (rule) {
    client = rule.client;
    clientVersion = rule.version?.exec(ua)?.[1] ?? null;
    if (rule.device && !(rule.device === 'desktop' && device !== 'unknown')) device = rule.device;
    proxyReason = rule.machineReason ?? null;
    if (rule.device === 'proxy') device = 'proxy';
  }
  return {
    client: client?.slice(0, 100) ?? null,
    clientVersion: clientVersion?.slice(0, 50) ?? null,
    os: rule?.device === 'proxy' ? null : (os?.slice(0, 100) ?? null),
    device,
    proxyReason,
    scanner: SCANNER_AGENTS.some((r) => r.test(ua)),
    clickScanner: CLICK_ONLY_SCANNER_AGENTS.some((r) => r.test(ua)),
    bare: BARE_MOZILLA.test(ua),
  };
}
