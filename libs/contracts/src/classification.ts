import { z } from 'zod';

/**
 * What the tracker concluded about the agent behind an open or a click. `machine` is true for
 * image proxies and privacy prefetch (opens) and security scanners (clicks); reports show
 * human and total figures side by side, so nothing is thrown away.
 */
export const Classification = z.object({
  client: z.string().max(100).nullable(),
  clientVersion: z.string().max(50).nullable(),
  os: z.string().max(100).nullable(),
  device: z.enum(['desktop', 'mobile', 'tablet', 'proxy', 'bot', 'unknown']),
  machine: z.boolean(),
  /** Why it was flagged, e.g. "apple_mpp", "gmail_image_proxy", "head_request", "too_fast". */
  machineReasons: z.array(z.string().max(60)).max(10),
  /** Truncated (/24, /48) unless raw storage is configured. */
  ip: z.string().max(64).nullable(),
  userAgent: z.string().max(512).nullable(),
});
export type Classification = z.infer<typeof Classification>;
