import { EmailEvent, deterministicEventId, parseWith, Topics, type DeadLetter, type FieldProblem } from '@payam/contracts';
import { InvalidInputError } from '@payam/errors';

/**
 * Schema checks for the recorder. An event that fails the email-events schema will fail again on
 * every retry, so it is never treated like Kafka being away: before the spool it is refused to
 * the caller, and in the spool (written by an older version, or an unchecked hot-path event) it
 * is set aside as a dead letter so the replay can move past it.
 */

/** Parsed events (schema defaults applied), or InvalidInputError naming each bad field as `events.<i>.<path>`. */
export function checkEvents(events: readonly unknown[]): EmailEvent[] {
  const parsed: EmailEvent[] = [];
  const problems: FieldProblem[] = [];
  events.forEach((e, i) => {
    const r = parseWith(EmailEvent, e);
    if (r.ok) parsed.push(r.value);
    else for (const p of r.problems) problems.push({ path: p.path ? `events.${i}.${p.path}` : `events.${i}`, message: p.message });
  });
  if (problems.length > 0) throw new InvalidInputError(problems);
  return parsed;
}

/** The "consumer group" a dead letter of the spool names: no group read it, the tracker's spool replay did. */
export const SPOOL_DEAD_LETTER_SOURCE = 'tracker-spool';
const MAX_DEAD_LETTER_VALUE = 64 * 1024;

/**
 * dead-letters.v1 was made for consumers; a spooled record never reached a partition, so it gets
 * partition -1 and offset "-1". The id derives from the record, so a replay that retries the
 * batch after a failed publish repeats the same dead letter rather than a new one.
 */
export function spoolDeadLetter(record: { key: string; value: unknown }, problems: FieldProblem[], now: Date): DeadLetter {
  const value = JSON.stringify(record.value) ?? 'null';
  return {
    id: deterministicEventId('dead-letter', SPOOL_DEAD_LETTER_SOURCE, record.key, value),
    type: 'dead_letter',
    schemaVersion: 1,
    occurredAt: now.toISOString(),
    consumerGroup: SPOOL_DEAD_LETTER_SOURCE,
    topic: Topics.emailEvents.name,
    partition: -1,
    offset: '-1',
    key: record.key,
    value: value.slice(0, MAX_DEAD_LETTER_VALUE),
    problems,
  };
}
