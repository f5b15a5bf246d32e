import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ApiKeyRecord,
  CampaignSignal,
  ContactEvent,
  ContactSnapshot,
  EmailEvent,
  SegmentMembershipChanged,
  SendJob,
  deterministicEventId,
  decodeRecord,
  formatProblems,
  parseWith,
} from '../src';
import { renderEventJsonSchemas } from '../src/json-schemas';
import { contactEventExamples, emailEventExamples, otherExamples } from './examples';

describe('event schemas accept valid examples', () => {
  test.each(Object.entries(emailEventExamples))('%s', (_type, example) => {
    expect(parseWith(EmailEvent, example)).toMatchObject({ ok: true });
  });
  test.each(Object.entries(contactEventExamples))('%s', (_type, example) => {
    expect(parseWith(ContactEvent, example)).toMatchObject({ ok: true });
  });
  test.each([
    ['contact snapshot', ContactSnapshot, otherExamples.contactSnapshot],
    ['segment membership', SegmentMembershipChanged, otherExamples.membership],
    ['send job', SendJob, otherExamples.sendJob],
    ['api key', ApiKeyRecord, otherExamples.apiKey],
    ['guardrail signal', CampaignSignal, otherExamples.guardrail],
  ] as const)('%s', (_name, schema, example) => {
    expect(parseWith(schema, example)).toMatchObject({ ok: true });
  });
});

describe('event schemas reject bad records with a readable path and reason', () => {
  const opened = emailEventExamples['email.opened'];
  test.each([
    ['unknown type', { ...opened, type: 'email.teleported' }, 'type'],
    ['missing workspace', { ...opened, workspaceId: undefined }, 'workspaceId'],
    ['bad id', { ...opened, id: 'not-a-uuid' }, 'id'],
    ['bad timestamp', { ...opened, occurredAt: 'yesterday' }, 'occurredAt'],
    ['bad device', { ...opened, classification: { ...opened.classification, device: 'toaster' } }, 'classification.device'],
    ['wrong schema version', { ...opened, schemaVersion: 2 }, 'schemaVersion'],
  ])('%s', (_name, bad, expectedPath) => {
    const result = parseWith(EmailEvent, bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toContain(expectedPath);
    expect(formatProblems(result.problems)).toMatch(new RegExp(`^${expectedPath.replace('.', '\\.')}: .+`));
  });

  test.each([
    ['negative amount', { ...contactEventExamples['contact.purchase'], amount: -1 }, 'amount'],
    ['lowercase currency', { ...contactEventExamples['contact.purchase'], currency: 'eur' }, 'currency'],
    ['custom name with spaces', { ...contactEventExamples['contact.custom'], name: 'a b' }, 'name'],
  ])('%s', (_name, bad, expectedPath) => {
    const result = parseWith(ContactEvent, bad);
    expect(result).toMatchObject({ ok: false, problems: expect.arrayContaining([expect.objectContaining({ path: expectedPath })]) });
  });

  test('a record that is not JSON, or a tombstone, is refused with why', () => {
    expect(decodeRecord(EmailEvent, Buffer.from('{nope'))).toEqual({ ok: false, problems: [{ path: '', message: 'expected JSON' }] });
    expect(decodeRecord(EmailEvent, null)).toMatchObject({ ok: false });
  });
});

describe('deterministic event ids', () => {
  test('same parts give the same uuid; different parts a different one', () => {
    const a = deterministicEventId('email.bounced', 'ses-123', 'a@example.com');
    expect(a).toBe(deterministicEventId('email.bounced', 'ses-123', 'a@example.com'));
    expect(a).not.toBe(deterministicEventId('email.bounced', 'ses-123', 'b@example.com'));
    expect(parseWith(EmailEvent, { ...emailEventExamples['email.bounced'], id: a }).ok).toBe(true);
  });

  test('an id never changes between versions (a redelivery after an upgrade must still be a duplicate)', () => {
    expect(deterministicEventId('email.bounced', 'ses-123', 'a@example.com')).toBe('6fc67b40-186b-8785-b2d5-758bf44f5ccb');
  });
});

test('docs/events JSON Schemas are generated from the current zod schemas (run npm run gen:event-schemas)', () => {
  const dir = path.join(__dirname, '..', '..', '..', 'docs', 'events');
  for (const [file, content] of Object.entries(renderEventJsonSchemas())) {
    expect(readFileSync(path.join(dir, file), 'utf8')).toBe(content);
  }
});
