import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger, Metrics } from '@payam/observability';
import type { Principal } from './route';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by createApp on every request, including mountBefore routes. */
      requestId: string;
      log: Logger;
      /** The matched route pattern, for the metric label and the access log. */
      routePattern?: string;
      /** Set by createApp's route chain after authentication. */
      principal?: Principal | null;
    }
  }
}

/** Accept a caller's id only when it is short and plain, so it cannot forge log lines or headers. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes hit these every few seconds; their access lines go to debug so they don't drown real traffic. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Request id, child logger, one access log line and one histogram observation per request.
 * Cheap enough to run ahead of everything, including the hot tracking routes.
 */
export function requestContext(logger: Logger, metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ requestId });
    res.locals.requestId = requestId;
    res.locals.log = log;
    res.setHeader('X-Request-Id', requestId);

    const started = process.hrtime.bigint();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // 499 (nginx's "client closed request") when the client left before the answer was sent.
      const status = res.writableFinished ? res.statusCode : 499;
      // The pattern, never the raw path: raw paths carry ids and tokens and would make the
      // metric's label set unbounded. Unmatched requests share one label.
      const route = res.locals.routePattern ?? (req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched');
      metrics.httpRequestDuration.observe({ method: req.method, route, status: String(status) }, seconds);
      const line = {
        method: req.method,
        route,
        // The raw path only when no route matched (to debug 404s): a matched path may carry a
        // token (/c/<signed token>, /u/<token>) or ids, which do not belong in logs. Never the
        // query string: queries may carry secrets.
        ...(route === 'unmatched' ? { path: req.path } : {}),
        status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        bytes: Number(res.getHeader('content-length') ?? 0),
      };
      if (status >= 500) log.error(line, 'request');
      else if (QUIET_PATHS.has(req.path)) log.debug(line, 'request');
      else log.info(line, 'request');
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}
