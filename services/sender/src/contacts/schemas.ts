import { z } from 'zod';
import { ContactStatus, EntityId, type FieldProblem } from '@payam/contracts';

export const MAX_ATTRIBUTES_BYTES = 16 * 1024;
export const MAX_ATTRIBUTE_KEYS = 100;
export const MAX_ATTRIBUTE_DEPTH = 5;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Trimmed and lower-cased before it is checked, so " Ann@Example.COM " and "ann@example.com" are one contact. */
export const Email = z.string().trim().toLowerCase().max(254, 'expected at most 254 characters').pipe(z.email('expected an email address'));
export type Email = z.infer<typeof Email>;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Problems of a free-JSON attributes value, each with its path (e.g. "attributes.address.city"). */
export function attributeProblems(value: Record<string, unknown>, path: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const keys = Object.keys(value);
  if (keys.length > MAX_ATTRIBUTE_KEYS) problems.push({ path, message: `expected at most ${MAX_ATTRIBUTE_KEYS} attributes` });
  const walk = (v: unknown, p: string, depth: number): void => {
    if (problems.length >= 20) return;
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'number' && !Number.isFinite(v)) problems.push({ path: p, message: 'expected a finite number' });
      return;
    }
    if (depth > MAX_ATTRIBUTE_DEPTH) {
      problems.push({ path: p, message: `nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels` });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${p}.${i}`, depth + 1));
      return;
    }
    for (const k of Object.keys(v)) {
      const kp = `${p}.${k}`;
      // Keys Mongo reads as operators or paths, and keys that name prototypes, are refused outright.
      if (k === '' || k.length > 100) problems.push({ path: kp, message: 'expected a key of 1 to 100 characters' });
      else if (k.startsWith('$') || k.includes('.')) problems.push({ path: kp, message: 'a key may not start with "$" or contain "."' });
      else if (FORBIDDEN_KEYS.has(k)) problems.push({ path: kp, message: `"${k}" is not allowed as a key` });
      else walk((v as Record<string, unknown>)[k], kp, depth + 1);
    }
  };
  walk(value, path, 1);
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  if (bytes > MAX_ATTRIBUTES_BYTES) problems.push({ path, message: `expected at most ${MAX_ATTRIBUTES_BYTES} bytes of JSON, got ${bytes}` });
  return problems;
}

const attributesBase = z.record(z.string(), z.unknown());

export const Attributes = attributesBase.superRefine((value, ctx) => {
  for (const p of attributeProblems(value, '')) {
    ctx.addIssue({ code: 'custom', message: p.message, path: p.path.split('.').filter((s) => s !== '') });
  }
});
export type Attributes = z.infer<typeof Attributes>;

/** PATCH: the given attributes are merged in; a null value removes that attribute. */
export const AttributesPatch = Attributes;

export const ListIds = z.array(EntityId).max(100, 'expected at most 100 lists');

export const ContactCreate = z.strictObject({
  email: Email,
  status: ContactStatus.default('subscribed'),
  attributes: Attributes.default({}),
  listIds: ListIds.default([]),
});
export type ContactCreate = z.infer<typeof ContactCreate>;

/** Upsert by email: given fields replace, attributes merge; a new contact starts subscribed. */
export const ContactUpsert = z.strictObject({
  email: Email,
  status: ContactStatus.optional(),
  attributes: Attributes.optional(),
  listIds: ListIds.optional(),
});
export type ContactUpsert = z.infer<typeof ContactUpsert>;

export const ContactPatch = z
  .strictObject({
    email: Email.optional(),
    status: ContactStatus.optional(),
    attributes: AttributesPatch.optional(),
    listIds: ListIds.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'expected at least one of email, status, attributes, listIds');
export type ContactPatch = z.infer<typeof ContactPatch>;

export const ContactIdParams = z.object({ contactId: EntityId });

const ATTR_FILTER = /^attr\.([A-Za-z0-9_-]{1,100})$/;

export const ContactListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(200).optional(),
    status: ContactStatus.optional(),
    listId: EntityId.optional(),
    emailPrefix: z.string().trim().toLowerCase().min(1).max(254).optional(),
  })
  .catchall(z.string().max(500))
  .superRefine((q, ctx) => {
    for (const key of Object.keys(q)) {
      if (['limit', 'cursor', 'status', 'listId', 'emailPrefix'].includes(key)) continue;
      if (!ATTR_FILTER.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'unknown filter; attribute filters are attr.<name>=<value>' });
    }
  })
  .transform((q) => {
    const attributes: Record<string, string> = {};
    for (const [key, value] of Object.entries(q)) {
      const m = ATTR_FILTER.exec(key);
      if (m && typeof value === 'string') attributes[m[1]!] = value;
    }
    return { limit: q.limit, cursor: q.cursor, status: q.status, listId: q.listId, emailPrefix: q.emailPrefix, attributes };
  });
export type ContactListQuery = z.infer<typeof ContactListQuery>;
