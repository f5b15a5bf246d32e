// Just enough of SES v2 SendEmail for bench/sender, in its own process (as SES is not in the
// sender's): it answers at once, counts messages per recipient, and reports on GET /_stats.
// It also notes when the latest message of each watched prefix arrived, so the bench can time
// the sending up to its last message, apart from whatever comes after; and it keeps the
// latest message the sender composed (GET /_sample), for the raw loop to send the same message.
// Run by bench/sender/run.ts; prints {"port": …} on stdout once it listens.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const perRecipient = new Map<string, number>();
/** Messages per address prefix asked about on /_stats, kept up to date from then on. */
const watched = new Map<string, number>();
/** Arrival (ms since the epoch) of the latest message per watched prefix. */
const lastArrival = new Map<string, number>();
let duplicates = 0;
/** The latest SendEmail request body whose recipient did not start with "raw-" (a message the sender composed). */
let sample: unknown = null;

function record(to: string): void {
  const n = (perRecipient.get(to) ?? 0) + 1;
  perRecipient.set(to, n);
  if (n === 2) duplicates++;
  const now = Date.now();
  for (const [prefix, count] of watched) {
    if (!to.startsWith(prefix)) continue;
    watched.set(prefix, count + 1);
    lastArrival.set(prefix, now);
  }
}

function countOf(prefix: string): number {
  let count = watched.get(prefix);
  if (count === undefined) {
    count = 0;
    for (const [to, n] of perRecipient) if (to.startsWith(prefix)) count += n;
    watched.set(prefix, count);
  }
  return count;
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'POST' && req.url?.startsWith('/v2/email/outbound-emails')) {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Destination?: { ToAddresses?: string[] } };
      for (const to of body.Destination?.ToAddresses ?? []) record(to);
      if (!(body.Destination?.ToAddresses?.[0] ?? 'raw-').startsWith('raw-')) sample = body;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ MessageId: randomUUID() }));
      return;
    }
    if (req.method === 'GET' && req.url?.startsWith('/_stats')) {
      const prefix = new URL(req.url, 'http://x').searchParams.get('prefix') ?? '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ count: countOf(prefix), duplicates, lastArrival: lastArrival.get(prefix) ?? null }));
      return;
    }
    if (req.method === 'GET' && req.url === '/_sample') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(sample));
      return;
    }
    res.writeHead(404).end();
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
