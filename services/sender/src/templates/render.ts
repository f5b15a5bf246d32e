import Handlebars from 'handlebars';
import { compile as compileHtmlToText } from 'html-to-text';
import { DomainError } from '@payam/errors';
import type { FieldProblem } from '@payam/contracts';
import { HELPERS } from './helpers';
import { deriveTextTemplate, finishDerivedText, UPPER_HELPER, upperCaseHelper } from './text-part';

type Node = hbs.AST.Node;

/**
 * Our own Handlebars environment: nothing registered elsewhere in the process leaks in, and
 * only our helpers are there. Prototype access stays at the 4.6+ defaults (own properties
 * only), so `constructor`, `__proto__` and friends resolve to nothing; `{{{ }}}` is the only way
 * to skip HTML escaping. The built-in `log` helper is gone: templates don't write our logs.
 */
const env = Handlebars.create();
env.unregisterHelper('log');
for (const [name, fn] of Object.entries(HELPERS)) env.registerHelper(name, fn as Handlebars.HelperDelegate);
env.registerHelper(UPPER_HELPER, upperCaseHelper);
// Denied prototype lookups are expected from hostile templates; they must not flood the log.
(env as unknown as { logger: { level: number | string } }).logger.level = 4;

const HELPER_NAMES = new Set(Object.keys(env.helpers));
/** Block helpers whose inner block runs against another context (paths inside are relative to it). */
const CONTEXT_CHANGING = new Set(['each', 'with']);
/** Helpers whose first argument is allowed to be missing (they supply a fallback). */
const TOLERANT = new Set(['default']);

const RUNTIME: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
};

/** A template with everything it needs to render: its layout and the workspace's partials. */
export interface RenderableTemplate {
  id: string;
  version: number;
  subject: string;
  preheader: string;
  html: string;
  /** null: derived from the rendered HTML. */
  text: string | null;
  layout: { id: string; version: number; html: string; text: string | null } | null;
  /** Partials by name (`{{> footer}}`), each with the version its cache key uses. */
  partials: Record<string, { version: number; content: string }>;
}

export interface RenderedMessage {
  subject: string;
  preheader: string;
  html: string;
  text: string;
  /** Variables the template uses that the data lacks (dotted paths, sorted). */
  missingVariables: string[];
}

/** Rendering failed: a missing helper or partial, a runaway recursion. Campaigns record it as render_failed. */
export class TemplateRenderError extends DomainError {
  constructor(message: string) {
    super('render_failed', message);
  }
}

// --- compile cache -------------------------------------------------------------------------

const MAX_CACHED = 5000;
const cache = new Map<string, Handlebars.TemplateDelegate>();

