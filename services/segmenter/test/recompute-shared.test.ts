import request from 'supertest';
import type { Connection } from 'mongoose';
import type { Kafka } from 'kafkajs';
import { Topics } from '@payam/contracts';
import { issueApiKey } from '@payam/api-keys';
import { createKafka, ensureTopics, EventPublisher, partitionOfKey } from '@payam/kafka';
import { stack, topicEnds, uniqueName, waitFor } from '@payam/testkit';
import type { Segmenter } from '../src/app';
import { bootSegmenter, testLogger as logger } from './boot';
import { connectMongo } from '@payam/mongo';
import { pruneFinishedJobs } from '../src/evaluation/job-retention';
import { createRecomputeJob, jobModel, jobPartModel, runRecompute } from '../src/evaluation/recompute';
import { snapshot, T0 } from './fixtures';

// Two segmenter instances in one consumer group over one database, as a scaled-out deployment
// runs them: a recompute requested on one must be shared, each instance writing only the
// profiles of the partitions it holds (it is their only writer).

const WS = uniqueName('ws_shared');
const DB = uniqueName('payam_test_segmenter_shared');
const GROUP = uniqueName('segmenter-shared');
const clock = { now: () => T0 };
const TOPICS = [Topics.contacts, Topics.emailEvents, Topics.contactEvents];
const CONTACTS = Array.from({ length: 30 }, (_, i) => `shared${i}`);
/** Chosen once the assignment is known: contacts of both instances' partitions. */
let PRO: string[] = [];

let kafka: Kafka;
let publisher: EventPublisher;
const opened: Array<{ conn: Connection; seg: Segmenter }> = [];
let a: Segmenter;
let b: Segmenter;
let key: string;

async function boot(startOffsets?: Record<string, Array<{ partition: number; offset: string }>>): Promise<Segmenter> {
  const booted = await bootSegmenter({ kafka, publisher, dbName: DB, group: GROUP, clock, startOffsets, recomputeBatch: 4 });
  opened.push(booted);
  return booted.seg;
}

const owner = (cid: string) => (a.partitionsHeld().includes(partitionOfKey(cid, Topics.contacts.partitions)) ? 'a' : 'b');
/** The contacts of this workspace among tracked profile ids (other suites' events flow through the same topics). */
const ours = (profileIds: string[]) => profileIds.filter((id) => id.startsWith(`${WS}|`)).map((id) => id.slice(WS.length + 1));

beforeAll(async () => {
  kafka = createKafka({ brokers: stack.kafkaBrokers, clientId: 'segmenter-shared-test', logger });
  await ensureTopics(kafka, [...TOPICS, Topics.segmentMembership, Topics.apiKeys, Topics.deadLetters]);
  publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  const startOffsets = await topicEnds(TOPICS.map((t) => t.name));
  a = await boot(startOffsets);
  b = await boot();
  await waitFor(
    () => a.partitionsHeld().length > 0 && b.partitionsHeld().length > 0 && a.partitionsHeld().length + b.partitionsHeld().length === Topics.contacts.partitions,
    { what: 'both instances hold partitions', timeoutMs: 60_000 },
  );
  const k = issueApiKey({ workspaceId: WS, name: 'shared' });
  key = k.token;
  await publisher.publish(Topics.apiKeys, [{ key: k.record.keyId, value: k.record }]);
  await waitFor(async () => (await request(a.app).get('/segments').set('Authorization', `Bearer ${key}`)).status === 200, { what: 'key projected' });
  PRO = [...CONTACTS.filter((c) => owner(c) === 'a').slice(0, 5), ...CONTACTS.filter((c) => owner(c) === 'b').slice(0, 5)];
  await publisher.publish(
    Topics.contacts,
    CONTACTS.map((cid) => ({ key: cid, value: snapshot(WS, cid, T0, { attributes: { plan: PRO.includes(cid) ? 'pro' : 'free' } }) })),
  );
  await waitFor(async () => (await a.deps.profiles.countDocuments({ ws: WS })) === CONTACTS.length, { what: 'profiles folded' });
}, 120_000);

