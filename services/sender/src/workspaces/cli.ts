// `npm run -w @payam/sender workspace:create -- --name Acme [--key-name ci]`: creates a workspace
// and prints its id and a new API key (shown this once; only its hash is stored).
import { parseArgs } from 'node:util';
import { Topics } from '@payam/contracts';
import { createKafka, ensureTopics, EventPublisher } from '@payam/kafka';
import { connectMongo, ensureIndexes } from '@payam/mongo';
import { createLogger } from '@payam/observability';
import { loadSenderConfig } from '../config';
import { WorkspaceService } from './service';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { name: { type: 'string' }, 'key-name': { type: 'string', default: 'default' } },
    strict: true,
  });
  const name = values.name?.trim();
  if (!name || name.length > 100) {
    console.error('usage: workspace:create --name <1 to 100 characters> [--key-name <name>]');
    process.exit(2);
  }
  const config = loadSenderConfig();
  const logger = createLogger({ service: 'sender-cli', level: 'fatal' });
  const conn = await connectMongo({ uri: config.MONGODB_URI, dbName: config.MONGODB_DB, logger });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'payam-sender-cli', logger });
  await ensureTopics(kafka, [Topics.apiKeys]);
  const publisher = new EventPublisher(kafka, logger);
  await publisher.connect();
  try {
    const service = new WorkspaceService(conn, publisher, logger);
    await ensureIndexes(conn);
    const { workspace, apiKey } = await service.createWorkspace(name, values['key-name']);
    process.stdout.write(
      `workspace ${workspace.workspaceId} (${workspace.name})\napi key   ${apiKey.token}\nkey id    ${apiKey.keyId}\n` +
        'The key is shown only now: store it safely.\n',
    );
  } finally {
    await publisher.disconnect();
    await conn.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
