import type { Express, Request, Response } from 'express';
import type { Logger, Metrics } from '@payam/observability';
import type { Classifier } from '../classification/classifier';
import type { EventRecorder } from '../spool/recorder';
import { clickedEvent, openedEvent, safeRedirectTarget, type TokenVerifier } from './events';

/** The classic 1x1 transparent GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export interface HotRouteDeps {
  tokens: TokenVerifier;
  classifier: Classifier;
  recorder: EventRecorder;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
}

/**
 * One answer for every bad token, whatever was wrong with it (unknown key, bad MAC, truncated,
 * wrong kind, unsafe target): a forger learns nothing, and a bad token never redirects.
 */
export function badToken(res: Response): void {
  res.status(400).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).send('Bad request\n');
}

function unavailable(res: Response): void {
  res.status(503).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'Retry-After': '5' }).send('Try again later\n');
}

function observation(req: Request) {
  return { userAgent: req.get('user-agent'), ip: req.ip, method: req.method, referrer: req.get('referer') };
}

/**
 * GET /o/<token>.gif and GET /c/<token>: mounted ahead of the route list and body parsing
 * (createApp's mountBefore). No database read: the signed token carries everything. Each answers
 * only after its event is acknowledged by Kafka or fsynced in the spool (EventRecorder).
 */
export function mountHotRoutes(app: Express, deps: HotRouteDeps): void {
  const now = deps.now ?? (() => new Date());
  const recorded = deps.metrics.counter<'kind' | 'machine'>('tracker_tracked_total', 'Opens and clicks recorded', ['kind', 'machine']);
  const rejected = deps.metrics.counter<'kind'>('tracker_bad_tokens_total', 'Requests with a token that failed verification', ['kind']);

  // A path with broken percent-encoding makes the router's parameter decoding throw, which would
  // surface as a 500: answer it like any other bad token instead, for every route.
  app.use((req: Request, res: Response, next: () => void) => {
    try {
      decodeURIComponent(req.path);
      next();
    } catch {
      rejected.inc({ kind: 'malformed_url' });
      badToken(res);
    }
  });

  app.get('/o/:file', async (req: Request, res: Response) => {
    res.locals.routePattern = '/o/:token.gif';
    try {
      const file = String(req.params.file ?? '');
      const payload = file.endsWith('.gif') ? deps.tokens.verify(file.slice(0, -4)) : null;
      if (payload === null || payload.kind !== 'open') {
        rejected.inc({ kind: 'open' });
        return badToken(res);
      }
      const at = now();
      const classification = deps.classifier.classifyOpen(observation(req));
      // Built here from the verified payload: valid by construction (see events.ts), no second schema check.
      await deps.recorder.record([openedEvent(payload, classification, at)], { validate: false });
      recorded.inc({ kind: 'open', machine: String(classification.machine) });
      res
        .status(200)
        .set({ 'Content-Type': 'image/gif', 'Content-Length': String(PIXEL_GIF.length), 'Cache-Control': 'no-store, no-cache, must-revalidate, private', Pragma: 'no-cache' })
        .end(PIXEL_GIF);
    } catch (err) {
      deps.logger.error({ err }, 'open not recorded');
      unavailable(res);
    }
  });

  app.get('/c/:token', async (req: Request, res: Response) => {
    res.locals.routePattern = '/c/:token';
    try {
      const payload = deps.tokens.verify(String(req.params.token ?? ''));
      const target = payload?.kind === 'click' ? safeRedirectTarget(payload.url) : null;
      if (payload === null || target === null) {
        rejected.inc({ kind: 'click' });
        return badToken(res);
      }
      const at = now();
      const classification = deps.classifier.classifyClick(observation(req), {
        issuedAt: payload.issuedAt,
        deliveryKey: payload.deliveryId === null ? null : `${payload.workspaceId}:${payload.deliveryId}`,
        linkIndex: payload.linkIndex ?? null,
        now: at.getTime(),
      });
      await deps.recorder.record([clickedEvent(payload, target, classification, at)], { validate: false });
      recorded.inc({ kind: 'click', machine: String(classification.machine) });
      res.status(302).set({ Location: target, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).end();
    } catch (err) {
      deps.logger.error({ err }, 'click not recorded');
      unavailable(res);
    }
  });
}
