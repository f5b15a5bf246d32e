import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Express, Request, Response } from 'express';
import type { Logger, Metrics } from '@payam/observability';
import type { OpenApiInfo } from '@payam/http';
import type { TokenPayload } from '@payam/tracking-token';
import type { Classifier } from '../classification/classifier';
import type { EventRecorder } from '../spool/recorder';
import { clickedEvent, openedEvent, safeRedirectTarget, type TokenVerifier } from './events';

/** The classic 1x1 transparent GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const PIXEL_HEADERS = {
  'Content-Type': 'image/gif',
  'Content-Length': String(PIXEL_GIF.length),
  'Cache-Control': 'no-store, no-cache, must-revalidate, private',
  Pragma: 'no-cache',
};
const UNAVAILABLE_BODY = 'Try again later\n';
const UNAVAILABLE_HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Content-Length': String(Buffer.byteLength(UNAVAILABLE_BODY)),
  'Cache-Control': 'no-store',
  'Retry-After': '5',
};

export interface HotRouteDeps {
  tokens: TokenVerifier;
  classifier: Classifier;
  recorder: EventRecorder;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
}

/** A genuine token of the route's kind (and, for a click, its safe target): ready to record. */
export type HotRequest = { kind: 'open'; payload: TokenPayload } | { kind: 'click'; payload: TokenPayload; target: string };

/**
 * GET /o/<token>.gif and GET /c/<token>, written against node's own request and response so that
 * two mounts share them: the fast path in front of express (tracking/fast-path.ts) and the
 * express routes (mountHotRoutes), which answer every request the fast path leaves to express.
 * No database read: the signed token carries everything. Each answers only after its event is
 * acknowledged by Kafka or fsynced in the spool (EventRecorder).
 */
export class HotRoutes {
  private readonly now: () => Date;
  private readonly recorded;
  readonly rejected;

  constructor(private readonly deps: HotRouteDeps) {
    this.now = deps.now ?? (() => new Date());
    this.recorded = deps.metrics.counter<'kind' | 'machine'>('tracker_tracked_total', 'Opens and clicks recorded', ['kind', 'machine']);
    this.rejected = deps.metrics.counter<'kind'>('tracker_bad_tokens_total', 'Requests with a token that failed verification', ['kind']);
  }

  /** `file` is the decoded path segment after /o/. Null for anything but "<genuine open token>.gif". */
  verifyOpen(file: string): HotRequest | null {
    const payload = file.endsWith('.gif') ? this.deps.tokens.verify(file.slice(0, -4)) : null;
    return payload !== null && payload.kind === 'open' ? { kind: 'open', payload } : null;
  }

  /** Null unless the token is a genuine click token whose target is a safe redirect. */
  verifyClick(token: string): HotRequest | null {
    const payload = this.deps.tokens.verify(token);
    const target = payload?.kind === 'click' ? safeRedirectTarget(payload.url) : null;
    return payload !== null && target !== null ? { kind: 'click', payload, target } : null;
  }

