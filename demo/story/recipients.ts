// Simulated recipients: mail clients, image proxies and link scanners requesting the real
// tracking URLs found in the emails the SES emulator received.
import { atTracker, call, DemoError, messageFacts, sleep, trackingLinks, type StoredEmail } from './client';
import type { Story } from './context';
import { pool } from './context';
import { prng } from './data';

export const AGENTS = {
  appleMail: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  thunderbird: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0',
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  iphoneSafari: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  gmailProxy: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
  scanner: 'Mozilla/5.0 (compatible; Barracuda Sentinel link scanner)',
};

/** What one recipient does with one message; rates per behaviour kind. */
export interface Behaviour {
  humanOpen: number;
  humanClickGivenOpen: number;
  proxyOpen: number;
  scannerClick: number;
}

export interface Engagement {
  /** contact ids by what they did */
  humanOpeners: Set<string>;
  humanClickers: Set<string>;
  proxyOpeners: Set<string>;
  scannerClicked: Set<string>;
  requests: number;
}

export const emptyEngagement = (): Engagement => ({ humanOpeners: new Set(), humanClickers: new Set(), proxyOpeners: new Set(), scannerClicked: new Set(), requests: 0 });

/**
 * Plays the recipients of `emails`. Human clicks wait until the tracker's "too fast after the
 * send" window has passed (people read before they click); scanners click at once, with HEAD.
 */
export async function playRecipients(s: Story, emails: StoredEmail[], behaviourOf: (e: StoredEmail) => Behaviour, seed: number, into = emptyEngagement()): Promise<Engagement> {
  const hit = async (url: string, method: 'GET' | 'HEAD', ua: string, expect: number) => {
    const r = await call(s.e.tracker, method, new URL(atTracker(url, s.e.tracker)).pathname, { headers: { 'user-agent': ua } });
    into.requests++;
    if (r.status !== expect) throw new DemoError(`${method} tracking URL answered ${r.status}, expected ${expect}`);
  };
  const plans = emails.map((e, i) => {
    const rnd = prng(seed * 100_003 + i);
    const b = behaviourOf(e);
    const open = rnd() < b.humanOpen;
    return { e, facts: messageFacts(e), links: trackingLinks(e, s.e.tracker), open, click: open && rnd() < b.humanClickGivenOpen, proxy: rnd() < b.proxyOpen, scanner: rnd() < b.scannerClick, ua: [AGENTS.appleMail, AGENTS.thunderbird, AGENTS.iphoneSafari][Math.floor(rnd() * 3)]! };
  });
  // Machines first: proxies fetch images on arrival, scanners follow links before anyone reads.
  await pool(plans, 12, async (p) => {
    if (p.proxy && p.links.opens[0]) {
      await hit(p.links.opens[0], 'GET', AGENTS.gmailProxy, 200);
      into.proxyOpeners.add(p.facts.contactId);
    }
    if (p.scanner && p.links.clicks[0]) {
      await hit(p.links.clicks[0], 'HEAD', AGENTS.scanner, 302);
      into.scannerClicked.add(p.facts.contactId);
    }
  });
  await pool(plans, 12, async (p) => {
    if (p.open && p.links.opens[0]) {
      await hit(p.links.opens[0], 'GET', p.ua, 200);
      into.humanOpeners.add(p.facts.contactId);
    }
  });
  const clickers = plans.filter((p) => p.click && p.links.clicks[0]);
  if (clickers.length > 0) {
    const latestSend = Math.max(...clickers.map((p) => p.facts.issuedAt)) * 1000;
    const wait = latestSend + 12_000 - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await pool(clickers, 12, async (p) => {
    await hit(p.links.clicks[0]!, 'GET', AGENTS.chrome, 302);
    into.humanClickers.add(p.facts.contactId);
  });
  return into;
}
