import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import { z } from 'zod';
import { EntityId, formatProblems, describeIssues, type ContactStatus } from '@payam/contracts';
import { DomainError, InvalidInputError, NotFoundError } from '@payam/errors';
import { findOwned } from '@payam/mongo';
import type { Logger } from '@payam/observability';
import { newId } from '../ids';
import { mapPage, pageById, type Page, type PageQuery } from '../paging';
import type { ContactDoc } from './model';
import { importModel, type ImportDoc, type ImportFormat, type ImportModel, type ImportRowError } from './import-model';
import { readRows, UnreadableImportError, type RawRow } from './import-rows';
import { ContactUpsert, attributeProblems } from './schemas';
import { mergeAttributes, type ContactService } from './service';

export const ImportQuery = z.object({
  format: z.enum(['csv', 'json', 'ndjson']).optional(),
  listId: EntityId.optional(),
});
export type ImportQuery = z.infer<typeof ImportQuery>;

const CHUNK = 500;
/** Existing contacts of a chunk are read and updated this many at a time. */
const UPDATE_CONCURRENCY = 8;
const MAX_ERRORS = 100;
/** A running import that has not reported for this long was interrupted (its process died). */
const STALE_MS = 5 * 60_000;
const OWNER = `${hostname()}:${process.pid}`;

export class UploadTooLargeError extends DomainError {
  constructor(maxBytes: number) {
    super('payload_too_large', `the upload is larger than ${maxBytes} bytes`);
  }
}

/** The stored import as the API shows it: the document's figures, its id named, dates as ISO text. */
export type ImportView = Pick<
  ImportDoc,
  'format' | 'listId' | 'state' | 'bytes' | 'processed' | 'created' | 'updated' | 'unchanged' | 'failed' | 'errors' | 'failure'
> & {
  importId: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
};

export function importView(d: ImportDoc): ImportView {
  return {
    importId: d._id,
    format: d.format,
    listId: d.listId,
    state: d.state,
    bytes: d.bytes,
    processed: d.processed,
    created: d.created,
    updated: d.updated,
    unchanged: d.unchanged,
    failed: d.failed,
    errors: d.errors,
    failure: d.failure,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    finishedAt: d.finishedAt ? d.finishedAt.toISOString() : null,
  };
}

