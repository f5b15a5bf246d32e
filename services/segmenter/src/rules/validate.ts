import { z } from 'zod';
import type { FieldProblem } from '@payam/contracts';
import { NODE_KINDS, NodeSchemas, ValueCondition, ValueNodeNames, AttrPath, type Rule } from './schema';

const MAX_DEPTH = 20;
const MAX_NODES = 500;

type Path = Array<string | number>;

interface Walk {
  problems: Array<{ path: Path; message: string }>;
  nodes: number;
}

function addZodIssues(walk: Walk, base: Path, error: z.ZodError): void {
  for (const issue of error.issues)
    walk.problems.push({ path: [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: issue.message });
}

function checkValueCondition(walk: Walk, path: Path, rest: Record<string, unknown>): unknown {
  const parsed = ValueCondition.safeParse(rest);
  if (!parsed.success) {
    addZodIssues(walk, path, parsed.error);
    return undefined;
  }
  return parsed.data;
}

function checkNode(value: unknown, path: Path, depth: number, walk: Walk): Rule | undefined {
  walk.nodes++;
  if (walk.nodes > MAX_NODES) {
    if (walk.nodes === MAX_NODES + 1) walk.problems.push({ path, message: `expected at most ${MAX_NODES} rule nodes` });
    return undefined;
  }
  if (depth > MAX_DEPTH) {
    walk.problems.push({ path, message: `expected rules nested at most ${MAX_DEPTH} deep` });
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    walk.problems.push({ path, message: `expected a rule object with one of: ${NODE_KINDS.join(', ')}` });
    return undefined;
  }
  const node = value as Record<string, unknown>;
  const kinds = NODE_KINDS.filter((k) => k in node);
  if (kinds.length !== 1) {
    walk.problems.push({
      path,
      message:
        kinds.length === 0
          ? `expected a rule object with one of: ${NODE_KINDS.join(', ')}`
          : `expected exactly one rule kind, got ${kinds.join(', ')}`,
    });
    return undefined;
  }
  const kind = kinds[0]!;
  if (kind === 'all' || kind === 'any') {
    const extra = Object.keys(node).filter((k) => k !== kind);
    if (extra.length > 0) walk.problems.push({ path, message: `unexpected keys ${extra.join(', ')}` });
    const children = node[kind];
    if (!Array.isArray(children) || children.length === 0) {
      walk.problems.push({ path: [...path, kind], message: 'expected a non-empty array of rules' });
      return undefined;
    }
    const out = children.map((c, i) => checkNode(c, [...path, kind, i], depth + 1, walk));
    return (kind === 'all' ? { all: out } : { any: out }) as Rule;
  }
  if (kind === 'not') {
    const extra = Object.keys(node).filter((k) => k !== 'not');
    if (extra.length > 0) walk.problems.push({ path, message: `unexpected keys ${extra.join(', ')}` });
    const inner = checkNode(node.not, [...path, 'not'], depth + 1, walk);
    return inner && { not: inner };
  }
  if (kind === 'attr' || kind === 'field' || kind === 'profile') {
    const { [kind]: name, ...rest } = node;
    const nameOk = ValueNodeNames[kind].safeParse(name);
    if (!nameOk.success) addZodIssues(walk, [...path, kind], nameOk.error);
    const cond = checkValueCondition(walk, path, rest);
    return nameOk.success && cond ? ({ [kind]: nameOk.data, ...(cond as object) } as Rule) : undefined;
  }
  const schema = NodeSchemas[kind as keyof typeof NodeSchemas];
  const parsed = schema.safeParse(node);
  if (!parsed.success) {
    addZodIssues(walk, path, parsed.error);
    return undefined;
  }
  if (kind === 'event' && 'where' in parsed.data && parsed.data.where) {
    const where = parsed.data.where.map((f, i) => {
      const { prop, ...rest } = f;
      const p = AttrPath.safeParse(prop);
      if (!p.success) addZodIssues(walk, [...path, 'where', i, 'prop'], p.error);
      const cond = checkValueCondition(walk, [...path, 'where', i], rest);
      return { prop: p.data, ...(cond as object) };
    });
    return { ...parsed.data, where } as Rule;
  }
  return parsed.data as Rule;
}

export type RuleCheck = { ok: true; rule: Rule } | { ok: false; problems: FieldProblem[] };

/** Validates a raw rule tree; paths are relative to `prefix` (e.g. "body.rule"). */
export function checkRule(value: unknown, prefix: Path = []): RuleCheck {
  const walk: Walk = { problems: [], nodes: 0 };
  const rule = checkNode(value, prefix, 0, walk);
  if (walk.problems.length > 0 || !rule) {
    return { ok: false, problems: walk.problems.map((p) => ({ path: p.path.join('.'), message: p.message })) };
  }
  return { ok: true, rule };
}

/**
 * The rule as a zod schema for request bodies: keeps the raw JSON (stored as written) and
 * reports every bad node at its path under the body.
 */
export const RuleInput = z.unknown().superRefine((value, ctx) => {
  const walk: Walk = { problems: [], nodes: 0 };
  checkNode(value, [], 0, walk);
  for (const p of walk.problems) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});

/** Parses a stored (already validated) rule; throws when it no longer parses (a bug). */
export function parseRule(value: unknown): Rule {
  const checked = checkRule(value);
  if (!checked.ok) throw new Error(`stored rule does not parse: ${checked.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return checked.rule;
}

/** Every segment id a rule refers to. */
export function referencedSegments(rule: Rule, out = new Set<string>()): Set<string> {
  if ('all' in rule) rule.all.forEach((r) => referencedSegments(r, out));
  else if ('any' in rule) rule.any.forEach((r) => referencedSegments(r, out));
  else if ('not' in rule) referencedSegments(rule.not, out);
  else if ('segment' in rule) out.add(rule.segment);
  return out;
}

/** Paths (relative to the rule) of every segment reference, for error reporting. */
export function segmentRefPaths(raw: unknown, path: Path = []): Array<{ id: string; path: Path }> {
  if (typeof raw !== 'object' || raw === null) return [];
  const node = raw as Record<string, unknown>;
  if (typeof node.segment === 'string') return [{ id: node.segment, path: [...path, 'segment'] }];
  const out: Array<{ id: string; path: Path }> = [];
  for (const k of ['all', 'any'] as const) {
    if (Array.isArray(node[k])) (node[k] as unknown[]).forEach((c, i) => out.push(...segmentRefPaths(c, [...path, k, i])));
  }
  if ('not' in node) out.push(...segmentRefPaths(node.not, [...path, 'not']));
  return out;
}
