import { z } from 'zod';
import { Topics } from './topics';

/** File name → JSON Schema text (draft 2020-12) for each topic's record value. */
export function renderEventJsonSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const spec of Object.values(Topics)) {
    const schema = z.toJSONSchema(spec.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const doc = {
      $id: `https://payam.dev/schemas/events/${spec.name}.json`,
      title: spec.name,
      description: `Record value of Kafka topic ${spec.name} (key: ${spec.key}${spec.compacted ? ', compacted; a null value is a tombstone' : ''}).`,
      ...schema,
    };
    files[`${spec.name}.schema.json`] = JSON.stringify(doc, null, 2) + '\n';
  }
  return files;
}
