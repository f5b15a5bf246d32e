import type { HelperOptions } from 'handlebars';

/*
 * Template helpers. Each takes its options from the hash (`{{formatDate signup_at style="long"
 * locale="de-DE"}}`) and answers "" instead of throwing on bad input or options: one odd
 * attribute value must not fail a whole campaign.
 */

function isOptions(v: unknown): v is HelperOptions {
  return typeof v === 'object' && v !== null && 'hash' in v && 'data' in v;
}

/** Positional arguments without the trailing Handlebars options object. */
function split(args: unknown[]): { positional: unknown[]; hash: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (isOptions(last)) return { positional: args.slice(0, -1), hash: (last.hash ?? {}) as Record<string, unknown> };
  return { positional: args, hash: {} };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function toDate(v: unknown): Date | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

type DateStyle = 'full' | 'long' | 'medium' | 'short';
const STYLES = new Set(['full', 'long', 'medium', 'short']);

/** {{formatDate value [style] style= time= locale= timeZone=}}: Intl date, UTC and en-US unless told. */
export function formatDate(...args: unknown[]): string {
  const { positional, hash } = split(args);
  const date = toDate(positional[0]);
  if (!date) return '';
  const style = str(positional[1]) ?? str(hash.style) ?? 'medium';
  const time = str(hash.time);
  try {
    if (style === 'iso') return date.toISOString();
    return new Intl.DateTimeFormat(str(hash.locale) ?? 'en-US', {
      dateStyle: STYLES.has(style) ? (style as DateStyle) : 'medium',
      ...(time && STYLES.has(time) ? { timeStyle: time as DateStyle } : {}),
      timeZone: str(hash.timeZone) ?? 'UTC',
    }).format(date);
  } catch {
    return '';
  }
}

/** {{formatNumber value locale= minimumFractionDigits= maximumFractionDigits= style="percent"}} */
export function formatNumber(...args: unknown[]): string {
  const { positional, hash } = split(args);
  const value = num(positional[0]);
  if (value === undefined) return '';
  try {
    return new Intl.NumberFormat(str(hash.locale) ?? 'en-US', {
      style: hash.style === 'percent' ? 'percent' : 'decimal',
      ...(num(hash.minimumFractionDigits) !== undefined ? { minimumFractionDigits: num(hash.minimumFractionDigits) } : {}),
      ...(num(hash.maximumFractionDigits) !== undefined ? { maximumFractionDigits: num(hash.maximumFractionDigits) } : {}),
    }).format(value);
  } catch {
    return '';
  }
}

/** {{currency value "EUR" locale="de-DE"}} (currency code positional or currency=, default USD). */
export function currency(...args: unknown[]): string {
  const { positional, hash } = split(args);
  const value = num(positional[0]);
  if (value === undefined) return '';
  const code = str(positional[1]) ?? str(hash.currency) ?? 'USD';
  try {
    return new Intl.NumberFormat(str(hash.locale) ?? 'en-US', { style: 'currency', currency: code }).format(value);
  } catch {
    return '';
  }
}

/** {{default first_name "there"}}: the value unless it is missing, null or empty. */
export function defaultHelper(...args: unknown[]): unknown {
  const { positional } = split(args);
  const [value, fallback] = positional;
  return value === undefined || value === null || value === '' ? (fallback ?? '') : value;
}

export const HELPERS = {
  formatDate,
  formatNumber,
  currency,
  formatCurrency: currency,
  default: defaultHelper,
} as const;
