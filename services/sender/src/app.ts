import type { Express } from 'express';
import type { Connection } from 'mongoose';
import type { Kafka } from 'kafkajs';
import { apiKeyModel, createApiKeyResolver } from '@payam/api-keys';
import { createApp } from '@payam/http';
import type { EventPublisher } from '@payam/kafka';
import { ensureIndexes, pingMongo } from '@payam/mongo';
import type { Logger, Metrics } from '@payam/observability';
import type { SenderConfig } from './config';
import { senderRoutes } from './routes';
import { createSenderContext, type SenderContext } from './context';
import { contactRepublisher } from './contacts/republisher';
import { contactChangesPruner } from './contacts/changes-pruner';
import { apiKeyRepublisher } from './workspaces/republisher';
import { suppressionConsumer } from './suppression/consumer';
import { contactImports } from './contacts/import-component';
import { campaignComponents } from './campaigns/components';
import { version as SERVICE_VERSION } from '../package.json';

/** What every module of the sender is built from; tests inject their own. */
export interface SenderDeps {
  config: SenderConfig;
  logger: Logger;
  metrics: Metrics;
  conn: Connection;
  kafka: Kafka;
  /** Connected by the caller; buildSender never connects or disconnects it. */
  publisher: EventPublisher;
  /**
   * Prefix for consumer group ids (default none: "sender.suppression"). Tests give each file its
   * own, so their groups never share offsets with another run.
   */
  groupPrefix?: string;
}

/** A background part of the service (consumer, sweeper, worker) started after the HTTP app is built. */
export interface Component {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Sender {
  app: Express;
  ctx: SenderContext;
  /** Creates indexes, then starts every component in order. */
  start(): Promise<void>;
  /** Stops the components in reverse order (consumers finish their batch). Leaves HTTP, Kafka and Mongo to the caller. */
  stop(): Promise<void>;
}

export interface BuildOptions {
  /** Which components to run; default all. Tests that only need HTTP pass []. */
  only?: string[];
  /** Components not to run (after `only`): e.g. every component but the send worker, which runs elsewhere. */
  except?: string[];
}

/** Consumer group id with the deps' prefix (tests isolate their groups this way). */
export function groupId(deps: Pick<SenderDeps, 'groupPrefix'>, name: string): string {
  return deps.groupPrefix ? `${deps.groupPrefix}.${name}` : name;
}

export function buildSender(deps: SenderDeps, opts: BuildOptions = {}): Sender {
  const ctx = createSenderContext(deps);

  const components: Component[] = [
    apiKeyRepublisher(ctx),
    contactRepublisher(ctx),
    suppressionConsumer(ctx),
    contactImports(ctx),
    contactChangesPruner(ctx),
    // --- campaigns & delivery (part B): consumers and workers ---
    ...campaignComponents(ctx),
  ];
  const unknown = [...(opts.only ?? []), ...(opts.except ?? [])].filter((name) => !components.some((c) => c.name === name));
  // A misspelt name in SENDER_COMPONENTS would otherwise start a process that silently does nothing.
  if (unknown.length > 0) throw new Error(`unknown sender components: ${unknown.join(', ')} (known: ${components.map((c) => c.name).join(', ')})`);
  const active = (opts.only ? components.filter((c) => opts.only!.includes(c.name)) : components).filter((c) => !opts.except?.includes(c.name));

  const app = createApp({
    service: 'sender',
    openapi: { title: 'payam sender', version: SERVICE_VERSION, description: 'Workspaces and API keys, contacts and imports, lists, Handlebars templates, campaigns and A/B experiments; sends through Amazon SES v2.' },
    logger: deps.logger,
    metrics: deps.metrics,
    routes: senderRoutes(ctx),
    readiness: {
      mongo: () => pingMongo(deps.conn),
      kafka: async () => {
        if (!deps.publisher.isConnected) throw new Error('kafka producer not connected');
      },
    },
    apiKeys: createApiKeyResolver(apiKeyModel(deps.conn), { cacheTtlMs: deps.config.API_KEY_CACHE_TTL_MS }),
    adminSecret: deps.config.ADMIN_SECRET,
    bodyLimit: '2mb',
  });

  const started: Component[] = [];
  return {
    app,
    ctx,
    async start() {
      await ensureIndexes(deps.conn);
      for (const c of active) {
        await c.start();
        started.push(c);
        deps.logger.info({ component: c.name }, 'component started');
      }
    },
    async stop() {
      while (started.length > 0) {
        const c = started.pop()!;
        try {
          await c.stop();
        } catch (err) {
          deps.logger.error({ err, component: c.name }, 'component stop failed');
        }
      }
    },
  };
}
