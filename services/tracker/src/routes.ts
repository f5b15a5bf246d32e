import { z } from 'zod';
import { EntityId } from '@payam/contracts';
import { route, type RouteDef } from '@payam/http';
import type { SnsOutcome } from './ses/sns-handler';
import { reportPage } from './report-page/page';
import { campaignReport } from './stats/report';
import type { StatsCollections } from './stats/store';
import { unsubscribe, unsubscribePage, type UnsubscribeDeps } from './tracking/unsubscribe';

export interface RouteDeps extends UnsubscribeDeps {
  handleSns: (body: unknown) => Promise<SnsOutcome>;
  stats: StatsCollections;
}

/**
 * Every route of the tracker with its permission. The two hot routes, GET /o/<token>.gif and
 * GET /c/<token> (public: the signed token is the credential), are mounted ahead of this list
 * by app.ts (see tracking/hot-routes.ts).
 *
 * Tokens are not validated by a schema here: a bad token must get the same plain 400 page as
 * any other bad token, not a JSON list of what was wrong with it.
 */
export function trackerRoutes(deps: RouteDeps): RouteDef[] {
  const page = reportPage();
  return [
    route({
      method: 'get',
      path: '/u/:token',
      summary: 'Unsubscribe page with a confirm button; showing it changes nothing (400 for a bad token)',
      permission: 'public',
      handler: ({ req, res }) => unsubscribePage(deps, String(req.params.token), res),
    }),
    route({
      method: 'post',
      path: '/u/:token',
      summary: 'Unsubscribe (RFC 8058 one-click or the confirm button); records email.unsubscribed, suppressing the address',
      permission: 'public',
      // Declared so the form body (List-Unsubscribe=One-Click) is read; any content is accepted.
      body: z.unknown(),
      handler: ({ req, res, body }) => unsubscribe(deps, String(req.params.token), body, res),
    }),
    route({
      method: 'post',
      path: '/ses/sns',
      summary: 'SES events via SNS: verifies the signature, confirms subscriptions, records the email events',
      permission: 'public',
      body: z.string({ error: 'expected the SNS message as the text/plain body' }).min(1).max(256 * 1024 + 16 * 1024),
      handler: async ({ body }) => ({ outcome: await deps.handleSns(body) }),
    }),
    route({
      method: 'get',
      path: '/campaigns/:campaignId/report',
      summary: "A campaign's tracking report: counts, rates, links, clients, hourly (404 until it has events)",
      permission: 'workspace',
      params: z.object({ campaignId: EntityId }),
      handler: ({ params, principal }) => campaignReport(deps.stats, principal!.workspaceId, params.campaignId),
    }),
    route({
      method: 'get',
      path: '/reports/:campaignId',
      // The page is a static shell with no data; it asks for the workspace key and fetches the
      // report above with it, so the data stays behind the key.
      permission: 'public',
      params: z.object({ campaignId: EntityId }),
      summary: 'Campaign report page (HTML); the key goes in the URL fragment, #key=pk_…',
      handler: ({ res }) => {
        res.set('Content-Security-Policy', page.contentSecurityPolicy).type('html').send(page.html);
      },
    }),
  ];
}
