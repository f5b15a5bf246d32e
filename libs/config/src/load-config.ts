import { z } from 'zod';
import { describeIssues, type FieldProblem } from '@payam/contracts';
import { ConfigError } from './config-error';

export type Env = Record<string, string | undefined>;

/**
 * Parses the environment once, at start-up, into a frozen typed object. Every problem is
 * collected before throwing (see ConfigError), and nothing else in a service reads process.env,
 * so a typo in a variable name cannot silently fall back to a default deep inside the code.
 */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env?: Env): Readonly<z.output<z.ZodObject<S>>>;
export function loadConfig<O extends z.ZodObject>(schema: O, env?: Env): Readonly<z.output<O>>;
export function loadConfig(shapeOrSchema: z.ZodRawShape | z.ZodObject, env: Env = process.env): unknown {
  const schema = shapeOrSchema instanceof z.ZodObject ? shapeOrSchema : z.object(shapeOrSchema);
  // `PORT=` in an env file means "not set": treat it so, and let the default apply.
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') values[name] = value;
  }
  const result = schema.safeParse(values);
  if (!result.success) throw new ConfigError(explain(result.error, values));
  return Object.freeze(result.data);
}

/** Zod says "expected string, received undefined" for a missing variable; say it plainly. */
function explain(error: z.ZodError, values: Record<string, string>): FieldProblem[] {
  const problems = describeIssues(error);
  return error.issues.map((issue, i) => {
    const name = issue.path[0];
    const missing = issue.path.length === 1 && issue.code === 'invalid_type' && typeof name === 'string' && !(name in values);
    return missing ? { path: name, message: 'required but not set' } : problems[i]!;
  });
}
