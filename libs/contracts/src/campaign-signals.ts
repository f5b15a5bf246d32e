import { z } from 'zod';
import { EntityId } from './envelope';

/**
 * campaign-signals.v1 (keyed by campaignId): facts about a campaign that another service must
 * act on. The tracker's guardrail publishes complaint_rate_exceeded; the sender pauses the
 * campaign with the reason.
 */
export const CampaignGuardrailTripped = z.object({
  id: z.uuid(),
  type: z.literal('campaign.guardrail_tripped'),
  schemaVersion: z.literal(1),
  occurredAt: z.iso.datetime({ offset: true }),
  workspaceId: EntityId,
  campaignId: EntityId,
  rule: z.literal('complaint_rate'),
  reason: z.string().max(500),
  complaintRate: z.number().min(0).max(1),
  threshold: z.number().min(0).max(1),
  deliveries: z.number().int().nonnegative(),
  complaints: z.number().int().nonnegative(),
});
export type CampaignGuardrailTripped = z.infer<typeof CampaignGuardrailTripped>;

export const CampaignSignal = z.discriminatedUnion('type', [CampaignGuardrailTripped]);
export type CampaignSignal = z.infer<typeof CampaignSignal>;
