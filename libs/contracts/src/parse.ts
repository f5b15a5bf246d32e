import type { z } from 'zod';

export interface FieldProblem {
  /** Dotted path of the offending field, e.g. "items.0.price"; "" for the value itself. */
  path: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

/** Zod issues as `path: message` pairs: the shape every 400 answer and every dead letter uses. */
export function describeIssues(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.'),
    message: issue.message,
  }));
}

export function formatProblems(problems: FieldProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}

/** Validates an unknown value (e.g. a decoded Kafka record) against a schema without throwing. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): ParseResult<z.infer<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: describeIssues(result.error) };
}

/** Decodes a Kafka record value (JSON bytes) and validates it. */
export function decodeRecord<S extends z.ZodType>(schema: S, bytes: Buffer | string | null): ParseResult<z.infer<S>> {
  if (bytes === null) return { ok: false, problems: [{ path: '', message: 'expected a JSON value, got a tombstone' }] };
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch {
    return { ok: false, problems: [{ path: '', message: 'expected JSON' }] };
  }
  return parseWith(schema, value);
}
