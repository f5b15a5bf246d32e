import type { CampaignExperiment } from './model';

/** The experiment as configured (what the campaign view shows). */
export function experimentConfigView(e: CampaignExperiment) {
  return {
    variants: e.variants,
    testShare: e.testShare,
    metric: e.metric,
    decideAfter: e.decideAfter,
    confidence: e.confidence,
    minSamplePerVariant: e.minSamplePerVariant,
    notSignificantPolicy: e.notSignificantPolicy,
  };
}
