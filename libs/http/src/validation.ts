import type { ZodType } from 'zod';
import { describeIssues, type FieldProblem } from '@payam/contracts';

export type Validated = { ok: true; params: unknown; query: unknown; body: unknown } | { ok: false; problems: FieldProblem[] };

/**
 * Validates params, query and body together, so one 400 lists every problem, each path
 * prefixed with where it was found ("body.email", "query.limit").
 */
export function validateRequest(
  schemas: { params?: ZodType; query?: ZodType; body?: ZodType },
  input: { params: unknown; query: unknown; body: unknown },
): Validated {
  const problems: FieldProblem[] = [];
  const out = { params: input.params, query: input.query, body: input.body };
  for (const part of ['params', 'query', 'body'] as const) {
    const schema = schemas[part];
    if (!schema) continue;
    const result = schema.safeParse(input[part]);
    if (result.success) out[part] = result.data;
    else problems.push(...describeIssues(result.error, part));
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, ...out };
}
