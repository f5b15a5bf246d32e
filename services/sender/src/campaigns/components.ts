import type { Component } from '../app';
import type { SenderContext } from '../context';
import { membershipConsumer } from '../audience/consumer';
import { SegmentTriggers } from '../triggers/segment-entered';
import { sendWorker } from '../delivery/worker';
import { CampaignDriver } from './driver';
import { campaignSignalsConsumer } from './signals';
import type { CampaignService } from './service';
import type { ExperimentService } from '../experiments/service';
import { experimentEventsConsumer } from '../experiments/consumer';

/** Background parts of campaigns and delivery, in start order. */
export function campaignComponents(ctx: SenderContext & { campaigns: CampaignService; campaignDriver: CampaignDriver }): Component[] {
  const triggers = new SegmentTriggers(ctx);
  return [
    membershipConsumer(ctx, { onEntered: (c) => triggers.onEntered(c) }),
    campaignSignalsConsumer(ctx, ctx.campaigns),
    ctx.campaignDriver,
    sendWorker(ctx, ctx.campaigns),
    experimentEventsConsumer(ctx),
  ];
}

export function createCampaignDriver(ctx: SenderContext, campaigns: CampaignService, experiments: ExperimentService): CampaignDriver {
  return new CampaignDriver(ctx, campaigns, experiments, {
    intervalMs: ctx.config.SENDER_SCHEDULER_INTERVAL_MS,
    sendingLeaseMs: ctx.config.SENDER_SENDING_LEASE_MS,
  });
}