function formatOf(req: Request, query: ImportQuery): ImportFormat {
  if (query.format) return query.format;
  if (req.is(['text/csv', 'application/csv'])) return 'csv';
  if (req.is(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'])) return 'ndjson';
  if (req.is(['application/json'])) return 'json';
  throw new InvalidInputError([
    { path: 'query.format', message: 'give format=csv|json|ndjson or a Content-Type of text/csv, application/json or application/x-ndjson' },
  ]);
}

interface Counters {
  processed: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: ImportRowError[];
}

interface ValidRow {
  row: number;
  email: string;
  status?: ContactStatus;
  attributes?: Record<string, unknown>;
  listIds: string[];
}

/**
 * Bulk import of contacts, upsert by email. The upload is streamed to a temporary file (so
 * the client is answered 202 at once and memory never holds the file), then read back as a
 * stream in chunks of 500 rows, each chunk one read and one bulkWrite. Row problems are
 * counted and the first 100 kept with their row numbers; the job document shows progress
 * after every chunk. Re-running the same file finds every contact by email and changes nothing.
 * An import never re-subscribes a contact that unsubscribed, bounced or complained.
 */
export class ImportService {
  readonly model: ImportModel;
  private readonly running = new Map<string, { abort: boolean; done: Promise<void> }>();
  private readonly dir = path.join(tmpdir(), 'payam-sender-imports');

  constructor(
    private readonly contacts: ContactService,
    private readonly logger: Logger,
    private readonly maxBytes: number,
  ) {
    this.model = importModel(contacts.model.db);
  }

  async start(workspaceId: string, req: Request, query: ImportQuery): Promise<ImportView> {
    const format = formatOf(req, query);
    if (query.listId && !(await this.contacts.lists.exists({ _id: query.listId, workspaceId }))) {
      throw new InvalidInputError([{ path: 'query.listId', message: `no list ${query.listId} in this workspace` }]);
    }
    const importId = newId('imp');
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, `${importId}.upload`);
    let bytes = 0;
    const max = this.maxBytes;
    try {
      await pipeline(
        req,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bytes += chunk.length;
            if (bytes > max) cb(new UploadTooLargeError(max));
            else cb(null, chunk);
          },
        }),
        createWriteStream(file),
      );
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    const now = new Date();
    const doc: ImportDoc = {
      _id: importId,
      workspaceId,
      format,
      listId: query.listId ?? null,
      state: 'running',
      bytes,
      processed: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      failed: 0,
      errors: [],
      failure: null,
      owner: OWNER,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    await this.model.create(doc);
    const job = { abort: false, done: Promise.resolve() };
    job.done = this.run(doc, file, job).finally(() => {
      this.running.delete(importId);
      return rm(file, { force: true });
    });
    this.running.set(importId, job);
    return importView(doc);
  }

  async get(workspaceId: string, importId: string): Promise<ImportView> {
    const doc = await findOwned<ImportDoc>(this.model, workspaceId, importId);
    if (!doc) throw new NotFoundError('import', importId);
    return importView(doc);
  }

  /** Newest first, a page at a time. */
  async list(workspaceId: string, q: PageQuery): Promise<Page<ImportView>> {
    return mapPage(await pageById(this.model, { workspaceId }, q, -1), importView);
  }

  /** At boot: imports left running by a process that died are marked failed (re-running is safe). */
  async failStale(): Promise<number> {
    const res = await this.model.updateMany(
      { state: 'running', updatedAt: { $lt: new Date(Date.now() - STALE_MS) } },
      { $set: { state: 'failed', failure: 'interrupted (the process stopped); re-run the import, it is safe', finishedAt: new Date() } },
    );
    return res.modifiedCount;
  }

  /** Stops running imports after their current chunk and marks them failed. */
  async stopAll(): Promise<void> {
    for (const job of this.running.values()) job.abort = true;
    await Promise.all([...this.running.values()].map((j) => j.done));
  }

  /** Resolves when the import has finished (tests). */
  async settled(importId: string): Promise<void> {
    await this.running.get(importId)?.done;
  }

  private async run(doc: ImportDoc, file: string, job: { abort: boolean }): Promise<void> {
    const counters: Counters = { processed: 0, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [] };
    const knownLists = new Set<string>(doc.listId ? [doc.listId] : []);
    let failure: string | null = null;
    let chunk: RawRow[] = [];
    try {
      try {
        for await (const raw of readRows(doc.format, file)) {
          chunk.push(raw);
          if (chunk.length >= CHUNK) {
            const full = chunk;
            chunk = [];
            await this.processChunk(doc, full, counters, knownLists);
            await this.report(doc._id, counters);
            if (job.abort) throw new UnreadableImportError('stopped by a shutdown; re-run the import, it is safe');
          }
        }
      } catch (err) {
        if (!(err instanceof UnreadableImportError)) throw err;
        failure = err.message;
      }
      // The rows read before the file broke off are imported too.
      await this.processChunk(doc, chunk, counters, knownLists);
    } catch (err) {
      this.logger.error({ err, importId: doc._id }, 'contact import failed');
      failure = 'internal error; re-run the import, it is safe';
    }
    await this.report(doc._id, counters, failure === null ? 'completed' : 'failed', failure).catch((err: unknown) =>
      this.logger.error({ err, importId: doc._id }, 'could not record the end of an import'),
    );
    this.logger.info({ importId: doc._id, ...counters, errors: counters.errors.length, failure }, 'contact import finished');
  }

  private async report(importId: string, c: Counters, state?: 'completed' | 'failed', failure: string | null = null): Promise<void> {
    const now = new Date();
    await this.model.updateOne(
      { _id: importId },
      {
        $set: {
          processed: c.processed,
          created: c.created,
          updated: c.updated,
          unchanged: c.unchanged,
          failed: c.failed,
          errors: c.errors,
          updatedAt: now,
          ...(state ? { state, failure, finishedAt: now } : {}),
        },
      },
    );
  }

  private rowError(c: Counters, row: number, message: string): void {
    c.failed++;
    if (c.errors.length < MAX_ERRORS) c.errors.push({ row, message });
  }

  private async processChunk(doc: ImportDoc, raws: RawRow[], c: Counters, knownLists: Set<string>): Promise<void> {
    if (raws.length === 0) return;
    const workspaceId = doc.workspaceId;
    c.processed += raws.length;

    // 1. Validate each row; the same email twice in a chunk merges in file order.
    const byEmail = new Map<string, ValidRow>();
    const unknownListIds = new Set<string>();
    const valid: ValidRow[] = [];
    for (const raw of raws) {
      if ('error' in raw) {
        this.rowError(c, raw.row, raw.error);
        continue;
      }
      const parsed = ContactUpsert.safeParse(raw.value);
      if (!parsed.success) {
        this.rowError(c, raw.row, formatProblems(describeIssues(parsed.error)));
        continue;
      }
      const v: ValidRow = { row: raw.row, email: parsed.data.email, listIds: parsed.data.listIds ?? [] };
      if (parsed.data.status) v.status = parsed.data.status;
      if (parsed.data.attributes) v.attributes = parsed.data.attributes;
      if (doc.listId) v.listIds.push(doc.listId);
      for (const id of v.listIds) if (!knownLists.has(id)) unknownListIds.add(id);
      valid.push(v);
    }
    if (unknownListIds.size > 0) {
      const found = await this.contacts.lists.find({ workspaceId, _id: { $in: [...unknownListIds] } }, { _id: 1 }).lean();
      for (const l of found) knownLists.add(l._id);
    }
    for (const v of valid) {
      const missing = v.listIds.find((id) => !knownLists.has(id));
      if (missing) {
        this.rowError(c, v.row, `listIds: no list ${missing} in this workspace`);
        continue;
      }
      const prior = byEmail.get(v.email);
      if (!prior) {
        byEmail.set(v.email, v);
        continue;
      }
      byEmail.set(v.email, {
        row: v.row,
        email: v.email,
        ...(v.status ?? prior.status ? { status: v.status ?? prior.status } : {}),
        ...(v.attributes || prior.attributes ? { attributes: { ...prior.attributes, ...v.attributes } } : {}),
        listIds: [...prior.listIds, ...v.listIds],
      });
    }
    if (byEmail.size === 0) return;

    // 2. Insert first: a new contact costs one insert in a bulk insert, and the unique index
    // (workspaceId, email) tells which rows already have a contact. Those are read one by one
    // and updated only when the row changes something: re-running a file writes nothing.
    const now = new Date();
    const rows = [...byEmail.values()];
    const fresh: ContactDoc[] = rows.map((v) => ({
      _id: newId('ct'),
      workspaceId,
      email: v.email,
      status: v.status ?? 'subscribed',
      attributes: v.attributes ?? {},
      listIds: [...new Set(v.listIds)],
      version: 1,
      createdAt: now,
      updatedAt: now,
      erasedAt: null,
    }));
    const existing = new Set<number>();
    const inserted = await this.contacts.writeThenPublish(
      fresh.map((d) => d._id),
      async () => {
        try {
          await this.contacts.model.collection.insertMany(fresh as never[], { ordered: false });
        } catch (err) {
          const writeErrors = (err as { writeErrors?: Array<{ index: number; code?: number }> | { index: number; code?: number } }).writeErrors;
          const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : null;
          if (!list || list.some((e) => e.code !== 11000)) throw err;
          for (const e of list) existing.add(e.index);
        }
        return fresh.filter((_, i) => !existing.has(i));
      },
    );
    c.created += inserted.length;

    const updates = rows.filter((_, i) => existing.has(i));
    if (updates.length === 0) return;
    // One read for all of them (the unique index serves it), then writes only where a row changes something.
    const current = new Map(
      (await this.contacts.model.find({ workspaceId, email: { $in: updates.map((v) => v.email) }, erasedAt: null }).lean()).map((d) => [d.email, d]),
    );
    for (let i = 0; i < updates.length; i += UPDATE_CONCURRENCY) {
      await Promise.all(updates.slice(i, i + UPDATE_CONCURRENCY).map((v) => this.updateExisting(workspaceId, v, current.get(v.email) ?? null, c)));
    }
  }

  /** A row whose email already has a contact: merge it in, unless that changes nothing. */
  private async updateExisting(workspaceId: string, v: ValidRow, cur: ContactDoc | null, c: Counters): Promise<void> {
    try {
      if (!cur) {
        // Erased or changed its email since the insert refused it: import it like a new row.
        const { created } = await this.contacts.upsertByEmail(workspaceId, { email: v.email, ...(v.status ? { status: v.status } : {}), ...(v.attributes ? { attributes: v.attributes } : {}), listIds: v.listIds });
        if (created) c.created++;
        else c.updated++;
        return;
      }
      const attributes = v.attributes ? mergeAttributes(cur.attributes ?? {}, v.attributes) : cur.attributes;
      // Consent is not re-granted by a spreadsheet: only the API may re-subscribe a contact.
      const status = v.status && !(v.status === 'subscribed' && cur.status !== 'subscribed') ? v.status : cur.status;
      const listIds = [...new Set([...(cur.listIds ?? []), ...v.listIds])];
      if (status === cur.status && JSON.stringify(attributes) === JSON.stringify(cur.attributes) && listIds.length === (cur.listIds ?? []).length) {
        c.unchanged++;
        return;
      }
      const problems = attributeProblems(attributes, 'attributes');
      if (problems.length > 0) {
        this.rowError(c, v.row, formatProblems(problems));
        return;
      }
      await this.contacts.update(workspaceId, cur._id, {
        ...(status !== cur.status ? { status } : {}),
        ...(v.attributes ? { attributes: v.attributes } : {}),
        listIds,
      });
      c.updated++;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      this.rowError(c, v.row, err.message);
    }
  }
}
