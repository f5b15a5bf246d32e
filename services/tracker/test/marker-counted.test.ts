import { EmailEvent } from '@payam/contracts';
import { countEvent, MARKER_COUNTED } from '../src/stats/projector';

// MARKER_COUNTED types skip the projector's per-event id check: that is only safe if none of
// their counters moves without a marker. Checked for every type of the contract.
const sample = (type: string) =>
  ({
    type,
    id: 'ev',
    workspaceId: 'ws',
    campaignId: 'c',
    deliveryId: 'd',
    contactId: 'ct',
    variantId: null,
    bounceType: 'Permanent',
    url: 'https://example.com/',
    linkIndex: 0,
    classification: { machine: false, client: 'x', os: 'y', device: 'desktop' },
  }) as unknown as EmailEvent;

const types = EmailEvent.options.map((o) => o.shape.type.value);

test.each(types)('%s: counts without a marker only if it is not MARKER_COUNTED', (type) => {
  const counted: string[] = [];
  countEvent(sample(type), (k) => counted.push(k), {}, () => false);
  if (MARKER_COUNTED.has(type)) expect(counted).toEqual([]);
});

test('every MARKER_COUNTED type does count once its marker is granted (the check above is not vacuous)', () => {
  for (const type of MARKER_COUNTED) {
    const counted: string[] = [];
    countEvent(sample(type), (k) => counted.push(k), {}, () => true);
    expect(counted.length).toBeGreaterThan(0);
  }
  expect(MARKER_COUNTED.size).toBeGreaterThanOrEqual(8);
});
