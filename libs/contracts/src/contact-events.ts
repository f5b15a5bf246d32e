import { z } from 'zod';
import { EnvelopeFields } from './envelope';

/** Business events about a contact (contact-events.v1), ingested through the segmenter API. */
export const PurchaseItem = z.object({
  sku: z.string().max(100).optional(),
  name: z.string().max(200).optional(),
  quantity: z.number().int().positive().default(1),
  price: z.number().nonnegative().optional(),
});
export type PurchaseItem = z.infer<typeof PurchaseItem>;

export const ContactPurchase = z.object({
  ...EnvelopeFields,
  type: z.literal('contact.purchase'),
  amount: z.number().nonnegative().max(1e9),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "EUR"'),
  orderId: z.string().max(100).nullable().default(null),
  items: z.array(PurchaseItem).max(500).default([]),
});
export const ContactSignup = z.object({
  ...EnvelopeFields,
  type: z.literal('contact.signup'),
  source: z.string().max(100).nullable().default(null),
});
export const ContactCustom = z.object({
  ...EnvelopeFields,
  type: z.literal('contact.custom'),
  /** The custom event's own name, e.g. "demo_requested"; rules match on it. */
  name: z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits, "_", ".", ":" or "-"'),
  properties: z.record(z.string().max(100), z.unknown()).default({}),
});

export const ContactEvent = z.discriminatedUnion('type', [ContactPurchase, ContactSignup, ContactCustom]);
export type ContactEvent = z.infer<typeof ContactEvent>;
export type ContactPurchase = z.infer<typeof ContactPurchase>;
export type ContactSignup = z.infer<typeof ContactSignup>;
export type ContactCustom = z.infer<typeof ContactCustom>;
