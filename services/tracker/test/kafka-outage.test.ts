import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EmailEvent } from '@payam/contracts';
import { uniqueName, waitFor } from '@payam/testkit';
import { readSince, startTestTracker, tokenFor } from './helpers';

/*
 * Kafka goes away in the middle of a burst and comes back: every answered request's event must be
 * in Kafka afterwards, exactly once. A second broker of our own (never the shared one) is stopped
 * and started; only this tracker points at it.
 */
const run = promisify(execFile);
const STACK = path.join(__dirname, '..', '..', '..', 'infra', 'local', 'stack.sh');
const PORT = 19092;
const BROKERS = [`127.0.0.1:${PORT}`];
const env: NodeJS.ProcessEnv = { ...process.env, PAYAM_STATE: mkdtempSync(path.join(os.tmpdir(), 'payam-kafka2-')), PAYAM_KAFKA_PORT: String(PORT) };
delete env.KAFKA_BROKERS;
const broker = (cmd: 'start' | 'stop') => run('bash', [STACK, cmd, 'kafka'], { env, timeout: 150_000 });

jest.setTimeout(240_000);
type Tracker = Awaited<ReturnType<typeof startTestTracker>>;
let tracker: Tracker | undefined;
const ws = uniqueName('ws_outage');

beforeAll(async () => {
  await broker('start');
  tracker = await startTestTracker({ brokers: BROKERS, env: { KAFKA_PUBLISH_TIMEOUT_MS: '1000' } });
});
afterAll(async () => {
  await broker('start').catch(() => undefined); // so the tracker can flush before stopping
  await tracker?.stop();
  await broker('stop');
});

let n = 0;
/** Sends `count` pixel/click requests, `concurrency` at a time; returns the delivery ids whose request was answered. */
async function burst(count: number, concurrency: number): Promise<string[]> {
  const answered: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const d = `d${n++}`;
      const isClick = n % 2 === 0;
      const token = isClick
        ? tokenFor({ kind: 'click', workspaceId: ws, deliveryId: d, url: 'https://example.com/', linkIndex: 0 })
        : tokenFor({ kind: 'open', workspaceId: ws, deliveryId: d });
      try {
        const res = await fetch(`${tracker!.url}${isClick ? `/c/${token}` : `/o/${token}.gif`}`, { redirect: 'manual', signal: AbortSignal.timeout(20_000) });
        if (res.status === 200 || res.status === 302) answered.push(d);
        await res.arrayBuffer();
      } catch {
        // not answered: allowed to be missing
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answered;
}

test('Kafka stopped during a burst and started again: every answered event is in Kafka once', async () => {
  const answered: string[] = [];
  answered.push(...(await burst(40, 10)));
  // A fresh broker may be slow to answer the very first produce (which then goes to the spool).
  expect(await tracker!.recorder.drained(30_000)).toBe(true);
  expect(tracker!.recorder.mode).toBe('direct');

  // Stop the broker while requests keep coming.
  const stopping = broker('stop');
  const during = burst(400, 20);
  await stopping;
  answered.push(...(await during));
  answered.push(...(await burst(100, 20))); // broker fully down
  expect(tracker!.recorder.mode).toBe('spool');
  expect(tracker!.recorder.pending).toBeGreaterThan(0);

  const starting = broker('start');
  answered.push(...(await burst(100, 20)));
  await starting;
  answered.push(...(await burst(40, 10)));
  expect(await tracker!.recorder.drained(120_000)).toBe(true);
  expect(answered.length).toBeGreaterThanOrEqual(600);

  const events = await readSince<EmailEvent>(BROKERS, 'email-events.v1', [], (v) => v.workspaceId === ws);
  const byDelivery = new Map<string, number>();
  for (const e of events) byDelivery.set(e.deliveryId!, (byDelivery.get(e.deliveryId!) ?? 0) + 1);
  const missing = answered.filter((d) => !byDelivery.has(d));
  const twice = [...byDelivery].filter(([, c]) => c > 1).map(([d]) => d);
  expect(missing).toEqual([]);
  expect(twice).toEqual([]);
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  await waitFor(() => tracker!.recorder.mode === 'direct');
});
