import { reply, route, type RouteDef } from '@payam/http';
import type { SenderContext } from '../context';
import { CampaignCreate, CampaignIdParams, CampaignListQuery, PauseBody, ScheduleBody } from './schemas';
import { campaignView, type CampaignService } from './service';

/** Campaign routes (part B); every one needs a workspace key, and another workspace's campaign is a 404. */
export function campaignRoutes(ctx: SenderContext & { campaigns: CampaignService }): RouteDef[] {
  const ws = (principal: { workspaceId: string } | null): string => principal!.workspaceId;
  const svc = ctx.campaigns;
  const withProgress = async (doc: Awaited<ReturnType<CampaignService['get']>>) => ({ ...campaignView(doc), progress: await svc.progress(doc) });
  return [
    route({
      method: 'post',
      path: '/campaigns',
      permission: 'workspace',
      body: CampaignCreate,
      handler: async ({ principal, body }) => reply(201, campaignView(await svc.create(ws(principal), body))),
    }),
    route({
      method: 'get',
      path: '/campaigns',
      permission: 'workspace',
      query: CampaignListQuery,
      handler: async ({ principal, query }) => ({ items: (await svc.list(ws(principal), query)).map(campaignView) }),
    }),
    route({
      method: 'get',
      path: '/campaigns/:campaignId',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: async ({ principal, params }) => withProgress(await svc.get(ws(principal), params.campaignId)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/schedule',
      permission: 'workspace',
      params: CampaignIdParams,
      body: ScheduleBody,
      handler: async ({ principal, params, body }) => campaignView(await svc.schedule(ws(principal), params.campaignId, body.sendAt)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/start',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: async ({ principal, params }) => campaignView(await svc.start(ws(principal), params.campaignId)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/pause',
      permission: 'workspace',
      params: CampaignIdParams,
      body: PauseBody,
      handler: async ({ principal, params, body }) => campaignView(await svc.pause(ws(principal), params.campaignId, body.reason)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/resume',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: async ({ principal, params }) => campaignView(await svc.resume(ws(principal), params.campaignId)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/cancel',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: async ({ principal, params }) => campaignView(await svc.cancel(ws(principal), params.campaignId)),
    }),
  ];
}
