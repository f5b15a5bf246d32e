import { z } from 'zod';
import { Email } from '../contacts/schemas';

export const SuppressionReasonInput = z.enum(['bounce', 'complaint', 'unsubscribe', 'manual']);

export const SuppressionCreate = z.strictObject({ email: Email, reason: SuppressionReasonInput.default('manual') });
export const SuppressionParams = z.object({ email: Email });
export const SuppressionListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(400).optional(),
  emailPrefix: z.string().trim().toLowerCase().min(1).max(254).optional(),
  reason: SuppressionReasonInput.optional(),
});
