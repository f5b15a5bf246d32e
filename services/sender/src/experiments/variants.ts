import type { RenderableTemplate } from '../templates/render';
import type { CampaignDoc } from '../campaigns/model';
import type { VariantInput } from './schemas';

/** The experiment variant a delivery was assigned, or null (plain campaign, or no variant). */
export function variantOf(campaign: Pick<CampaignDoc, 'experiment'>, variantId: string | null): VariantInput | null {
  if (!variantId || !campaign.experiment) return null;
  return campaign.experiment.variants.find((v) => v.id === variantId) ?? null;
}

/**
 * The template with the variant's subject and preheader in place of its own. The id changes
 * with the variant because the renderer caches compiled parts by template id and version.
 */
export function withVariant(tpl: RenderableTemplate, campaignId: string, v: VariantInput): RenderableTemplate {
  return { ...tpl, id: `${tpl.id}~${campaignId}~${v.id}`, subject: v.subject, preheader: v.preheader ?? tpl.preheader };
}