afterAll(async () => {
  for (const o of opened) await o.seg.stop();
  await opened[0]?.conn.db?.dropDatabase();
  for (const o of opened) await o.conn.close();
  await publisher.disconnect();
});

test('a recompute requested on one instance is shared: each writes only the profiles of its partitions', async () => {
  // Contacts of both instances' partitions, so both have a share.
  expect(new Set(PRO.map(owner))).toEqual(new Set(['a', 'b']));
  const writesA = a.deps.store.trackWrites();
  const writesB = b.deps.store.trackWrites();
  // Inserted directly, so only the recompute (not the live path) can fill it.
  const segmentId = uniqueName('seg_pro');
  await a.deps.segments.create({ _id: segmentId, workspaceId: WS, name: 'pro', rule: { attr: 'plan', op: 'eq', value: 'pro' }, version: 1, template: null, deleted: false, createdAt: new Date(), updatedAt: new Date() });
  const started = await request(a.app).post('/recompute').set('Authorization', `Bearer ${key}`).send({});
  expect(started.status).toBe(202);
  const done = await waitFor(
    async () => {
      const r = await request(b.app).get(`/recompute/${started.body.jobId}`).set('Authorization', `Bearer ${key}`);
      return r.body.status === 'done' ? r.body : undefined;
    },
    { what: 'shared job done', timeoutMs: 60_000 },
  );
  const byA = ours(writesA.list());
  const byB = ours(writesB.list());
  writesA.stop();
  writesB.stop();
  expect(done).toMatchObject({ processed: CONTACTS.length, total: CONTACTS.length, changes: PRO.length });
  expect(byA.length).toBeGreaterThan(0);
  expect(byB.length).toBeGreaterThan(0);
  expect(byA.filter((cid) => owner(cid) !== 'a')).toEqual([]);
  expect(byB.filter((cid) => owner(cid) !== 'b')).toEqual([]);
  expect([...byA, ...byB].sort()).toEqual([...PRO].sort());
  const members = await a.deps.profiles.find({ ws: WS, memberOf: segmentId }, { cid: 1 }).lean();
  expect(members.map((m) => m.cid).sort()).toEqual([...PRO].sort());
  expect(await a.deps.jobParts.countDocuments({ jobId: started.body.jobId })).toBe(Topics.contacts.partitions);
}, 90_000);

test('a run whose partitions move stops and leaves them undone; the next run completes the job', async () => {
  // By hand, with no runner polling: both instances are stopped first.
  await a.stop();
  await b.stop();
  const segmentId = uniqueName('seg_free');
  await a.deps.segments.create({ _id: segmentId, workspaceId: WS, name: 'free', rule: { attr: 'plan', op: 'eq', value: 'free' }, version: 1, template: null, deleted: false, createdAt: new Date(), updatedAt: new Date() });
  const job = await createRecomputeJob(a.deps, WS, { segmentIds: [segmentId], partitions: Topics.contacts.partitions });
  const all = Array.from({ length: Topics.contacts.partitions }, (_, p) => p);
  let batches = 0;
  // The assignment "changes" after the first batch of 4.
  const moved = await runRecompute(a.deps, { ...job }, { batchSize: 4, scope: { partitions: Topics.contacts.partitions, mine: all, stillOwned: () => batches++ < 1 } });
  expect(moved).toMatchObject({ status: 'running', processed: 4 });
  expect(await a.deps.jobParts.countDocuments({ jobId: job._id })).toBe(0);
  expect((await a.deps.jobs.findById(job._id).lean())).toMatchObject({ status: 'running', processed: 0, changes: 0 });
  const finished = await runRecompute(a.deps, { ...job }, { batchSize: 4, scope: { partitions: Topics.contacts.partitions, mine: all, stillOwned: () => true } });
  expect(finished).toMatchObject({ status: 'done', processed: CONTACTS.length });
  // What the moved run changed stays changed; the completing run finds the rest.
  expect(moved.changes + finished.changes).toBe(CONTACTS.length - PRO.length);
  expect(await a.deps.jobs.findById(job._id).lean()).toMatchObject({ status: 'done', processed: CONTACTS.length, changes: finished.changes });
  const members = await a.deps.profiles.find({ ws: WS, memberOf: segmentId }, { cid: 1 }).lean();
  expect(members.length).toBe(CONTACTS.length - PRO.length);
}, 90_000);

