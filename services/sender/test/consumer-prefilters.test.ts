import { EmailEvent } from '@payam/contracts';
import { EXPERIMENT_TYPES, recordsOf } from '../src/experiments/consumer';
import { SUPPRESSING_TYPES, suppressionOf } from '../src/suppression/consumer';

// The prefilters skip events unvalidated by type: a type they leave out must be one the handler
// ignores anyway, or the skip would lose what the handler needed. Checked for every type of the
// contract, with the fields each handler looks at set to the values that make it act.
const types = EmailEvent.options.map((o) => o.shape.type.value);

test.each(types)('%s: acted on by the suppression consumer only if its prefilter lets it through', (type) => {
  const e = { type, bounceType: 'Permanent', contactId: 'ct', id: 'ev', recipient: 'a@example.com' } as unknown as EmailEvent;
  if (suppressionOf(e) !== null) expect(SUPPRESSING_TYPES.has(type)).toBe(true);
});

test.each(types)('%s: recorded by the experiments consumer only if its prefilter lets it through', (type) => {
  const e = { type, classification: { machine: false }, contactId: 'ct', id: 'ev', variantId: 'v', deliveryId: 'd', campaignId: 'c' } as unknown as EmailEvent;
  if (recordsOf(e).length > 0) expect(EXPERIMENT_TYPES.has(type)).toBe(true);
});

test('the prefilters are not empty (the checks above would pass vacuously)', () => {
  expect(types.filter((t) => SUPPRESSING_TYPES.has(t))).toHaveLength(SUPPRESSING_TYPES.size);
  expect(types.filter((t) => EXPERIMENT_TYPES.has(t))).toHaveLength(EXPERIMENT_TYPES.size);
  expect(SUPPRESSING_TYPES.size).toBeGreaterThan(0);
  expect(EXPERIMENT_TYPES.size).toBeGreaterThan(0);
});
