import { deterministicEventId, type Classification, type EmailEvent } from '@payam/contracts';
import { applyEvent, createFunnelState, funnelRows, ingestRecord, renderFunnel } from './funnel-model';

const human: Classification = {
  client: 'Thunderbird',
  clientVersion: '128',
  os: 'Linux',
  device: 'desktop',
  machine: false,
  machineReasons: [],
  ip: '203.0.113.0',
  userAgent: 'Mozilla/5.0',
};
const proxy: Classification = { ...human, client: 'Apple Mail', device: 'proxy', machine: true, machineReasons: ['apple_mpp'] };

let n = 0;
/** A valid record value as the services publish it (JSON of the parsed event). */
function event(type: EmailEvent['type'], contactId: string, extra: Record<string, unknown> = {}, campaignId: string | null = 'c1') {
  n++;
  const base = {
    id: deterministicEventId('test', n),
    schemaVersion: 1,
    occurredAt: '2025-01-01T10:00:00.000Z',
    workspaceId: 'w1',
    contactId,
    campaignId,
    deliveryId: campaignId ? `d_${contactId}` : null,
    variantId: null,
    messageId: null,
    recipient: null,
  };
  const fields: Record<EmailEvent['type'], Record<string, unknown>> = {
    'email.sent': { subject: 'Hello' },
    'email.failed': { code: 'suppressed', reason: 'on the suppression list' },
    'email.accepted': {},
    'email.delivered': { smtpResponse: null, processingTimeMs: null },
    'email.delivery_delayed': { delayType: 'MailboxFull', expirationTime: null },
    'email.opened': { source: 'pixel', classification: human },
    'email.clicked': { source: 'redirect', url: 'https://example.com/', linkIndex: 0, classification: human },
    'email.bounced': { bounceType: 'Permanent', bounceSubType: 'General', diagnosticCode: null },
    'email.complained': { feedbackType: 'abuse' },
    'email.unsubscribed': { source: 'one_click' },
    'email.rejected': { reason: 'virus' },
  };
  return JSON.stringify({ ...base, type, ...fields[type], ...extra });
}

describe('analyst funnel model', () => {
  it('counts unique contacts per stage, human and machine opens apart', () => {
    const state = createFunnelState();
    const records = [
      event('email.sent', 'a'),
      event('email.sent', 'b'),
      event('email.sent', 'c'),
      event('email.delivered', 'a'),
      event('email.delivered', 'b'),
      event('email.bounced', 'c'),
      event('email.opened', 'a', { classification: proxy }), // Apple MPP prefetch
      event('email.opened', 'a'), // the reader, later
      event('email.opened', 'a'), // and again: still one contact
      event('email.opened', 'b', { classification: proxy, source: 'ses' }),
      event('email.clicked', 'a'),
      event('email.clicked', 'b', { classification: { ...human, machine: true, device: 'bot', machineReasons: ['too_fast'] } }),
      event('email.complained', 'b'),
      event('email.unsubscribed', 'b'),
    ];
    for (const r of records) expect(ingestRecord(state, r)).toBe('counted');
    expect(funnelRows(state)).toEqual([
      {
        campaignId: 'c1',
        workspaceId: 'w1',
        sent: 3,
        delivered: 2,
        openedHuman: 1,
        openedAll: 2,
        clickedHuman: 1,
        bounced: 1,
        complained: 1,
        unsubscribed: 1,
      },
    ]);
    expect(state.counted).toBe(records.length);
  });

  it('counts a redelivered event (same id) once', () => {
    const state = createFunnelState();
    const sent = event('email.sent', 'a');
    const opened = event('email.opened', 'a');
    expect(ingestRecord(state, sent)).toBe('counted');
    expect(ingestRecord(state, opened)).toBe('counted');
    expect(ingestRecord(state, Buffer.from(opened))).toBe('duplicate');
    expect(state).toMatchObject({ counted: 2, duplicates: 1 });
  });

  it.each([
    ['not JSON', 'nope{'],
    ['a tombstone', null],
    ['an unknown type', event('email.sent', 'a', { type: 'email.teleported' })],
    ['a missing field', event('email.sent', 'a', { subject: undefined })],
    ['a bad envelope id', event('email.sent', 'a', { id: 'not-a-uuid' })],
  ])('counts %s as invalid without failing', (_name, value) => {
    const state = createFunnelState();
    expect(ingestRecord(state, value)).toBe('invalid');
    expect(state.invalid).toBe(1);
    expect(funnelRows(state)).toEqual([]);
  });

  it('ignores mail without a campaign, stages outside the funnel and other workspaces when filtered', () => {
    const state = createFunnelState();
    expect(ingestRecord(state, event('email.sent', 'a', {}, null))).toBe('ignored');
    expect(ingestRecord(state, event('email.accepted', 'a'))).toBe('ignored');
    expect(ingestRecord(state, event('email.delivery_delayed', 'a'))).toBe('ignored');
    expect(ingestRecord(state, event('email.sent', 'a', { workspaceId: 'w2' }), { workspaceId: 'w1' })).toBe('ignored');
    expect(ingestRecord(state, event('email.sent', 'a'), { workspaceId: 'w1' })).toBe('counted');
    expect(state.ignored).toBe(4);
    expect(funnelRows(state).map((r) => r.sent)).toEqual([1]);
  });

  it('orders campaigns by sent and renders a table with rates of delivered', () => {
    const state = createFunnelState();
    for (const c of ['a', 'b', 'c', 'd']) {
      applyEvent(state, JSON.parse(event('email.sent', c, {}, 'big')) as EmailEvent);
      applyEvent(state, JSON.parse(event('email.delivered', c, {}, 'big')) as EmailEvent);
    }
    applyEvent(state, JSON.parse(event('email.opened', 'a', {}, 'big')) as EmailEvent);
    applyEvent(state, JSON.parse(event('email.sent', 'z', {}, 'small')) as EmailEvent);
    expect(funnelRows(state).map((r) => r.campaignId)).toEqual(['big', 'small']);
    const table = renderFunnel(state).split('\n');
    expect(table[0]).toMatch(/^campaign\s+workspace\s+sent\s+delivered\s+opened\(human\)/);
    expect(table[2]).toMatch(/^big\s+w1\s+4\s+4\s+1 \(25\.0%\)\s+1 \(25\.0%\)\s+0 \(0\.0%\)/);
    expect(table[3]).toMatch(/^small\s+w1\s+1\s+0\s+0\s+0/);
    expect(renderFunnel(createFunnelState())).toContain('(no campaign events yet)');
  });
});