  /**
   * Classifies, records and answers (the GIF or the redirect, with `extraHeaders`); 503 when the
   * event could be neither published nor spooled. Returns the status sent.
   */
  async answer(hot: HotRequest, req: IncomingMessage, ip: string | undefined, res: ServerResponse, extraHeaders: OutgoingHttpHeaders = {}): Promise<number> {
    const { classifier, recorder } = this.deps;
    try {
      const at = this.now();
      const headers = req.headers;
      // Express's req.get('referer') semantics: either spelling of the header.
      const obs = { userAgent: headers['user-agent'], ip, method: req.method ?? 'GET', referrer: (headers.referrer as string | undefined) || headers.referer };
      if (hot.kind === 'open') {
        const classification = classifier.classifyOpen(obs);
        // Built here from the verified payload: valid by construction (see events.ts), no second schema check.
        await recorder.record([openedEvent(hot.payload, classification, at)], { validate: false });
        this.recorded.inc({ kind: 'open', machine: String(classification.machine) });
        // Object.assign rather than spreads: node 20 spreads into a new literal slowly (tracking/events.ts).
        res.writeHead(200, Object.assign({}, extraHeaders, PIXEL_HEADERS)).end(PIXEL_GIF);
        return 200;
      }
      const { payload, target } = hot;
      const classification = classifier.classifyClick(obs, {
        issuedAt: payload.issuedAt,
        deliveryKey: payload.deliveryId === null ? null : `${payload.workspaceId}:${payload.deliveryId}`,
        linkIndex: payload.linkIndex ?? null,
        now: at.getTime(),
      });
      await recorder.record([clickedEvent(payload, target, classification, at)], { validate: false });
      this.recorded.inc({ kind: 'click', machine: String(classification.machine) });
      res.writeHead(302, Object.assign({}, extraHeaders, { Location: target, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' })).end();
      return 302;
    } catch (err) {
      this.deps.logger.error({ err }, `${hot.kind} not recorded`);
      if (!res.headersSent) res.writeHead(503, { ...extraHeaders, ...UNAVAILABLE_HEADERS }).end(UNAVAILABLE_BODY);
      return 503;
    }
  }
}

/**
 * One answer for every bad token, whatever was wrong with it (unknown key, bad MAC, truncated,
 * wrong kind, unsafe target): a forger learns nothing, and a bad token never redirects.
 */
export function badToken(res: Response): void {
  res.status(400).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).send('Bad request\n');
}

/**
 * The express mount of the hot routes, ahead of the route list and body parsing (createApp's
 * mountBefore). It answers what the fast path hands over: bad tokens, unusual spellings of the
 * paths, and every request when the app runs without the fast path (tests with supertest).
 */
export function mountHotRoutes(app: Express, routes: HotRoutes): void {
  // A path with broken percent-encoding makes the router's parameter decoding throw, which would
  // surface as a 500: answer it like any other bad token instead, for every route.
  app.use((req: Request, res: Response, next: () => void) => {
    try {
      decodeURIComponent(req.path);
      next();
    } catch {
      routes.rejected.inc({ kind: 'malformed_url' });
      badToken(res);
    }
  });

  app.get('/o/:file', async (req: Request, res: Response) => {
    res.locals.routePattern = '/o/:token.gif';
    const hot = routes.verifyOpen(String(req.params.file ?? ''));
    if (hot === null) {
      routes.rejected.inc({ kind: 'open' });
      return badToken(res);
    }
    await routes.answer(hot, req, req.ip, res);
  });

  app.get('/c/:token', async (req: Request, res: Response) => {
    res.locals.routePattern = '/c/:token';
    const hot = routes.verifyClick(String(req.params.token ?? ''));
    if (hot === null) {
      routes.rejected.inc({ kind: 'click' });
      return badToken(res);
    }
    await routes.answer(hot, req, req.ip, res);
  });
}

const tokenParameter = (description: string) => ({ name: 'token', in: 'path', required: true, description, schema: { type: 'string' } });
const badTokenResponse = {
  description: 'The token failed verification (tampered, truncated, signed with an unknown key, or a target that is not http(s)): a plain page, never a redirect, never a hint which part was wrong.',
  content: { 'text/html': { schema: { type: 'string' } } },
};

const unavailableResponse = { description: 'The event was neither acknowledged by Kafka nor written to the spool: nothing was counted, and a click is not redirected. Retry later.' };

/**
 * The pixel and the click for the API documentation (/openapi.json): they are answered ahead of
 * express (fast-path.ts, mountHotRoutes), outside the route list the document is built from.
 */
export const hotRoutesDoc: NonNullable<OpenApiInfo['extraPaths']> = {
  '/o/{token}.gif': {
    get: {
      operationId: 'getOpenPixel',
      tags: ['tracking'],
      summary: 'Open pixel: a 1×1 GIF; records email.opened (classified: client, OS, device, machine open)',
      description: 'No credentials and no database read: the signed token carries workspace, campaign, delivery and contact. Answers once the event is acknowledged by Kafka (acks=all) or written to the local spool.',
      parameters: [tokenParameter('The open token the sender put in the message.')],
      responses: {
        '200': { description: 'The GIF, with Cache-Control: no-store.', content: { 'image/gif': { schema: { type: 'string', format: 'binary' } } } },
        '400': badTokenResponse,
        '503': unavailableResponse,
      },
    },
  },
  '/c/{token}': {
    get: {
      operationId: 'getClickRedirect',
      tags: ['tracking'],
      summary: 'Click: 302 to the link the token signs; records email.clicked (classified: scanner click or human)',
      description: 'Redirects only to the http(s) URL inside a genuine token. HEAD is answered the same way and recorded as a scanner click.',
      parameters: [tokenParameter('The click token the sender put in place of the link.')],
      responses: {
        '302': { description: 'To the signed target.', headers: { Location: { description: 'The signed target URL.', schema: { type: 'string', format: 'uri' } } } },
        '400': badTokenResponse,
        '503': unavailableResponse,
      },
    },
  },
};
