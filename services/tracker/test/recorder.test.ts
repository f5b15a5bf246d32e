import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomEventId, type EmailEvent } from '@payam/contracts';
import { InvalidInputError } from '@payam/errors';
import { createLogger, createMetrics } from '@payam/observability';
import { EventRecorder } from '../src/spool/recorder';
import { Spool } from '../src/spool/spool';

/*
 * The recorder already in spool mode (Kafka away): an invalid event must still be refused, not
 * appended behind the others. Kafka is simulated (publishes that never settle), so no stack.
 */
const event = (recipient: string): EmailEvent => ({
  id: randomEventId(),
  schemaVersion: 1,
  type: 'email.unsubscribed',
  source: 'page',
  occurredAt: new Date().toISOString(),
  workspaceId: 'ws1',
  contactId: 'c1',
  campaignId: 'cmp1',
  deliveryId: 'd1',
  variantId: null,
  messageId: null,
  recipient,
});

test('in spool mode an invalid event is refused with its fields and never appended', async () => {
  const spool = await Spool.open(mkdtempSync(path.join(os.tmpdir(), 'recorder-test-')));
  const kafkaAway = () => new Promise<void>(() => undefined);
  const recorder = new EventRecorder({
    publish: kafkaAway,
    replayPublish: kafkaAway,
    publishDeadLetters: kafkaAway,
    spool,
    logger: createLogger({ service: 'tracker', level: 'silent' }),
    metrics: createMetrics('tracker'),
    publishTimeoutMs: 10,
  });
  await recorder.record([event('a@example.com')]);
  expect(recorder.mode).toBe('spool');
  expect(spool.pending).toBe(1);

  const refused = recorder.record([event('b@example.com'), event(`${'x'.repeat(400)}@example.com`)]);
  await expect(refused).rejects.toBeInstanceOf(InvalidInputError);
  await expect(refused).rejects.toMatchObject({ problems: [expect.objectContaining({ path: 'events.1.recipient' })] });
  expect(spool.pending).toBe(1); // neither event of the refused call: all or nothing
  expect(recorder.mode).toBe('spool');

  void recorder.stop(); // the replay's publish never settles: nothing to wait for
  await spool.close().catch(() => undefined);
});
