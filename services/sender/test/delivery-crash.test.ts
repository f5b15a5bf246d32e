// A send worker process killed with SIGKILL mid-campaign and started again: the insert-only
// delivery states (claim, outcome) must never let an address get a second email, and whatever
// the dead worker left in 'sending' becomes 'unknown' and is never re-sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emailsTo, freePort, stack, uniqueName, waitFor } from '@payam/testkit';
import { claimModel, deliveryModel, outcomeModel } from '../src/delivery/model';
import { placeSenderGroups, senderTopicEnds } from './group-offsets';
import { ADMIN_SECRET, startSender, type SenderHarness, type TestWorkspace } from './sender-harness';
import { campaignBody, createTemplate, seedAudience, waitForState } from './campaign-fixtures';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');
const RECIPIENTS = 300;
const LEASE_MS = 3000;
const logDir = mkdtempSync(path.join(os.tmpdir(), 'sender-crash-'));
const children = new Set<ChildProcess>();

let h: SenderHarness;
let w: TestWorkspace;

beforeAll(async () => {
  // The API process: HTTP and the campaign driver (resolution, completion, the dead-worker
  // sweeper); it sends nothing itself.
  h = await startSender({
    dbPrefix: 'payam_test_delivery_crash',
    only: ['campaign-driver'],
    env: { SENDER_SENDING_LEASE_MS: String(LEASE_MS), SENDER_SCHEDULER_INTERVAL_MS: '200', SENDER_WORKER_HEARTBEAT_MS: '300' },
  });
  w = await h.createWorkspace('crash test');
});

afterAll(async () => {
  for (const c of children) kill(c);
  await Promise.all([...children].map((c) => exited(c, 5000)));
  await h?.close();
});

function kill(c: ChildProcess): void {
  if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

function exited(c: ChildProcess, timeoutMs: number): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** `node --import tsx services/sender/src/main.ts` on the test's database; resolves once it answers /healthz (every component started). */
async function startWorkerProcess(name: string, groupPrefix: string): Promise<ChildProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/sender/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      MONGODB_URI: stack.mongoUri,
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SES_ENDPOINT: stack.sesEndpoint,
      MONGODB_DB: h.dbName,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_SECRET,
      SENDER_GROUP_PREFIX: groupPrefix,
      SES_MAX_SEND_RATE: '50',
      SENDER_SENDING_LEASE_MS: String(LEASE_MS),
      SENDER_WORKER_HEARTBEAT_MS: '300',
      SENDER_WORKER_SESSION_TIMEOUT_MS: '6000',
      SENDER_SCHEDULER_INTERVAL_MS: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const log = createWriteStream(path.join(logDir, `${name}.log`));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exit: string | null = null;
  child.once('exit', (code, signal) => {
    exit = `exited (code ${code}, signal ${signal})`;
  });
  await waitFor(
    async () => {
      if (exit) throw new Error(`worker ${name} ${exit}; log in ${logDir}`);
      return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `worker ${name} up` },
  ).catch((err: Error) => {
    throw new Error(`${err.message} (log in ${logDir})`);
  });
  return child;
}

function countByAddress(emails: Array<{ destination: { to: string[] } }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of emails) {
    const to = e.destination.to[0]!.toLowerCase();
    counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

test("a worker process SIGKILLed mid-campaign and restarted: no address receives two emails; everyone not 'unknown' receives one", async () => {
  const templateId = await createTemplate(h, w);
  const { listId, contacts } = await seedAudience(h, w, RECIPIENTS, 'crash');
  const addresses = contacts.map((c) => c.email);
  const emailOf = new Map(contacts.map((c) => [c.contactId, c.email]));

  // Both workers start reading where the topics end now, before the campaign's first job.
  const before = await senderTopicEnds();
  const [group1, group2] = [uniqueName('crash1'), uniqueName('crash2')];
  await placeSenderGroups(group1, before);
  await placeSenderGroups(group2, before);
  const first = await startWorkerProcess('worker-1', group1);
  const created = await h.as(w.token).post('/campaigns').send(campaignBody(templateId, listId));
  expect(created.status).toBe(201);
  const campaignId: string = created.body.campaignId;
  await h.as(w.token).post(`/campaigns/${campaignId}/start`).expect(200);

  // Some but not all emails out: at 50/s the campaign takes about 6 s.
  const atKill = await waitFor(
    async () => {
      const n = (await emailsTo(addresses)).length;
      return n >= 40 ? n : false;
    },
    { timeoutMs: 30_000, intervalMs: 25, what: 'the first emails' },
  );
  first.kill('SIGKILL');
  await exited(first, 5000);
  expect(first.signalCode).toBe('SIGKILL');
  const afterKill = (await emailsTo(addresses)).length;
  expect(atKill).toBeLessThan(RECIPIENTS);
  expect(afterKill).toBeLessThan(RECIPIENTS);

  // The replacement joins consumer groups of its own placed before the campaign, so it reads
  // every job of the campaign again: those the dead worker finished, those it left in
  // 'sending' and those it never reached. (Rejoining the dead worker's groups would replay only
  // its uncommitted batches, a subset, after waiting out the dead members' session timeouts.)
  await startWorkerProcess('worker-2', group2);
  // Completion needs an outcome for every delivery: the second worker sends what was never
  // claimed, and the sweeper turns the dead worker's open claims into 'unknown'.
  const done = await waitForState(h, w, campaignId, 'completed', 60_000);

  const outcomes = await outcomeModel(h.sender.ctx.conn).find({ campaignId }).lean();
  const deliveries = await deliveryModel(h.sender.ctx.conn).find({ campaignId }).lean();
  expect(deliveries).toHaveLength(RECIPIENTS);
  expect(outcomes).toHaveLength(RECIPIENTS);
  const unknown = outcomes.filter((o) => o.state === 'unknown');
  const sent = outcomes.filter((o) => o.state === 'sent');
  expect(unknown.length + sent.length).toBe(RECIPIENTS);
  for (const o of unknown) expect(o.code).toBe('worker_lost');

  expect(done.progress.counts).toMatchObject({ queued: 0, sending: 0, sent: sent.length, unknown: unknown.length, failed: 0, skipped: 0 });

  // Give anything still in flight (a re-read job, a duplicate claim attempt) time to show.
  await new Promise((r) => setTimeout(r, 2000));
  const counts = countByAddress(await emailsTo(addresses));
  const doubled = [...counts].filter(([, n]) => n > 1);
  expect(doubled).toEqual([]);
  for (const o of sent) expect({ contactId: o.contactId, emails: counts.get(emailOf.get(o.contactId)!) ?? 0 }).toEqual({ contactId: o.contactId, emails: 1 });
  // An unknown delivery was maybe sent by the dead worker, never again since.
  for (const o of unknown) expect(counts.get(emailOf.get(o.contactId)!) ?? 0).toBeLessThanOrEqual(1);
  // Every email the dead worker got out before the kill is accounted for as sent or unknown.
  expect(counts.size).toBeGreaterThanOrEqual(afterKill);
  // Every claim was taken once (the claim of an unknown delivery is the dead worker's).
  expect(await claimModel(h.sender.ctx.conn).countDocuments({ campaignId })).toBe(RECIPIENTS);

});
