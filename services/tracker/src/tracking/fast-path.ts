import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import proxyaddr from 'proxy-addr';
import type { Logger, Metrics } from '@payam/observability';
import type { HotRequest, HotRoutes } from './hot-routes';

/** Same rule as libs/http's request context: a caller's id only when short and plain. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A token is base64url parts joined by dots; anything else (%, /, …) is left to express. */
const PLAIN_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * The pixel and the click straight from node's http server, ahead of express: express's
 * per-request setup, router and middleware cost more than the rest of a tracking request.
 * Only the usual spelling is taken here (GET or HEAD, lowercase /o/ or /c/, one plain segment)
 * and only with a genuine token; everything else, bad tokens included, goes to the express app
 * unchanged, so bad tokens, odd paths and every other route answer exactly as before.
 *
 * What createApp's request context gives every express request is kept: the X-Request-Id and
 * nosniff headers, the duration histogram with the route pattern, one access log line.
 */
export function withFastPath(app: Express, routes: HotRoutes, logger: Logger, metrics: Metrics): RequestListener {
  return (req, res) => {
    const hot = req.method === 'GET' || req.method === 'HEAD' ? match(req.url ?? '', routes) : null;
    if (hot === null) {
      app(req, res);
      return;
    }
    void answer(app, routes, logger, metrics, hot, req, res);
  };
}

function match(url: string, routes: HotRoutes): HotRequest | null {
  if (url.length < 4 || url.charCodeAt(0) !== 47 /* / */ || url.charCodeAt(2) !== 47) return null;
  const route = url[1];
  if (route !== 'o' && route !== 'c') return null;
  const q = url.indexOf('?', 3);
  const segment = q === -1 ? url.slice(3) : url.slice(3, q);
  if (!PLAIN_SEGMENT.test(segment)) return null;
  return route === 'o' ? routes.verifyOpen(segment) : routes.verifyClick(segment);
}

async function answer(app: Express, routes: HotRoutes, logger: Logger, metrics: Metrics, hot: HotRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  // req.ip exactly as express computes it, with the app's "trust proxy" setting.
  const ip = proxyaddr(req, app.get('trust proxy fn') as proxyaddr.TrustFunction);
  const sent = await routes.answer(hot, req, ip, res, { 'X-Request-Id': requestId, 'X-Content-Type-Options': 'nosniff' });
  // 499 (nginx's "client closed request") when the client left before the answer was written.
  const status = req.socket.destroyed ? 499 : sent;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const route = hot.kind === 'open' ? '/o/:token.gif' : '/c/:token';
  metrics.httpRequestDuration.observe({ method: req.method ?? 'GET', route, status: String(status) }, seconds);
  const level = status >= 500 ? 'error' : 'info';
  if (logger.isLevelEnabled(level)) {
    const line = { requestId, method: req.method, route, status, durationMs: Math.round(seconds * 1e6) / 1e3, bytes: Number(res.getHeader('content-length') ?? 0) };
    logger[level](line, 'request');
  }
}
