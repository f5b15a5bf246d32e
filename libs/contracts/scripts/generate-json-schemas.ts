// Writes one JSON Schema per topic into docs/events/ for analysts who consume the streams
// with their own tools. Generated from the same zod schemas the services validate with.
// Run: npm run gen:event-schemas (a test fails when the committed files are stale).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderEventJsonSchemas } from '../src/json-schemas';

const outDir = path.join(__dirname, '..', '..', '..', 'docs', 'events');
mkdirSync(outDir, { recursive: true });
for (const [file, content] of Object.entries(renderEventJsonSchemas())) {
  writeFileSync(path.join(outDir, file), content);
  console.log(`wrote docs/events/${file}`);
}
