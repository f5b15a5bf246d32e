import { route, type RouteDef } from '@payam/http';
import type { SenderContext } from '../context';
import { CampaignIdParams } from '../campaigns/schemas';
import { WinnerBody } from './schemas';
import { decisionView } from './service';

/** Experiment routes (issue 6); a workspace key, and another workspace's campaign is a 404. */
export function experimentRoutes(ctx: SenderContext): RouteDef[] {
  const ws = (principal: { workspaceId: string } | null): string => principal!.workspaceId;
  return [
    route({
      method: 'get',
      path: '/campaigns/:campaignId/experiment',
      summary: 'A/B experiment report: per-variant figures, statistics, state and decision (404 if none)',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: ({ principal, params }) => ctx.experiments.report(ws(principal), params.campaignId),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/experiment/winner',
      summary: 'Pick the A/B winner by hand; the rest of the audience gets it (409 if decided, not started or cancelled)',
      permission: 'workspace',
      params: CampaignIdParams,
      body: WinnerBody,
      handler: async ({ principal, params, body }) => {
        const keyId = (principal as { keyId?: string } | null)?.keyId;
        const d = await ctx.experiments.pickWinner(ws(principal), params.campaignId, body.variantId, `api:${keyId ?? 'workspace-key'}`);
        return decisionView(d);
      },
    }),
  ];
}
