import type { Response } from 'express';
import { InvalidInputError } from '@payam/errors';
import type { Logger } from '@payam/observability';
import type { EventRecorder } from '../spool/recorder';
import { unsubscribedEvent, type TokenVerifier } from './events';
import { badToken } from './hot-routes';

export interface UnsubscribeDeps {
  tokens: TokenVerifier;
  recorder: EventRecorder;
  logger: Logger;
  now?: () => Date;
}

const HTML_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  'Referrer-Policy': 'no-referrer',
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font-size:1rem;padding:.6rem 1.2rem}</style></head><body>${body}</body></html>`;
}

function verified(deps: UnsubscribeDeps, token: string) {
  const p = deps.tokens.verify(token);
  return p !== null && p.kind === 'unsubscribe' ? p : null;
}

/**
 * GET /u/<token>: a page with a confirm button. Showing it changes nothing, because link
 * scanners fetch every URL in a message; only the POST unsubscribes.
 */
export function unsubscribePage(deps: UnsubscribeDeps, token: string, res: Response): void {
  if (verified(deps, token) === null) return badToken(res);
  const action = `/u/${encodeURIComponent(token)}`;
  res
    .status(200)
    .set(HTML_HEADERS)
    .send(
      page(
        'Unsubscribe',
        `<h1>Unsubscribe</h1><p>Stop receiving these emails?</p><form method="post" action="${escapeHtml(action)}"><input type="hidden" name="confirm" value="page"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
}

/** "List-Unsubscribe=One-Click" in a form body: what RFC 8058 mail clients (Gmail, Yahoo) POST. */
export function isOneClick(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  try {
    return new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click';
  } catch {
    return false;
  }
}

/**
 * POST /u/<token>: RFC 8058 one-click (answered 200, never a redirect: the mail client does not
 * follow one) or the page's confirm button. The event id is per delivery, so a repeated POST is
 * the same event downstream.
 */
export async function unsubscribe(deps: UnsubscribeDeps, token: string, body: unknown, res: Response): Promise<void> {
  const p = verified(deps, token);
  if (p === null) return badToken(res);
  const source = isOneClick(body) ? 'one_click' : 'page';
  try {
    await deps.recorder.record([unsubscribedEvent(p, source, (deps.now ?? (() => new Date()))())]);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    // A genuine token whose event the schema refuses: a signer bug (or a token from a laxer
    // version), not the visitor's fault and not an outage. Logged for us; the visitor gets the
    // bad-link page every unusable token gets.
    deps.logger.error({ problems: err.problems, workspaceId: p.workspaceId, deliveryId: p.deliveryId }, 'unsubscribe not recorded: event fails the schema');
    return badToken(res);
  }
  if (source === 'one_click') {
    res.status(200).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).send('Unsubscribed\n');
    return;
  }
  res.status(200).set(HTML_HEADERS).send(page('Unsubscribed', '<h1>You are unsubscribed</h1><p>You will not receive these emails any more.</p>'));
}
