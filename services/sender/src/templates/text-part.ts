import Handlebars from 'handlebars';
import { Parser } from 'htmlparser2';

/**
 * The text part of a template that has none, derived from its HTML once per template version
 * instead of once per message: the HTML source is converted to text with every Handlebars
 * expression carried through as an opaque placeholder, and the placeholders are put back,
 * giving a text template that renders per recipient at the price of a Handlebars call. An
 * HTML-to-text conversion of each rendered message cost about a tenth of a millisecond of the
 * send path's CPU, for a result that differs only in what the data puts in.
 *
 * Returns null whenever the derived template could say something else than converting the
 * rendered HTML would (the caller then converts each message, as before):
 * - `{{{raw}}}` / `{{&raw}}` output (HTML put in by the data: only its conversion shows it right),
 *   except the names in `rawAllowed` (a layout's `{{{body}}}`, whose text the caller supplies);
 * - a block whose tags the conversion dropped or moved out of place (e.g. `{{#if}}` inside an
 *   attribute), `{{else if}}` chains, partial blocks and decorators;
 * - a Handlebars block tag inside a heading (headings are upper-cased as text; a plain
 *   expression there is upper-cased at render time instead, see UPPER_HELPER), or between the
 *   items of a list or the rows of a table (where the conversion would lay it out as one);
 * - literal text that would read as Handlebars syntax in the text template (`{{`, a backslash).
 *
 * What may still differ from converting the rendered HTML: line wrapping (a placeholder is not
 * as long as the value it stands for) and, for a link whose text is its own URL from the data,
 * the URL printed twice (the conversion hides an href equal to its text). Blank lines around
 * blocks come out as a conversion's would (finishDerivedText).
 */
export function deriveTextTemplate(
  htmlSource: string,
  toText: (html: string) => string,
  opts: { rawAllowed?: string[] } = {},
): string | null {
  const tokens = tokenize(htmlSource, new Set(opts.rawAllowed ?? []));
  if (tokens === null) return null;
  const masked = tokens.map((t) => (t.kind === 'content' ? t.value : placeholder(t.index))).join('');
  const literalText = tokens.flatMap((t) => (t.kind === 'content' ? [t.value] : [])).join('');
  if (MARK.test(literalText)) return null; // our placeholders must be the only ones
  const blockTags = new Set(tokens.flatMap((t) => (t.kind === 'open' || t.kind === 'else' || t.kind === 'close' ? [t.index] : [])));
  const { upper, misplaced } = placeholderContexts(masked, blockTags);
  if (misplaced) return null;
  const text = toText(masked);

  const byIndex = new Map<number, Expression>();
  for (const t of tokens) if (t.kind !== 'content') byIndex.set(t.index, t);
  const stack: string[] = [];
  const seenBlockTags = new Set<number>();
  let out = '';
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const literal = text.slice(last, m.index);
    if (readsAsHandlebars(literal)) return null;
    out += literal;
    last = m.index + m[0].length;
    const e = byIndex.get(Number(m[1]));
    if (!e) return null;
    if (e.kind === 'expression') {
      if (e.scope !== (stack.at(-1) ?? '')) return null; // moved into or out of a block
      out += upper.has(e.index) ? `{{#${UPPER_HELPER}}}${e.source}{{/${UPPER_HELPER}}}` : e.source;
      continue;
    }
    if (seenBlockTags.has(e.index) || upper.has(e.index)) return null;
    seenBlockTags.add(e.index);
    if (e.kind === 'open') {
      if (e.scope !== (stack.at(-1) ?? '')) return null;
      stack.push(`${e.block}:program`);
    } else if (e.kind === 'else') {
      if (stack.pop() !== `${e.block}:program`) return null;
      stack.push(`${e.block}:inverse`);
    } else {
      const top = stack.pop();
      if (top !== `${e.block}:program` && top !== `${e.block}:inverse`) return null;
    }
    out += e.source + BLOCK_MARK;
  }
  const tail = text.slice(last);
  if (readsAsHandlebars(tail)) return null;
  out += tail;
  if (stack.length > 0 || seenBlockTags.size !== blockTags.size) return null;
  return out;
}

/**
 * A rendered derived text template made final. A block tag that stood between two blocks of
 * text has the line breaks of both sides around it; when the block repeats or renders nothing
 * they would add up, where a conversion of the rendered HTML keeps the longer of them. Each
 * block tag leaves a mark in the rendered text, so that is done here.
 */
export function finishDerivedText(rendered: string): string {
  return rendered.replace(BREAKS_AROUND_MARKS, (run) => '\n'.repeat(Math.max(...run.split(BLOCK_MARK).map((part) => part.length)))).trim();
}

/** Literal text of the conversion that the text template would read as a tag or an escape. */
function readsAsHandlebars(literal: string): boolean {
  return literal.includes('{{') || literal.includes('\\');
}

/** Block helper of derived text templates: upper-cases what it wraps, as the text of a heading is. */
export const UPPER_HELPER = 'payamUpperCase';
export function upperCaseHelper(this: unknown, options: Handlebars.HelperOptions): string {
  return options.fn(this).toUpperCase();
}

