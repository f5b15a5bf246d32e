/* eslint-disable @typescript-eslint/no-explicit-any -- the services' JSON answers, read loosely by the demo (it only talks HTTP) */
// HTTP helpers for the demo: only the services' public APIs and the SES emulator's /store.

export interface Endpoints {
  sender: string;
  tracker: string;
  segmenter: string;
  ses: string;
  adminSecret: string;
}

/** The sender's development ADMIN_SECRET (services/sender/src/config.ts), used when ADMIN_SECRET is unset. */
export const DEV_ADMIN_SECRET = 'dev-admin-secret-change-me';

export function endpointsFromEnv(env: NodeJS.ProcessEnv = process.env): Endpoints {
  return {
    sender: env.SENDER_URL ?? 'http://127.0.0.1:3001',
    tracker: env.TRACKER_URL ?? 'http://127.0.0.1:3002',
    segmenter: env.SEGMENTER_URL ?? 'http://127.0.0.1:3003',
    ses: env.SES_ENDPOINT ?? 'http://127.0.0.1:8005',
    adminSecret: env.ADMIN_SECRET ?? DEV_ADMIN_SECRET,
  };
}

export class DemoError extends Error {}

export interface Reply<T = any> {
  status: number;
  body: T;
}

/** One JSON request; a refused connection becomes a DemoError that says what to start. */
export async function call<T = any>(base: string, method: string, path: string, opts: { token?: string; json?: unknown; body?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = 'application/json';
  } else if (opts.contentType) headers['content-type'] = opts.contentType;
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new DemoError(`${method} ${base}${path} failed (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}): is the service up? Run \`npm run up\` first.`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed as T };
}

/** Like call, but anything other than the expected status is a DemoError with the answer. */
export async function expectStatus<T = any>(expected: number | number[], base: string, method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<T> {
  const r = await call<T>(base, method, path, opts);
  const ok = Array.isArray(expected) ? expected.includes(r.status) : r.status === expected;
  if (!ok) throw new DemoError(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
  return r.body;
}

/**
 * Polls until probe gives a value; a bounded wait that fails with what it was waiting for. A
 * probe that fails (a busy service answering too slowly) counts as "not yet": the wait goes on
 * to its deadline and then reports the last failure.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: Error | null = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
      lastError = null;
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
    }
    if (Date.now() > deadline) {
      throw new DemoError(`gave up after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${lastError ? ` (last: ${lastError.message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Checks each service answers /healthz before the story starts. */
export async function checkUp(e: Endpoints): Promise<void> {
  const probes: Array<[string, string]> = [
    ['sender', `${e.sender}/healthz`],
    ['tracker', `${e.tracker}/healthz`],
    ['segmenter', `${e.segmenter}/healthz`],
    ['SES emulator', `${e.ses}/store?since=${Math.floor(Date.now() / 1000)}`],
  ];
  const down: string[] = [];
  for (const [name, url] of probes) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false);
    if (!ok) down.push(`${name} (${url})`);
  }
  if (down.length > 0) throw new DemoError(`not answering: ${down.join(', ')}. Run \`npm run up\` first.`);
}

// --- the SES emulator's mailbox: what a recipient's mail client would receive ---

export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: Array<{ name: string; value: string }>;
  at: number;
}

export function addressOf(s: string): string {
  const m = /<([^>]+)>/.exec(s);
  return (m ? m[1]! : s).trim().toLowerCase();
}

/** Emails in the emulator since `sinceMs` addressed to one of `recipients` (the store is shared: filter). */
export async function mailbox(sesUrl: string, sinceMs: number, recipients: Set<string>): Promise<StoredEmail[]> {
  const url = new URL('/store', sesUrl);
  url.searchParams.set('since', String(Math.floor(sinceMs / 1000) - 1));
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) }).catch((err: Error) => {
    throw new DemoError(`SES emulator ${sesUrl} not answering (${err.message}): run \`npm run up\` first.`);
  });
  if (!res.ok) throw new DemoError(`SES emulator /store answered ${res.status}`);
  const { emails } = (await res.json()) as { emails: StoredEmail[] };
  return emails.filter((e) => e.destination.to.some((t) => recipients.has(addressOf(t))));
}

/** The tracking links of a message as its HTML carries them. */
export function trackingLinks(e: StoredEmail, trackerBase: string): { opens: string[]; clicks: string[] } {
  const html = e.body.html ?? '';
  const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
  const ours = urls.filter((u) => u.startsWith(trackerBase) || /\/(?:o|c)\/[^/]+$/.test(new URL(u, trackerBase).pathname));
  return {
    opens: ours.filter((u) => /\/o\/[^/]+\.gif$/.test(new URL(u, trackerBase).pathname)),
    clicks: ours.filter((u) => /\/c\/[^/]+$/.test(new URL(u, trackerBase).pathname)),
  };
}

/** The tracker's path of a link, requested at `trackerBase` (the demo may run the tracker elsewhere than TRACKING_BASE_URL). */
export function atTracker(link: string, trackerBase: string): string {
  const u = new URL(link);
  return new URL(u.pathname + u.search, trackerBase).toString();
}

export interface TokenFacts {
  workspaceId: string;
  contactId: string;
  campaignId: string | null;
  deliveryId: string | null;
  variantId: string | null;
  issuedAt: number;
}

/**
 * What the List-Unsubscribe link of a message says about it (its token's payload is readable;
 * only the signature is secret). The demo's simulated SES puts these back as the message tags,
 * as real SES does with the tags the sender set.
 */
export function messageFacts(e: StoredEmail): TokenFacts {
  const header = e.headers?.find((h) => h.name.toLowerCase() === 'list-unsubscribe')?.value ?? '';
  const token = /\/u\/([^>\s]+)>?/.exec(header)?.[1];
  if (!token) throw new DemoError(`message ${e.messageId} has no List-Unsubscribe link`);
  const parts = token.split('.');
  const w = JSON.parse(Buffer.from(parts[parts.length - 2]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  return {
    workspaceId: String(w.w),
    contactId: String(w.c),
    campaignId: typeof w.cp === 'string' ? w.cp : null,
    deliveryId: typeof w.d === 'string' ? w.d : null,
    variantId: typeof w.v === 'string' ? w.v : null,
    issuedAt: Number(w.t),
  };
}
