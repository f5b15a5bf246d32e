import { Topics, type CampaignSignal } from '@payam/contracts';
import { subscribe } from '@payam/kafka';
import type { Component } from '../app';
import { consumerComponent } from '../consumer-component';
import type { SenderContext } from '../context';
import type { CampaignService } from './service';

/** campaign-signals.v1 → the tracker's guardrail pauses a running campaign with its reason (idempotent). */
export function campaignSignalsConsumer(ctx: SenderContext, campaigns: CampaignService): Component {
  return consumerComponent(ctx, 'campaign-signals', 'sender.signals', [
    subscribe({
      topic: Topics.campaignSignals,
      handle: async (signal: CampaignSignal) => {
        if (signal.type !== 'campaign.guardrail_tripped') return;
        const c = await campaigns.model.findById(signal.campaignId, { workspaceId: 1 }).lean();
        if (!c || c.workspaceId !== signal.workspaceId) return;
        const paused = await campaigns.pauseBySystem(signal.campaignId, `guardrail ${signal.rule}: ${signal.reason}`);
        if (paused) ctx.logger.warn({ campaignId: signal.campaignId, reason: signal.reason }, 'campaign paused by guardrail');
      },
    }),
  ]);
}
