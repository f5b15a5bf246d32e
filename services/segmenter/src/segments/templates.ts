import { LIFECYCLE_STAGES } from '../rules/figures';

/**
 * Built-in models a workspace switches on (POST /segments/from-template). Lifecycle, tier and
 * RFM segments read profile figures, whose thresholds are tuned per workspace with
 * PUT /models/settings; the engagement segments are plain rules a workspace may edit like any
 * other segment after switching them on. (The rules are raw JSON, validated like client rules.)
 */
export interface Template {
  key: string;
  name: string;
  description: string;
  rule: unknown;
}

const QUIET_DAYS = '90d';
const ACTIVITY = ['email.opened', 'email.clicked', 'contact.purchase', 'contact.signup', 'contact.custom'];

export const TEMPLATES: Template[] = [
  ...LIFECYCLE_STAGES.map((stage) => ({
    key: `lifecycle.${stage}`,
    name: `Lifecycle: ${stage.replace(/_/g, ' ')}`,
    description: `Contacts whose lifecycle stage is ${stage} (README, "Lifecycle stages").`,
    rule: { profile: 'lifecycle', op: 'eq', value: stage },
  })),
  ...['red', 'silver', 'gold'].map((tier) => ({
    key: `loyalty.${tier}`,
    name: `Loyalty tier: ${tier}`,
    description: `Loyalty tier ${tier}, by points or spend thresholds (models settings).`,
    rule: { profile: 'tier', op: 'eq', value: tier },
  })),
  {
    key: 'rfm.champions',
    name: 'RFM: champions',
    description: 'R, F and M each 4 or 5.',
    rule: {
      all: [
        { profile: 'rfm.r', op: 'gte', value: 4 },
        { profile: 'rfm.f', op: 'gte', value: 4 },
        { profile: 'rfm.m', op: 'gte', value: 4 },
      ],
    },
  },
  {
    key: 'rfm.at_risk',
    name: 'RFM: at risk',
    description: 'Bought often or for much (F or M 4+), but not recently (R 2 or less).',
    rule: {
      all: [
        { profile: 'rfm.r', op: 'lte', value: 2 },
        {
          any: [
            { profile: 'rfm.f', op: 'gte', value: 4 },
            { profile: 'rfm.m', op: 'gte', value: 4 },
          ],
        },
      ],
    },
  },
  {
    key: 'value.top20',
    name: 'Top 20% by value',
    description: 'The 80/20 rule: buyers in the top 20% by lifetime spend (threshold refreshed by full recompute).',
    rule: { top: 'purchase.amount', percent: 20 },
  },
  {
    key: 'engagement.engaged',
    name: 'Engaged (30 days)',
    description: 'Opened or clicked (human, not machine opens) in the last 30 days.',
    rule: {
      any: [
        { event: 'email.opened', within: '30d', humanOnly: true, count: { gte: 1 } },
        { event: 'email.clicked', within: '30d', humanOnly: true, count: { gte: 1 } },
      ],
    },
  },
  {
    key: 'engagement.dormant',
    name: 'Dormant (90 days): win-back',
    description: 'Known for 90+ days and no open, click, purchase, signup or custom event in the last 90 days.',
    rule: {
      all: [
        { field: 'firstSeenAt', op: 'older_than', value: QUIET_DAYS },
        { field: 'status', op: 'eq', value: 'subscribed' },
        { not: { any: ACTIVITY.map((e) => ({ last: e, within: QUIET_DAYS })) } },
      ],
    },
  },
  {
    key: 'deliverability.complainers',
    name: 'Complainers (never mail)',
    description: 'Marked a message as spam, or the contact status is complained.',
    rule: {
      any: [
        { event: 'email.complained', count: { gte: 1 } },
        { field: 'status', op: 'eq', value: 'complained' },
      ],
    },
  },
  {
    key: 'deliverability.hard_bounces',
    name: 'Hard bounces (never mail)',
    description: 'A permanent bounce, or the contact status is bounced.',
    rule: {
      any: [
        { event: 'email.bounced', bounceType: 'Permanent', count: { gte: 1 } },
        { field: 'status', op: 'eq', value: 'bounced' },
      ],
    },
  },
];

export function findTemplate(key: string): Template | undefined {
  return TEMPLATES.find((t) => t.key === key);
}
