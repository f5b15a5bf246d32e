// Valid example records for every event type: used by the schema tests and handy for docs.
import { randomUUID } from 'node:crypto';

const base = () => ({
  id: randomUUID(),
  schemaVersion: 1 as const,
  occurredAt: '2026-11-22T10:00:00.000Z',
  workspaceId: 'ws_1',
  contactId: 'ct_1',
});
const emailBase = () => ({ ...base(), campaignId: 'cmp_1', deliveryId: 'dlv_1', variantId: null, messageId: 'ses-1', recipient: 'a@example.com' });
const classification = {
  client: 'Gmail',
  clientVersion: null,
  os: 'Android',
  device: 'mobile' as const,
  machine: false,
  machineReasons: [],
  ip: '203.0.113.0',
  userAgent: 'Mozilla/5.0',
};

export const emailEventExamples = {
  'email.sent': { ...emailBase(), type: 'email.sent', subject: 'Hello' },
  'email.failed': { ...emailBase(), type: 'email.failed', code: 'MessageRejected', reason: 'Email address is not verified.' },
  'email.accepted': { ...emailBase(), type: 'email.accepted' },
  'email.delivered': { ...emailBase(), type: 'email.delivered', smtpResponse: '250 ok', processingTimeMs: 120 },
  'email.delivery_delayed': { ...emailBase(), type: 'email.delivery_delayed', delayType: 'MailboxFull', expirationTime: null },
  'email.opened': { ...emailBase(), type: 'email.opened', source: 'pixel', classification },
  'email.clicked': { ...emailBase(), type: 'email.clicked', source: 'redirect', url: 'https://example.com/a', linkIndex: 0, classification },
  'email.bounced': { ...emailBase(), type: 'email.bounced', bounceType: 'Permanent', bounceSubType: 'General', diagnosticCode: null },
  'email.complained': { ...emailBase(), type: 'email.complained', feedbackType: 'abuse' },
  'email.unsubscribed': { ...emailBase(), type: 'email.unsubscribed', source: 'one_click' },
  'email.rejected': { ...emailBase(), type: 'email.rejected', reason: 'Bad content' },
} as const;

export const contactEventExamples = {
  'contact.purchase': { ...base(), type: 'contact.purchase', amount: 49.9, currency: 'EUR', orderId: 'o-1', items: [{ sku: 'A', quantity: 1, price: 49.9 }] },
  'contact.signup': { ...base(), type: 'contact.signup', source: 'landing' },
  'contact.custom': { ...base(), type: 'contact.custom', name: 'demo_requested', properties: { plan: 'pro' } },
} as const;

export const otherExamples = {
  contactSnapshot: {
    id: randomUUID(),
    type: 'contact.snapshot',
    schemaVersion: 1,
    occurredAt: '2026-11-22T10:00:00.000Z',
    workspaceId: 'ws_1',
    contactId: 'ct_1',
    version: 3,
    email: 'a@example.com',
    status: 'subscribed',
    attributes: { country: 'DE' },
    listIds: ['lst_1'],
    createdAt: '2026-11-01T10:00:00.000Z',
  },
  membership: { ...base(), type: 'segment.entered', segmentId: 'seg_1', segmentVersion: 2 },
  sendJob: { ...base(), type: 'send.job', campaignId: 'cmp_1', deliveryId: 'dlv_1', phase: 'all' },
  apiKey: {
    id: randomUUID(),
    type: 'api_key.upserted',
    schemaVersion: 1,
    occurredAt: '2026-11-22T10:00:00.000Z',
    workspaceId: 'ws_1',
    keyId: 'key_1',
    keyHash: 'a'.repeat(64),
    name: 'default',
    revokedAt: null,
  },
  guardrail: {
    id: randomUUID(),
    type: 'campaign.guardrail_tripped',
    schemaVersion: 1,
    occurredAt: '2026-11-22T10:00:00.000Z',
    workspaceId: 'ws_1',
    campaignId: 'cmp_1',
    rule: 'complaint_rate',
    reason: 'complaint rate 0.5% over 0.3% after 1200 deliveries',
    complaintRate: 0.005,
    threshold: 0.003,
    deliveries: 1200,
    complaints: 6,
  },
} as const;
