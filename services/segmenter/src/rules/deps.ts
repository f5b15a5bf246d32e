import type { Rule } from './schema';
import { figureRules, type ModelSettings } from './figures';

/**
 * Which inputs a rule reads, as "dependency keys": an event of a type ("email.opened"), a named
 * custom event ("contact.custom:demo_requested"), the contact snapshot ("snapshot"), or anything
 * ("*", for first/last seen which every event moves). An event re-evaluates only the segments
 * whose keys it touches (eventDepKeys).
 */
export const SNAPSHOT = 'snapshot';
export const ANY = '*';

function figureDeps(
  figure: string,
  settings: ModelSettings,
  segments: ReadonlyMap<string, Rule>,
  out: Set<string>,
  seen: Set<string>,
): void {
  if (figure === 'points' || figure.startsWith('purchases.')) {
    out.add('contact.purchase');
    return;
  }
  const rules = figureRules(settings);
  const lists =
    figure === 'lifecycle'
      ? [rules.lifecycle]
      : figure === 'tier'
        ? [rules.tier]
        : figure === 'rfm.r'
          ? [rules.r]
          : figure === 'rfm.f'
            ? [rules.f]
            : figure === 'rfm.m'
              ? [rules.m]
              : [rules.r, rules.f, rules.m];
  for (const list of lists) for (const item of list) if (item.rule) ruleDeps(item.rule, settings, segments, out, seen);
}

export function ruleDeps(
  rule: Rule,
  settings: ModelSettings,
  segments: ReadonlyMap<string, Rule>,
  out = new Set<string>(),
  seen = new Set<string>(),
): Set<string> {
  if ('all' in rule) rule.all.forEach((r) => ruleDeps(r, settings, segments, out, seen));
  else if ('any' in rule) rule.any.forEach((r) => ruleDeps(r, settings, segments, out, seen));
  else if ('not' in rule) ruleDeps(rule.not, settings, segments, out, seen);
  else if ('attr' in rule) out.add(SNAPSHOT);
  else if ('field' in rule) out.add(rule.field === 'firstSeenAt' || rule.field === 'lastSeenAt' ? ANY : SNAPSHOT);
  else if ('event' in rule) out.add(rule.event === 'contact.custom' && rule.name ? `contact.custom:${rule.name}` : rule.event);
  else if ('last' in rule) out.add(rule.last === 'contact.custom' && rule.name ? `contact.custom:${rule.name}` : rule.last);
  else if ('sum' in rule || 'top' in rule) out.add('contact.purchase');
  else if ('profile' in rule) figureDeps(rule.profile, settings, segments, out, seen);
  else if ('segment' in rule) {
    const ref = segments.get(rule.segment);
    if (ref && !seen.has(rule.segment)) {
      seen.add(rule.segment);
      ruleDeps(ref, settings, segments, out, seen);
    }
  }
  // bucket: constant for a contact; evaluated when the segment or the contact first appears.
  return out;
}

/** The dependency keys an event touches. */
export function eventDepKeys(type: string, customName?: string): string[] {
  return customName ? [type, `contact.custom:${customName}`, ANY] : [type, ANY];
}

export function touches(deps: ReadonlySet<string>, keys: readonly string[]): boolean {
  return keys.some((k) => deps.has(k));
}
