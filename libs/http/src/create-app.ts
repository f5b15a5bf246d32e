import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { formatProblems } from '@payam/contracts';
import type { Logger, Metrics } from '@payam/observability';
import { authenticate, type ApiKeyResolver } from './auth';
import { mountDocs } from './docs';
import { mapError } from './error-mapping';
import { sendError } from './error-response';
import { mountHealth, type ReadinessChecks } from './health';
import type { OpenApiInfo } from './openapi';
import { requestContext } from './request-context';
import { Reply, type RouteDef } from './route';
import { validateRequest } from './validation';

export interface CreateAppOptions {
  service: string;
  logger: Logger;
  metrics: Metrics;
  routes: RouteDef[];
  /** /readyz runs each check (in parallel, readinessTimeoutMs each); any failure answers 503. */
  readiness: ReadinessChecks;
  readinessTimeoutMs?: number;
  /** Required when any route is 'workspace'. */
  apiKeys?: ApiKeyResolver;
  /** Required when any route is 'admin'. */
  adminSecret?: string;
  /** Largest accepted request body, in body-parser notation; default '1mb'. */
  bodyLimit?: string;
  /**
   * Hot routes mounted ahead of the route list, health endpoints and body parsing (the tracker
   * pixel). They still get the request id, res.locals.log, the access log and the metric.
   */
  mountBefore?: (app: Express) => void;
  /** Content types parsed as text on body routes, e.g. ['text/plain'] for SNS notifications. */
  rawBodyTypes?: string[];
  /** Express "trust proxy" setting, for req.ip behind a load balancer. Off by default. */
  trustProxy?: boolean | number | string;
  /**
   * Publishes the API documentation without authentication: GET /openapi.json (generated once,
   * here, from `routes`), GET /docs (a page rendering it) and GET /events/schemas[/<file>] (the
   * event JSON Schemas).
   */
  openapi?: OpenApiInfo;
}

const JSON_TYPES = ['application/json', 'application/*+json'];
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function hasBody(req: Request): boolean {
  return req.get('transfer-encoding') !== undefined || (req.get('content-length') ?? '0') !== '0';
}

export function createApp(opts: CreateAppOptions): Express {
  const { logger, metrics, routes } = opts;
  // Fail at start-up, not at the first request, when a route's permission cannot be checked.
  if (routes.some((r) => r.permission === 'workspace') && !opts.apiKeys) {
    throw new Error(`${opts.service}: 'workspace' routes need an apiKeys resolver`);
  }
  if (routes.some((r) => r.permission === 'admin') && !opts.adminSecret) {
    throw new Error(`${opts.service}: 'admin' routes need an adminSecret`);
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy ?? false);
  app.use(requestContext(logger, metrics));
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  opts.mountBefore?.(app);
  mountHealth(app, opts.readiness, metrics, opts.readinessTimeoutMs ?? 2_000);
  if (opts.openapi) mountDocs(app, opts.openapi, routes);

  const limit = opts.bodyLimit ?? '1mb';
  const rawTypes = opts.rawBodyTypes ?? [];
  const bodyParsers: RequestHandler[] = [express.json({ limit, type: JSON_TYPES })];
  if (rawTypes.length > 0) bodyParsers.push(express.text({ limit, type: rawTypes }));
  const acceptedTypes = [...JSON_TYPES, ...rawTypes];

  for (const def of routes) {
    const chain: RequestHandler[] = [];
    chain.push((_req, res, next) => {
      res.locals.routePattern = def.path;
      next();
    });
    // Authenticate before reading the body: an anonymous caller cannot make us parse a megabyte.
    chain.push(async (req, res, next) => {
      const auth = await authenticate(def.permission, req, opts);
      if (!auth.ok) {
        sendError(res, 401, 'unauthorized', auth.message, { headers: { 'WWW-Authenticate': 'Bearer' } });
        return;
      }
      res.locals.principal = auth.principal;
      next();
    });
    if (def.body) {
      chain.push((req, res, next) => {
        if (METHODS_WITH_BODY.has(req.method) && hasBody(req) && !req.is(acceptedTypes)) {
          sendError(res, 415, 'unsupported_media_type', `expected a body of type ${acceptedTypes.join(', ')}`);
          return;
        }
        next();
      });
      chain.push(...bodyParsers);
    }
    chain.push(async (req, res) => {
      const checked = validateRequest(def, { params: req.params, query: req.query, body: req.body });
      if (!checked.ok) {
        sendError(res, 400, 'validation_failed', formatProblems(checked.problems), { details: checked.problems });
        return;
      }
      const result = await def.handler({
        params: checked.params,
        query: checked.query,
        body: checked.body,
        principal: res.locals.principal ?? null,
        req,
        res,
        log: res.locals.log,
      });
      respond(res, result);
    });
    app[def.method](def.path, ...chain);
  }

  app.use((_req: Request, res: Response) => {
    sendError(res, 404, 'not_found', 'no such route');
  });
  app.use(errorHandler);
  return app;
}

/** Handler result → answer: a Reply as given, undefined → 204, anything else → 200 JSON. */
function respond(res: Response, result: unknown): void {
  // The handler answered by itself (a redirect, a stream, a GIF).
  if (res.headersSent) return;
  if (result instanceof Reply) {
    res.set(result.headers).status(result.status);
    if (result.body === undefined) res.end();
    else res.json(result.body);
    return;
  }
  if (result === undefined) res.status(204).end();
  else res.status(200).json(result);
}

function errorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const log = res.locals.log;
  const mapped = mapError(err);
  if (res.headersSent) {
    // Too late to answer; Express's default handler closes the connection.
    log.error({ err }, 'error after the response started');
    next(err);
    return;
  }
  if (mapped) {
    if (mapped.status >= 500) log.error({ err }, 'request failed');
    sendError(res, mapped.status, mapped.code, mapped.message, {
      ...(mapped.details !== undefined ? { details: mapped.details } : {}),
      ...(mapped.headers ? { headers: mapped.headers } : {}),
    });
    return;
  }
  // A bug. The stack goes to the log only; the client gets the id to quote when reporting it.
  log.error({ err }, 'unhandled error');
  sendError(res, 500, 'internal', 'internal error', { requestId: res.locals.requestId });
}
