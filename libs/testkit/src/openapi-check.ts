import { execFileSync } from 'node:child_process';

/**
 * Validates a document against the official OpenAPI 3.1 schema with
 * @seriousme/openapi-schema-validator. The validator is ESM-only and jest runs CommonJS, so it
 * runs in a child Node process; the answer is the validator's own ({ valid, errors? }).
 */
export function validateOpenApi(doc: unknown): { valid: boolean; errors?: unknown } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const result = await new Validator().validate(JSON.parse(input));
    process.stdout.write(JSON.stringify(result));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(doc), cwd: __dirname });
  return JSON.parse(out.toString()) as { valid: boolean; errors?: unknown };
}

type Paths = Record<string, Record<string, unknown>>;

/** "METHOD /path" of every operation in an OpenAPI document, sorted. */
export function operationsOf(doc: { paths?: Paths }): string[] {
  return Object.entries(doc.paths ?? {})
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}