// Private-use characters: nothing in an HTML-to-text conversion changes, splits or drops them.
const placeholder = (i: number): string => `\uE000${i}\uE001`;
const PLACEHOLDER = /\uE000(\d+)\uE001/g;
/** Left in the rendered text where a block tag was (see finishDerivedText). */
const BLOCK_MARK = '\uE002';
const BREAKS_AROUND_MARKS = /\n*(?:\uE002\n*)+/g;
const MARK = /[\uE000-\uE002]/;

type Token =
  | { kind: 'content'; value: string }
  /** A plain expression, partial or comment: `scope` names the block branch it sits in ('' at the top). */
  | Expression;
type Expression = { index: number; source: string; scope: string } & (
  { kind: 'expression' } | { kind: 'open' | 'else' | 'close'; block: number }
);

/** The template as literal content and Handlebars tags (each with its source text), or null when one is not supported here. */
function tokenize(source: string, rawAllowed: Set<string>): Token[] | null {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(source);
  } catch {
    return null; // a template that does not parse was refused when saved
  }
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
  const offset = (p: hbs.AST.Position): number => (lineStarts[p.line - 1] ?? NaN) + p.column;
  const slice = (from: hbs.AST.Position, to: hbs.AST.Position): string | null => {
    const a = offset(from);
    const b = offset(to);
    return Number.isFinite(a) && Number.isFinite(b) && a <= b ? source.slice(a, b) : null;
  };

  const tokens: Token[] = [];
  let next = 0;
  let blocks = 0;
  const walk = (p: hbs.AST.Program, scope: string): boolean => {
    for (const node of p.body) {
      switch (node.type) {
        case 'ContentStatement':
          tokens.push({ kind: 'content', value: (node as hbs.AST.ContentStatement).value });
          break;
        case 'CommentStatement':
          break;
        case 'MustacheStatement':
        case 'PartialStatement': {
          const m = node as hbs.AST.MustacheStatement;
          if (node.type === 'MustacheStatement' && !m.escaped) {
            const name = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : '';
            if (!rawAllowed.has(name) || m.params.length > 0) return false;
          }
          const text = slice(node.loc.start, node.loc.end);
          if (text === null) return false;
          tokens.push({ kind: 'expression', index: next++, source: withoutStrip(text), scope });
          break;
        }
        case 'BlockStatement': {
          const b = node as hbs.AST.BlockStatement;
          if (!b.program?.loc || (b.inverse && (!b.inverse.loc || (b.inverse as { chained?: boolean }).chained))) return false;
          const block = blocks++;
          const open = slice(b.loc.start, b.program.loc.start);
          if (open === null) return false;
          tokens.push({ kind: 'open', block, index: next++, source: withoutStrip(open), scope });
          if (!walk(b.program, `${block}:program`)) return false;
          let end = b.program.loc.end;
          if (b.inverse) {
            const elseTag = slice(b.program.loc.end, b.inverse.loc.start);
            if (elseTag === null) return false;
            tokens.push({ kind: 'else', block, index: next++, source: withoutStrip(elseTag), scope });
            if (!walk(b.inverse, `${block}:inverse`)) return false;
            end = b.inverse.loc.end;
          }
          const close = slice(end, b.loc.end);
          if (close === null || !close.startsWith('{{')) return false;
          tokens.push({ kind: 'close', block, index: next++, source: withoutStrip(close), scope });
          break;
        }
        default:
          return false; // partial blocks, decorators
      }
    }
    return true;
  };
  return walk(program, '') ? tokens : null;
}

/**
 * A tag without its whitespace control (`{{~x~}}`): the HTML's whitespace was stripped already
 * (the content values are the stripped ones); in the text template `~` would eat the line
 * breaks the conversion put between blocks.
 */
function withoutStrip(tag: string): string {
  return tag.replace(/^(\{\{\{?)~/, '$1').replace(/~(\}?\}\})$/, '$1');
}

const HEADING = /^h[1-6]$/;
/** Elements whose text children are not content: a conversion lays them out (a list item, a cell) where a block tag has none. */
const STRUCTURAL = new Set(['ul', 'ol', 'table', 'thead', 'tbody', 'tfoot', 'tr']);

/**
 * Where the placeholders sit in the masked HTML: inside h1–h6 (text and attributes, which a
 * conversion upper-cases), and whether a block tag is a direct text child of a list or table
 * (where, as text, it would become an item or cell of its own).
 */
function placeholderContexts(masked: string, blockTags: Set<number>): { upper: Set<number>; misplaced: boolean } {
  const upper = new Set<number>();
  let misplaced = false;
  let headings = 0;
  const open: string[] = [];
  const collect = (s: string, asText: boolean): void => {
    for (const m of s.matchAll(PLACEHOLDER)) {
      const index = Number(m[1]);
      if (headings > 0) upper.add(index);
      if (asText && blockTags.has(index) && STRUCTURAL.has(open.at(-1) ?? '')) misplaced = true;
    }
  };
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        for (const v of Object.values(attribs)) collect(v, false);
        open.push(name);
        if (HEADING.test(name)) headings++;
      },
      ontext: (s) => collect(s, true),
      onclosetag(name) {
        const at = open.lastIndexOf(name);
        if (at >= 0) open.length = at;
        if (HEADING.test(name) && headings > 0) headings--;
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(masked);
  parser.end();
  return { upper, misplaced };
}
