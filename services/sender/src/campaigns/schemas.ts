import { z } from 'zod';
import { EntityId } from '@payam/contracts';
import { ExperimentInput } from '../experiments/schemas';

const Ids = z.array(EntityId).max(100).default([]);
/** SES tag names and values: letters, digits, "_", "-", "." and "@" only. */
const TagText = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.@-]+$/, 'expected letters, digits, "_", "-", "." or "@"');
const RESERVED_TAGS = ['workspace', 'campaign', 'delivery', 'contact', 'variant'];

/** How far a sendAt may lie behind the server's clock (client clock skew) and still mean "now". */
export const SEND_AT_GRACE_MS = 60_000;
/**
 * A sendAt in the past is refused rather than started at once: a mistyped date (last year, the
 * wrong month) would otherwise send the whole campaign the moment it is saved.
 */
const SendAt = z.iso
  .datetime({ offset: true })
  .refine((v) => Date.parse(v) >= Date.now() - SEND_AT_GRACE_MS, { message: `must not be in the past (more than ${SEND_AT_GRACE_MS / 1000} s behind the server's clock); start the campaign to send now` });

export const AudienceInput = z.strictObject({
  lists: Ids,
  segments: Ids,
  excludeLists: Ids,
  excludeSegments: Ids,
});

export const TriggerInput = z.strictObject({ type: z.literal('segment_entered'), segmentId: EntityId });

const Email = z.email().max(254).transform((s) => s.trim().toLowerCase());

export const CampaignCreate = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    templateId: EntityId,
    audience: AudienceInput.default({ lists: [], segments: [], excludeLists: [], excludeSegments: [] }),
    trigger: TriggerInput.nullable().default(null),
    from: z.strictObject({ name: z.string().trim().min(1).max(100).regex(/^[^"<>\r\n]+$/, 'no quotes, angle brackets or line breaks').nullable().default(null), address: Email }),
    replyTo: z.array(Email).max(5).default([]),
    configurationSet: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, "_" or "-"').nullable().default(null),
    tags: z
      .record(TagText, TagText)
      .default({})
      .refine((t) => Object.keys(t).length <= 10, 'at most 10 tags')
      .refine((t) => !Object.keys(t).some((k) => RESERVED_TAGS.includes(k)), `tag names ${RESERVED_TAGS.join(', ')} are set by the sender`),
    sendAt: SendAt.optional(),
    experiment: ExperimentInput.nullish(),
  })
  .superRefine((c, ctx) => {
    if (c.trigger === null && c.audience.lists.length === 0 && c.audience.segments.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['audience'], message: 'a campaign needs at least one list or segment (or a trigger)' });
    }
    if (c.trigger !== null && c.sendAt !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sendAt'], message: 'a triggered campaign sends when contacts enter its segment, not at a time' });
    }
    if (c.trigger !== null && c.experiment) {
      ctx.addIssue({ code: 'custom', path: ['experiment'], message: 'a triggered campaign has no audience to split into a test cohort' });
    }
  });
export type CampaignCreate = z.infer<typeof CampaignCreate>;

export const CampaignIdParams = z.strictObject({ campaignId: EntityId });
export const ScheduleBody = z.strictObject({ sendAt: SendAt });
export const PauseBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }).default({});
export const CampaignListQuery = z.strictObject({
  state: z.enum(['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The previous page's nextCursor. */
  cursor: z.string().max(200).optional(),
});
