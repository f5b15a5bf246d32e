// A live campaign funnel from email-events.v1, for analysts: an example of consuming the
// suite's event streams with nothing but kafkajs and the published schemas.
//
//   npx tsx examples/analyst-funnel/funnel.ts --from-beginning
//   npx tsx examples/analyst-funnel/funnel.ts --group my-funnel --workspace ws_123
//
// Options (or environment): --brokers host:port,… (KAFKA_BROKERS, default 127.0.0.1:9092),
// --group id (FUNNEL_GROUP_ID, default a new group per run), --from-beginning
// (FUNNEL_FROM_BEGINNING=1), --workspace id (FUNNEL_WORKSPACE_ID), --interval ms (default 2000).
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@payam/contracts';
import { createFunnelState, ingestRecord, renderFunnel, type FunnelOptions } from './funnel-model';

const { values: args } = parseArgs({
  options: {
    brokers: { type: 'string' },
    group: { type: 'string' },
    'from-beginning': { type: 'boolean', default: false },
    workspace: { type: 'string' },
    interval: { type: 'string' },
  },
});

const brokers = (args.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');
// The counts live in this process's memory, so by default every run gets a fresh group and
// rebuilds them from where it starts reading; a fixed group resumes at its committed offsets
// and only counts what arrives after them.
const groupId = args.group ?? process.env.FUNNEL_GROUP_ID ?? `analyst-funnel-${randomUUID().slice(0, 8)}`;
const fromBeginning = args['from-beginning'] || process.env.FUNNEL_FROM_BEGINNING === '1';
const workspaceId = args.workspace ?? process.env.FUNNEL_WORKSPACE_ID;
const requestedInterval = Number(args.interval ?? 2000);
const intervalMs = Number.isFinite(requestedInterval) && requestedInterval >= 100 ? requestedInterval : 2000;
const opts: FunnelOptions = workspaceId ? { workspaceId } : {};

const out = (text: string) => process.stdout.write(text);
const state = createFunnelState();
const topic = Topics.emailEvents.name;

function draw(): void {
  // Redraw in place on a terminal; append snapshots when piped to a file.
  const clear = process.stdout.isTTY ? '\x1b[H\x1b[2J' : '\n';
  const where = `${topic} · group ${groupId}${workspaceId ? ` · workspace ${workspaceId}` : ''} · ${new Date().toISOString()}`;
  out(`${clear}${where}\n\n${renderFunnel(state)}\n`);
}

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'analyst-funnel', brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning });
  await consumer.run({
    eachMessage: async ({ message }) => {
      ingestRecord(state, message.value, opts);
    },
  });

  const timer = setInterval(draw, intervalMs);
  draw();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    try {
      await consumer.disconnect();
    } finally {
      draw();
      out(`\nstopped (${signal})\n`);
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('analyst-funnel:', err instanceof Error ? err.message : err);
  process.exit(1);
});
