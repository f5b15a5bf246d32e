import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { ImportFormat } from './import-model';

/** One row of an upload: a decoded value, or why it could not be decoded. */
export type RawRow = { row: number; value: unknown } | { row: number; error: string };

/** Longest single row (JSON element, NDJSON line or CSV record) we decode. */
export const MAX_ROW_BYTES = 64 * 1024;

/** Thrown when the file as a whole cannot be read on (the rows before it were imported). */
export class UnreadableImportError extends Error {}

/**
 * The rows of an uploaded file, one at a time, read from disk as a stream: memory holds one
 * chunk of the file and one row, whatever the file's size.
 */
export function readRows(format: ImportFormat, file: string): AsyncGenerator<RawRow> {
  switch (format) {
    case 'csv':
      return csvRows(file);
    case 'ndjson':
      return ndjsonRows(file);
    case 'json':
      return jsonRows(file);
  }
}

/** CSV with a header row: `email`, `status`, `listIds` (separated by ";") and attribute columns (`first_name` or `attributes.first_name`). */
async function* csvRows(file: string): AsyncGenerator<RawRow> {
  const parser = createReadStream(file).pipe(
    parse({
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim()),
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
      max_record_size: MAX_ROW_BYTES,
    }),
  );
  let columns: number | null = null;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; columns: unknown[] | boolean; invalid_field_length: number } }>) {
      if (columns === null && Array.isArray(info.columns)) columns = info.columns.length;
      const row = info.lines;
      const fields = Object.keys(record).length;
      if (info.invalid_field_length > 0 || (columns !== null && fields !== columns)) {
        yield { row, error: `expected ${columns ?? '?'} columns` };
        continue;
      }
      yield { row, value: csvRecordToContact(record) };
    }
  } catch (err) {
    throw new UnreadableImportError(`CSV cannot be read on: ${(err as Error).message}`);
  }
}

export function csvRecordToContact(record: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(record)) {
    if (value === undefined || value === '') continue;
    const key = column.toLowerCase();
    if (key === 'email') out.email = value;
    else if (key === 'status') out.status = value;
    else if (key === 'listids' || key === 'list_ids') out.listIds = value.split(';').map((s) => s.trim()).filter((s) => s !== '');
    else attributes[column.startsWith('attributes.') ? column.slice('attributes.'.length) : column] = value;
  }
  if (Object.keys(attributes).length > 0) out.attributes = attributes;
  return out;
}

async function* ndjsonRows(file: string): AsyncGenerator<RawRow> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let row = 0;
  for await (const line of lines) {
    row++;
    if (line.trim() === '') continue;
    yield decode(row, line);
  }
}

function decode(row: number, text: string): RawRow {
  if (text.length > MAX_ROW_BYTES) return { row, error: `row is longer than ${MAX_ROW_BYTES} bytes` };
  try {
    return { row, value: JSON.parse(text) };
  } catch {
    return { row, error: 'not valid JSON' };
  }
}

/**
 * A JSON array (or, when the file does not start with "[", NDJSON), split into its elements
 * without parsing the whole document: a small scanner tracks nesting and strings and hands
 * each top-level element to JSON.parse on its own.
 */
async function* jsonRows(file: string): AsyncGenerator<RawRow> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element: string[] = [];
  let elementLength = 0;
  let tooLong = false;
  let row = 0;
  let sawValue = false;

  const finish = (): RawRow | null => {
    const text = element.join('').trim();
    element = [];
    elementLength = 0;
    if (text === '' && !tooLong) return null;
    row++;
    if (tooLong) {
      tooLong = false;
      return { row, error: `element is longer than ${MAX_ROW_BYTES} bytes` };
    }
    return decode(row, text);
  };

  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    if (!started) {
      const first = chunk.search(/\S/);
      if (first === -1) continue;
      if (chunk[first] !== '[') {
        stream.destroy();
        yield* ndjsonRows(file);
        return;
      }
      started = true;
      start = first + 1;
    }
    let segmentStart = start;
    for (let i = start; i < chunk.length; i++) {
      if (ended) {
        if (!/\s/.test(chunk[i]!)) throw new UnreadableImportError('unexpected text after the end of the JSON array');
        continue;
      }
      const c = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && depth > 0) depth--;
      else if ((c === ',' || c === ']') && depth === 0) {
        push(chunk.slice(segmentStart, i));
        segmentStart = i + 1;
        const done = finish();
        if (done) yield done;
        else if (c === ',' || sawValue) {
          row++;
          yield { row, error: 'empty element' };
        }
        if (c === ']') ended = true;
        continue;
      }
      if (!/\s/.test(c)) sawValue = true;
    }
    if (!ended) push(chunk.slice(segmentStart));
  }
  if (!started) return;
  if (!ended) throw new UnreadableImportError('the JSON array is not closed (is the file complete?)');

  function push(text: string): void {
    if (tooLong) return;
    elementLength += text.length;
    if (elementLength > MAX_ROW_BYTES) {
      tooLong = true;
      element = [];
      return;
    }
    element.push(text);
  }
}
