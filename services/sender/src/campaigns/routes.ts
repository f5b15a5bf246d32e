import { reply, route, type RouteDef } from '@payam/http';
import type { SenderContext } from '../context';
import { mapPage } from '../paging';
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
      summary: 'Create a draft campaign, scheduled at once if sendAt is given (400 on an unknown template or list)',
      permission: 'workspace',
      body: CampaignCreate,
      handler: async ({ principal, body }) => reply(201, campaignView(await svc.create(ws(principal), body))),
    }),
    route({
      method: 'get',
      path: '/campaigns',
      summary: 'List campaigns newest first, by cursor (limit up to 200 a page); filter by state',
      permission: 'workspace',
      query: CampaignListQuery,
      handler: async ({ principal, query }) => mapPage(await svc.list(ws(principal), query), campaignView),
    }),
    route({
      method: 'get',
      path: '/campaigns/:campaignId',
      summary: 'Get a campaign with its delivery progress (counts by state, send rate, ETA)',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: async ({ principal, params }) => withProgress(await svc.get(ws(principal), params.campaignId)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/schedule',
      summary: 'Schedule or reschedule a draft campaign for sendAt (409 unless draft/scheduled; 400 if triggered)',
      permission: 'workspace',
      params: CampaignIdParams,
      body: ScheduleBody,
      handler: async ({ principal, params, body }) => campaignView(await svc.schedule(ws(principal), params.campaignId, body.sendAt)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/start',
      summary: 'Start sending now; a triggered campaign starts waiting for segment entries (409 unless draft/scheduled)',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: async ({ principal, params }) => campaignView(await svc.start(ws(principal), params.campaignId)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/pause',
      summary: 'Pause a running campaign, with an optional reason (409 unless running)',
      permission: 'workspace',
      params: CampaignIdParams,
      body: PauseBody,
      handler: async ({ principal, params, body }) => campaignView(await svc.pause(ws(principal), params.campaignId, body.reason)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/resume',
      summary: 'Resume a paused campaign; its queued deliveries are enqueued again (409 unless paused)',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: async ({ principal, params }) => campaignView(await svc.resume(ws(principal), params.campaignId)),
    }),
    route({
      method: 'post',
      path: '/campaigns/:campaignId/cancel',
      summary: 'Cancel a campaign; deliveries not yet sent are dropped (409 if already finished)',
      permission: 'workspace',
      params: CampaignIdParams,
      handler: async ({ principal, params }) => campaignView(await svc.cancel(ws(principal), params.campaignId)),
    }),
  ];
}
