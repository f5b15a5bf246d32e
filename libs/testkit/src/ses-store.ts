import { stack } from './stack';

/** One email as the aws-ses-v2-local emulator stores it (GET /store). */
export interface StoredEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: Array<{ name: string; value: string }>;
  at: number;
  [extra: string]: unknown;
}

export async function readSesStore(opts: { since?: number; endpoint?: string } = {}): Promise<StoredEmail[]> {
  const url = new URL('/store', opts.endpoint ?? stack.sesEndpoint);
  if (opts.since !== undefined) url.searchParams.set('since', String(Math.floor(opts.since / 1000)));
  const res = await fetch(url);
  if (!res.ok) throw new Error(`SES emulator /store answered ${res.status}`);
  const body = (await res.json()) as { emails: StoredEmail[] };
  return body.emails;
}

/** Emails in the store addressed to any of the given recipients. */
export async function emailsTo(recipients: Iterable<string>, opts: { since?: number } = {}): Promise<StoredEmail[]> {
  const wanted = new Set([...recipients].map((r) => r.toLowerCase()));
  const all = await readSesStore(opts);
  return all.filter((e) => e.destination.to.some((t) => wanted.has(extractAddress(t))));
}

function extractAddress(s: string): string {
  const m = /<([^>]+)>/.exec(s);
  return (m ? m[1]! : s).trim().toLowerCase();
}