function compiled(key: string, source: string, escape: boolean): Handlebars.TemplateDelegate {
  const hit = cache.get(key);
  if (hit) {
    // Map order is insertion order: re-inserting keeps recently used entries at the end.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const fn = env.compile(source, { noEscape: !escape, strict: false });
  cache.set(key, fn);
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  return fn;
}

/** For tests and metrics. */
export function compiledTemplateCacheSize(): number {
  return cache.size;
}

// --- rendering -------------------------------------------------------------------------------

function run(fn: Handlebars.TemplateDelegate, data: unknown, partials: Record<string, Handlebars.TemplateDelegate>): string {
  try {
    return fn(data, { ...RUNTIME, partials });
  } catch (err) {
    if (err instanceof RangeError) throw new TemplateRenderError('template recursion too deep');
    throw new TemplateRenderError(err instanceof Error ? err.message : String(err));
  }
}

function partialsFor(t: RenderableTemplate, escape: boolean): Record<string, Handlebars.TemplateDelegate> {
  const out: Record<string, Handlebars.TemplateDelegate> = {};
  for (const [name, p] of Object.entries(t.partials)) {
    out[name] = compiled(`partial:${t.id}:${name}@${p.version}:${escape ? 'html' : 'text'}`, p.content, escape);
  }
  return out;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The preheader as the hidden first text of the body, where inboxes take the preview line from. */
function withPreheader(html: string, preheader: string): string {
  if (preheader.trim() === '') return html;
  const hidden = `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">${escapeHtml(preheader)}</div>`;
  const body = /<body[^>]*>/i.exec(html);
  return body ? html.slice(0, body.index + body[0].length) + hidden + html.slice(body.index + body[0].length) : hidden + html;
}

/**
 * Compiled once: html-to-text's `convert` compiles its options (selectors and all) on every call,
 * which cost more than the rest of composing a message (about 0.4 ms of the send path's CPU each).
 */
const toText = compileHtmlToText({
  wordwrap: 100,
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
  ],
});

export function htmlToText(html: string): string {
  return toText(html).trim();
}

/**
 * Renders every part of a message for one recipient. Compiled templates are cached by
 * template id and version (layouts and partials by theirs), so a campaign compiles once.
 * Throws TemplateRenderError when the template cannot be rendered with this data.
 */
export function renderMessage(template: RenderableTemplate, data: Record<string, unknown>): RenderedMessage {
  const key = `tpl:${template.id}@${template.version}`;
  const bundle = bundleKey(template);
  const htmlPartials = partialsFor(template, true);
  const textPartials = partialsFor(template, false);

  const subject = run(compiled(`${key}:subject`, template.subject, false), data, textPartials).replace(/[\r\n]+/g, ' ').trim();
  const preheader = run(compiled(`${key}:preheader`, template.preheader, false), data, textPartials).trim();
  let html = run(compiled(`${key}:html`, template.html, true), data, htmlPartials);
  const layout = template.layout;
  if (layout) {
    const layoutKey = `lay:${layout.id}@${layout.version}`;
    html = run(compiled(`${layoutKey}:html`, layout.html, true), { ...data, body: new Handlebars.SafeString(html) }, htmlPartials);
  }
  let text: string;
  if (template.text !== null && template.text.trim() !== '') {
    text = run(compiled(`${key}:text`, template.text, false), data, textPartials);
    if (layout?.text) text = run(compiled(`lay:${layout.id}@${layout.version}:text`, layout.text, false), { ...data, body: text }, textPartials);
  } else {
    const derived = derivedText(template, bundle);
    if (derived) {
      text = run(derived.body, data, derived.partials);
      if (derived.layout) text = run(derived.layout, { ...data, body: text }, derived.partials);
      text = finishDerivedText(text);
    } else {
      text = htmlToText(html);
    }
  }
  return { subject, preheader, html: withPreheader(html, preheader), text, missingVariables: missingVariables(template, data, bundle) };
}

// --- the text part derived from the HTML ----------------------------------------------------

interface DerivedText {
  body: Handlebars.TemplateDelegate;
  layout: Handlebars.TemplateDelegate | null;
  partials: Record<string, Handlebars.TemplateDelegate>;
}

const derivedCache = new Map<string, DerivedText | null>();

/**
 * The text templates derived from the HTML of the template, its layout and its partials (see
 * text-part.ts), once per version of each; null when any of them cannot be derived faithfully,
 * and each message's HTML is converted instead.
 */
function derivedText(t: RenderableTemplate, key: string): DerivedText | null {
  const hit = derivedCache.get(key);
  if (hit !== undefined) return hit;
  const compileText = (source: string | null): Handlebars.TemplateDelegate | null =>
    source === null ? null : env.compile(source, { noEscape: true, strict: false });
  let result: DerivedText | null = null;
  const body = compileText(deriveTextTemplate(t.html, htmlToText));
  const layout = t.layout ? compileText(deriveTextTemplate(t.layout.html, htmlToText, { rawAllowed: ['body'] })) : null;
  const partials: Record<string, Handlebars.TemplateDelegate> = {};
  let partialsOk = true;
  for (const [name, p] of Object.entries(t.partials)) {
    const fn = compileText(deriveTextTemplate(p.content, htmlToText));
    if (fn) partials[name] = fn;
    else partialsOk = false;
  }
  if (body && (layout || !t.layout) && partialsOk) result = { body, layout, partials };
  derivedCache.set(key, result);
  if (derivedCache.size > MAX_CACHED) derivedCache.delete(derivedCache.keys().next().value!);
  return result;
}

/** Names one version of a template with its layout and partials. */
function bundleKey(template: RenderableTemplate): string {
  const partialKey = Object.entries(template.partials)
    .map(([n, p]) => `${n}@${p.version}`)
    .sort()
    .join(',');
  return `${template.id}@${template.version}|${template.layout ? `${template.layout.id}@${template.layout.version}` : ''}|${partialKey}`;
}

// --- variables -------------------------------------------------------------------------------

const variablesCache = new Map<string, string[]>();

/** Every root-context variable (dotted path) the template, its layout and its partials read. */
/** `key`: the template's bundleKey, when the caller has it already (renderMessage, once per message). */
export function templateVariables(template: RenderableTemplate, key = bundleKey(template)): string[] {
  const hit = variablesCache.get(key);
  if (hit) return hit;
  const found = new Set<string>();
  const seenPartials = new Set<string>();
  const sources = [template.subject, template.preheader, template.html, template.text ?? '', template.layout?.html ?? '', template.layout?.text ?? ''];
  const walkSource = (source: string): void => {
    let ast: hbs.AST.Program;
    try {
      ast = env.parse(source);
    } catch {
      return; // a template that does not parse was refused when saved
    }
    collect(ast, 0, found, (name) => {
      if (seenPartials.has(name)) return;
      seenPartials.add(name);
      const p = template.partials[name];
      if (p) walkSource(p.content);
    });
  };
  for (const s of sources) walkSource(s);
  found.delete('body'); // the layout's slot, not data
  const list = [...found].sort();
  variablesCache.set(key, list);
  if (variablesCache.size > MAX_CACHED) variablesCache.delete(variablesCache.keys().next().value!);
  return list;
}

/**
 * The partials a Handlebars source includes by name (`{{> footer}}`, `{{#> card}}`); a dynamic
 * partial (`{{> (lookup …)}}`) names none. Empty for a source that does not parse.
 */
export function partialsUsedBy(source: string): string[] {
  let ast: hbs.AST.Program;
  try {
    ast = env.parse(source);
  } catch {
    return [];
  }
  const names = new Set<string>();
  collect(ast, 0, new Set(), (name) => names.add(name));
  return [...names];
}

/** The template's variables the data does not have (absent, null or undefined). */
export function missingVariables(template: RenderableTemplate, data: Record<string, unknown>, key = bundleKey(template)): string[] {
  return templateVariables(template, key).filter((path) => {
    let cur: unknown = data;
    for (const part of path.split('.')) {
      if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) return true;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur === undefined || cur === null;
  });
}

/** A path read from the root context, or null (data variables, `this`, paths inside each/with, block params). */
function rootPath(path: hbs.AST.PathExpression, contextDepth: number, blockParams: Set<string>): string | null {
  if (path.data) {
    // @root.x reads the root; @index, @key, @first… are loop data.
    return path.parts[0] === 'root' && path.parts.length > 1 ? path.parts.slice(1).join('.') : null;
  }
  if (path.parts.length === 0) return null; // `this` or `.`
  if (path.depth !== contextDepth) return null;
  if (path.depth === 0 && blockParams.has(path.parts[0]!)) return null;
  return path.parts.join('.');
}

function collect(node: Node, depth: number, out: Set<string>, onPartial: (name: string) => void, blockParams: Set<string> = new Set()): void {
  const t: string = node.type;
  const expr = (e: hbs.AST.Expression | undefined, tolerant = false): void => {
    if (!e) return;
    if (e.type === 'PathExpression') {
      const p = rootPath(e as hbs.AST.PathExpression, depth, blockParams);
      if (p && !tolerant) out.add(p);
    } else if (e.type === 'SubExpression') {
      const s = e as hbs.AST.SubExpression;
      const name = (s.path as hbs.AST.PathExpression).original;
      s.params.forEach((param, i) => expr(param, i === 0 && TOLERANT.has(name)));
      s.hash?.pairs.forEach((pair) => expr(pair.value));
    }
  };
  switch (t) {
    case 'Program':
      for (const child of (node as hbs.AST.Program).body) collect(child, depth, out, onPartial, blockParams);
      return;
    case 'MustacheStatement': {
      const m = node as hbs.AST.MustacheStatement;
      const name = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : '';
      const isCall = m.params.length > 0 || (m.hash?.pairs.length ?? 0) > 0;
      if (!isCall && !HELPER_NAMES.has(name)) expr(m.path);
      m.params.forEach((param, i) => expr(param, i === 0 && TOLERANT.has(name)));
      m.hash?.pairs.forEach((pair) => expr(pair.value));
      return;
    }
    case 'BlockStatement': {
      const b = node as hbs.AST.BlockStatement;
      const name = b.path.type === 'PathExpression' ? (b.path as hbs.AST.PathExpression).original : '';
      const isCall = b.params.length > 0 || (b.hash?.pairs.length ?? 0) > 0;
      if (!isCall && !HELPER_NAMES.has(name)) expr(b.path);
      b.params.forEach((param) => expr(param));
      b.hash?.pairs.forEach((pair) => expr(pair.value));
      // A section ({{#items}}) or each/with runs its block against another context.
      const changes = CONTEXT_CHANGING.has(name) || (!isCall && !HELPER_NAMES.has(name));
      const params = new Set([...blockParams, ...(b.program?.blockParams ?? [])]);
      if (b.program) collect(b.program, changes ? depth + 1 : depth, out, onPartial, params);
      if (b.inverse) collect(b.inverse, depth, out, onPartial, blockParams);
      return;
    }
    case 'PartialStatement':
    case 'PartialBlockStatement': {
      const p = node as hbs.AST.PartialStatement;
      if (p.name.type === 'PathExpression') onPartial((p.name as hbs.AST.PathExpression).original);
      p.params.forEach((param) => expr(param));
      p.hash?.pairs.forEach((pair) => expr(pair.value));
      if (t === 'PartialBlockStatement') collect((node as hbs.AST.PartialBlockStatement).program, depth, out, onPartial, blockParams);
      return;
    }
    default:
      return;
  }
}

// --- validation ------------------------------------------------------------------------------

/** A template part that does not compile, with its 1-based line and column. */
export interface TemplateProblem extends FieldProblem {
  line: number;
  column: number;
}

/** Compiles the source fully (without running it); the problem, with where it is, or null. */
export function templateSourceProblem(source: string, path: string): TemplateProblem | null {
  try {
    env.precompile(source, { strict: false });
    return null;
  } catch (err) {
    const e = err as Error & { lineNumber?: number; column?: number };
    let line = e.lineNumber;
    let column = e.column !== undefined ? e.column + 1 : undefined;
    if (line === undefined) {
      // Parser errors carry no location of their own; the lexer still holds where it stopped.
      const loc = ((env as unknown as { Parser: unknown }).Parser as { lexer?: { yylloc?: { first_line: number; first_column: number } } }).lexer?.yylloc;
      line = loc?.first_line ?? 1;
      column = (loc?.first_column ?? 0) + 1;
    }
    const detail = e.message.split('\n').pop() ?? e.message;
    return { path, message: `does not compile at line ${line}, column ${column ?? 1}: ${detail}`, line, column: column ?? 1 };
  }
}
