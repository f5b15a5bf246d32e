import { z } from 'zod';
import { parseDuration } from './duration';

/*
 * Environment values are strings. These schemas turn them into the types the code wants and
 * say in plain words what was expected when they cannot. Each takes an optional default that
 * applies when the variable is unset (loadConfig treats an empty value as unset).
 */

const INTEGER = /^[+-]?\d+$/;
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export interface IntBounds {
  min?: number;
  max?: number;
}

export function envInt(defaultValue?: number, bounds: IntBounds = {}) {
  let number = z.number().int().safe();
  if (bounds.min !== undefined) number = number.min(bounds.min, `expected an integer >= ${bounds.min}`);
  if (bounds.max !== undefined) number = number.max(bounds.max, `expected an integer <= ${bounds.max}`);
  const schema = z.string().trim().regex(INTEGER, 'expected an integer').transform(Number).pipe(number);
  return defaultValue === undefined ? schema : schema.default(defaultValue);
}

export function envBool(defaultValue?: boolean) {
  const schema = z
    .string()
    .trim()
    .toLowerCase()
    .refine((s) => TRUE_WORDS.has(s) || FALSE_WORDS.has(s), 'expected true/false, 1/0, yes/no or on/off')
    .transform((s) => TRUE_WORDS.has(s));
  return defaultValue === undefined ? schema : schema.default(defaultValue);
}

/** "a, b,,c" → ["a", "b", "c"]: stray commas and spaces from hand-edited env files are harmless. */
export function envList(defaultValue?: string[]) {
  const schema = z.string().transform((s) =>
    s
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );
  return defaultValue === undefined ? schema : schema.default(defaultValue);
}

/**
 * An http(s) URL. Not for MongoDB URIs: a replica-set URI ("mongodb://a:1,b:2/db") is not a
 * WHATWG URL, so MONGODB_URI has its own check in baseEnvShape.
 */
export function envUrl(defaultValue?: string) {
  const schema = z
    .string()
    .trim()
    .pipe(z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }));
  return defaultValue === undefined ? schema : schema.default(defaultValue);
}

/** "30s", "5m", "2h", "90d", "250ms" or a number of ms → milliseconds, at least `bounds.min` ms. */
export function envDuration(defaultValue?: string | number, bounds: { min?: number } = {}) {
  const min = bounds.min ?? 0;
  const schema = z.string().transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as "30s", "5m", "2h", "90d" or milliseconds' });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: `expected a duration of at least ${min}ms` });
      return z.NEVER;
    }
    return ms;
  });
  if (defaultValue === undefined) return schema;
  const ms = typeof defaultValue === 'number' ? defaultValue : parseDuration(defaultValue);
  // A bad default is a programming error, so it fails loudly at import rather than at runtime.
  if (ms === null || !Number.isSafeInteger(ms) || ms < min) throw new Error(`envDuration: invalid default ${String(defaultValue)}`);
  return schema.default(ms);
}
