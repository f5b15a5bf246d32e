import type { RequestListener } from 'node:http';
import type { Express } from 'express';
import { createApp, type ApiKeyResolver, type ReadinessChecks } from '@payam/http';
import type { Logger, Metrics } from '@payam/observability';
import type { Classifier } from './classification/classifier';
import { trackerRoutes } from './routes';
import type { SnsOutcome } from './ses/sns-handler';
import type { EventRecorder } from './spool/recorder';
import type { StatsCollections } from './stats/store';
import type { TokenVerifier } from './tracking/events';
import { withFastPath } from './tracking/fast-path';
import { HotRoutes, hotRoutesDoc, mountHotRoutes } from './tracking/hot-routes';
import { version as SERVICE_VERSION } from '../package.json';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  tokens: TokenVerifier;
  classifier: Classifier;
  recorder: EventRecorder;
  handleSns: (body: unknown) => Promise<SnsOutcome>;
  stats: StatsCollections;
  apiKeys: ApiKeyResolver;
  readiness: ReadinessChecks;
  trustProxy?: boolean | number | string;
  now?: () => Date;
}

/** The tracker's HTTP app from its dependencies (main.ts wires the real ones; tests may swap any). */
export function buildApp(deps: AppDeps, hot: HotRoutes = new HotRoutes(deps)): Express {
  return createApp({
    service: 'tracker',
    openapi: {
      title: 'payam tracker',
      version: SERVICE_VERSION,
      description: 'Opens (pixel), signed click redirects, RFC 8058 one-click unsubscribes, SES notifications through SNS, and campaign reports.',
      extraPaths: hotRoutesDoc,
    },
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
    apiKeys: deps.apiKeys,
    trustProxy: deps.trustProxy ?? false,
    // Ahead of health, route list and body parsing: the pixel and the click are the hot path.
    mountBefore: (app) => mountHotRoutes(app, hot),
    // SNS posts text/plain; the one-click unsubscribe is a form post (or multipart from some clients).
    rawBodyTypes: ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'],
    bodyLimit: '300kb',
    routes: trackerRoutes(deps),
  });
}

/** What the server runs: the pixel and click fast path in front of the express app (tracking/fast-path.ts). */
export function buildListener(deps: AppDeps): RequestListener {
  const hot = new HotRoutes(deps);
  return withFastPath(buildApp(deps, hot), hot, deps.logger, deps.metrics);
}
