import { z } from 'zod';
import { EntityId } from '@payam/contracts';

const Name = z.string().trim().min(1).max(200);
const Subject = z.string().min(1).max(998);
const Preheader = z.string().max(500);
const Html = z.string().min(1).max(512 * 1024);
const Text = z.string().max(256 * 1024);

export const TemplateCreate = z.strictObject({
  name: Name,
  subject: Subject,
  preheader: Preheader.default(''),
  html: Html,
  text: Text.nullable().default(null),
  layoutId: EntityId.nullable().default(null),
});
export type TemplateCreate = z.infer<typeof TemplateCreate>;

export const TemplatePatch = z
  .strictObject({
    name: Name.optional(),
    subject: Subject.optional(),
    preheader: Preheader.optional(),
    html: Html.optional(),
    text: Text.nullable().optional(),
    layoutId: EntityId.nullable().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'expected at least one field to change');
export type TemplatePatch = z.infer<typeof TemplatePatch>;

export const TemplateIdParams = z.object({ templateId: EntityId });

export const LayoutCreate = z.strictObject({ name: Name, html: Html, text: Text.nullable().default(null) });
export type LayoutCreate = z.infer<typeof LayoutCreate>;
export const LayoutPatch = z
  .strictObject({ name: Name.optional(), html: Html.optional(), text: Text.nullable().optional() })
  .refine((p) => Object.keys(p).length > 0, 'expected at least one field to change');
export type LayoutPatch = z.infer<typeof LayoutPatch>;
export const LayoutIdParams = z.object({ layoutId: EntityId });

export const PartialName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1 to 64 letters, digits, "_" or "-"');
export const PartialParams = z.object({ name: PartialName });
export const PartialPut = z.strictObject({ content: z.string().max(256 * 1024) });

/** Preview for a stored contact, or with sample data (attributes-like JSON), or with neither (empty data). */
export const PreviewRequest = z
  .strictObject({
    contactId: EntityId.optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((p) => !(p.contactId && p.data), { message: 'give contactId or data, not both', path: ['data'] });
export type PreviewRequest = z.infer<typeof PreviewRequest>;
