import { parseArgs } from 'node:util';
import { connectMongo } from '@payam/mongo';
import { createKafka, EventPublisher } from '@payam/kafka';
import { createLogger } from '@payam/observability';
import { loadSegmenterConfig } from '../config';
import { systemClock } from '../evaluation/processor';
import { createRecomputeJob, jobModel, jobPartModel, runRecompute } from '../evaluation/recompute';
import { profileModel, ProfileStore } from '../profiles/store';
import { segmentModel } from '../segments/segment';
import { workspaceModel } from '../segments/settings';

/**
 * npm run -w @payam/segmenter recompute -- --workspace ws_x [--segment seg_a --segment seg_b]
 *
 * For a stopped segmenter (a migration, a repair). A running one does the same through
 * POST /recompute; run beside it, this process would be a second writer of the same
 * profiles, which the store's one-writer design (profiles/store.ts) does not allow.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { workspace: { type: 'string' }, segment: { type: 'string', multiple: true } } });
  if (!values.workspace) {
    console.error('usage: recompute --workspace <workspaceId> [--segment <segmentId> ...]');
    process.exit(2);
  }
  const config = loadSegmenterConfig();
  const logger = createLogger({ service: 'segmenter-recompute', level: config.LOG_LEVEL });
  const conn = await connectMongo({ uri: config.MONGODB_URI, dbName: config.MONGODB_DB, logger });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-recompute`, logger });
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  const profiles = profileModel(conn);
  const deps = {
    profiles,
    store: ProfileStore.on(conn),
    segments: segmentModel(conn),
    workspaces: workspaceModel(conn),
    jobs: jobModel(conn),
    jobParts: jobPartModel(conn),
    publisher,
    clock: systemClock,
    logger,
  };
  const job = await createRecomputeJob(deps, values.workspace, { segmentIds: values.segment ?? null });
  const started = Date.now();
  const done = await runRecompute(deps, job, {
    batchSize: config.RECOMPUTE_BATCH,
    onProgress: (processed, total) =>
      console.error(`recompute ${job._id}: ${processed}/${total} contacts (${((Date.now() - started) / 1000).toFixed(1)} s)`),
  });
  console.error(
    `recompute ${done.status}: ${done.processed} contacts, ${done.changes} membership changes in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  await publisher.disconnect();
  await conn.close();
  process.exit(done.status === 'done' ? 0 : 1);
}

void main();