test('a request while a job of the workspace waits to begin is answered with that job; once a run began, with a new one', async () => {
  // Jobs in a database of their own, which no runner polls: nothing begins them behind the test's back.
  const conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_segmenter_jobs'), logger });
  const deps = { ...a.deps, jobs: jobModel(conn), jobParts: jobPartModel(conn) };
  const partitions = Topics.contacts.partitions;
  try {
    const all = await createRecomputeJob(deps, WS, { partitions });
    expect(all).toMatchObject({ status: 'running', begunAt: null, total: null });
    // The same request, and a narrower one, are covered by the waiting job.
    expect((await createRecomputeJob(deps, WS, { partitions }))._id).toBe(all._id);
    expect((await createRecomputeJob(deps, WS, { partitions, segmentIds: ['seg_a'] }))._id).toBe(all._id);
    // Another workspace, or a job of some segments that a wider request is not covered by, get their own.
    const elsewhere = await createRecomputeJob(deps, `${WS}_other`, { partitions });
    expect(elsewhere._id).not.toBe(all._id);
    const some = await createRecomputeJob(deps, `${WS}_other2`, { partitions, segmentIds: ['seg_a'] });
    expect((await createRecomputeJob(deps, `${WS}_other2`, { partitions, segmentIds: ['seg_a'] }))._id).toBe(some._id);
    expect((await createRecomputeJob(deps, `${WS}_other2`, { partitions }))._id).not.toBe(some._id);
    expect(await deps.jobs.countDocuments({})).toBe(4);

    // A run begins the job (and stops after one batch, as when its partitions move): a request
    // now may come after what the run has read, so it gets a job of its own.
    let batches = 0;
    const everyPartition = Array.from({ length: partitions }, (_, p) => p);
    const begun = await runRecompute(deps, { ...all }, { batchSize: 4, scope: { partitions, mine: everyPartition, stillOwned: () => batches++ < 1 } });
    expect(begun).toMatchObject({ status: 'running', total: CONTACTS.length });
    expect((await deps.jobs.findById(all._id).lean())?.begunAt).toBeInstanceOf(Date);
    const next = await createRecomputeJob(deps, WS, { partitions });
    expect(next._id).not.toBe(all._id);
  } finally {
    await conn.dropDatabase();
    await conn.close();
  }
});

test('finished jobs are pruned with their parts a week after they end; running and recent ones stay', async () => {
  const conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_segmenter_prune'), logger });
  const deps = { jobs: jobModel(conn), jobParts: jobPartModel(conn) };
  const now = Date.parse('2026-12-01T00:00:00Z');
  const day = 24 * 60 * 60 * 1000;
  const job = (id: string, status: 'running' | 'done' | 'failed', finishedDaysAgo: number | null) => ({
    _id: id,
    workspaceId: WS,
    segmentIds: null,
    status,
    partitions: 2,
    processed: 0,
    total: 0,
    changes: 0,
    error: null,
    startedAt: new Date(now - 30 * day),
    begunAt: new Date(now - 30 * day),
    finishedAt: finishedDaysAgo === null ? null : new Date(now - finishedDaysAgo * day),
  });
  try {
    await deps.jobs.insertMany([job('old_done', 'done', 8), job('old_failed', 'failed', 10), job('recent', 'done', 6), job('running', 'running', null)]);
    await deps.jobParts.insertMany(
      ['old_done', 'recent', 'running'].map((jobId) => ({ _id: `${jobId}:0`, jobId, partition: 0, processed: 0, changes: 0, at: new Date(now - 9 * day) })),
    );
    expect(await pruneFinishedJobs(deps, now)).toBe(2);
    expect((await deps.jobs.find({}, { _id: 1 }).lean()).map((j) => j._id).sort()).toEqual(['recent', 'running']);
    expect((await deps.jobParts.find({}, { jobId: 1 }).lean()).map((p) => p.jobId).sort()).toEqual(['recent', 'running']);
    expect(await pruneFinishedJobs(deps, now)).toBe(0);
  } finally {
    await conn.dropDatabase();
    await conn.close();
  }
});
