import type { Connection, FilterQuery } from 'mongoose';
import { decodeIdCursor, encodeIdCursor } from '../paging';
import {
  deterministicEventId,
  TOMBSTONE_WORKSPACE_HEADER,
  Topics,
  type ContactSnapshot,
  type ContactStatus,
  type FieldProblem,
} from '@payam/contracts';
import { ConflictError, InvalidInputError, NotFoundError } from '@payam/errors';
import type { EventPublisher } from '@payam/kafka';
import { findOwned, isDuplicateKeyError } from '@payam/mongo';
import type { Logger } from '@payam/observability';
import { newId } from '../ids';
import { listModel, type ListModel } from '../lists/model';
import { contactModel, type ContactDoc, type ContactModel } from './model';
import { contactOutboxModel, writeThenPublish, type ContactOutboxModel } from './outbox';
import { contactChangeModel, recordContactChanges, type ContactChangeModel } from './changes';
import { attributeProblems, type ContactCreate, type ContactListQuery, type ContactPatch, type ContactUpsert } from './schemas';

/** What the API answers for a contact. */
export interface ContactView {
  contactId: string;
  email: string;
  status: ContactStatus;
  attributes: Record<string, unknown>;
  listIds: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function contactView(doc: ContactDoc): ContactView {
  return {
    contactId: doc._id,
    email: doc.email,
    status: doc.status,
    attributes: doc.attributes ?? {},
    listIds: doc.listIds ?? [],
    version: doc.version,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

/** The contacts.v1 value of a contact; deterministic per version, so a re-publish is a no-op downstream. */
export function contactSnapshot(doc: ContactDoc): ContactSnapshot {
  return {
    id: deterministicEventId('contact', doc._id, doc.version),
    type: 'contact.snapshot',
    schemaVersion: 1,
    occurredAt: doc.updatedAt.toISOString(),
    workspaceId: doc.workspaceId,
    contactId: doc._id,
    version: doc.version,
    email: doc.email,
    status: doc.status,
    attributes: doc.attributes ?? {},
    listIds: doc.listIds ?? [],
    createdAt: doc.createdAt.toISOString(),
  };
}

/**
 * Publishes the given contacts' state to contacts.v1: a snapshot, or for an erased contact a
 * tombstone whose `workspace-id` header names its workspace.
 */
export async function publishContacts(publisher: EventPublisher, docs: ContactDoc[]): Promise<void> {
  if (docs.length === 0) return;
  await publisher.publish(
    Topics.contacts,
    docs.map((doc) =>
      doc.erasedAt
        ? { key: doc._id, value: null, headers: { [TOMBSTONE_WORKSPACE_HEADER]: doc.workspaceId } }
        : { key: doc._id, value: contactSnapshot(doc) },
    ),
  );
}

export interface ContactPage {
  items: ContactView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Erased contacts keep an address nobody can have, unique per contact, so the unique index holds. */
function erasedEmail(contactId: string): string {
  return `erased+${contactId.toLowerCase()}@erased.invalid`;
}

type Changes = Partial<Pick<ContactDoc, 'email' | 'status' | 'attributes' | 'listIds'>>;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Attributes after a merge patch: given keys replace, null removes. */
export function mergeAttributes(current: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

export class ContactService {
  readonly model: ContactModel;
  readonly lists: ListModel;
  readonly outbox: ContactOutboxModel;
  /** Status, address and erasure changes, read by send workers instead of the contacts (changes.ts). */
  readonly changes: ContactChangeModel;

  constructor(
    conn: Connection,
    readonly publisher: EventPublisher,
    private readonly logger: Logger,
  ) {
    this.model = contactModel(conn);
    this.lists = listModel(conn);
    this.outbox = contactOutboxModel(conn);
    this.changes = contactChangeModel(conn);
  }

  async create(workspaceId: string, input: ContactCreate): Promise<ContactDoc> {
    await this.checkLists(workspaceId, input.listIds, 'body.listIds');
    const now = new Date();
    const doc: ContactDoc = {
      _id: newId('ct'),
      workspaceId,
      email: input.email,
      status: input.status,
      attributes: input.attributes,
      listIds: [...new Set(input.listIds)],
      version: 1,
      createdAt: now,
      updatedAt: now,
      erasedAt: null,
    };
    return this.writeThenPublish([doc._id], async () => {
      try {
        await this.model.collection.insertOne(doc as never);
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        const existing = await this.model.findOne({ workspaceId, email: input.email }, { _id: 1 }).lean();
        throw new ConflictError('a contact with this email already exists', { contactId: existing?._id ?? null });
      }
      return doc;
    });
  }

  /** Creates the contact, or applies the given fields to the one with this email (attributes merge). */
  async upsertByEmail(workspaceId: string, input: ContactUpsert): Promise<{ contact: ContactDoc; created: boolean }> {
    await this.checkLists(workspaceId, input.listIds ?? [], 'body.listIds');
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.model.findOne({ workspaceId, email: input.email }).lean();
      if (!existing) {
        try {
          const contact = await this.create(workspaceId, {
            email: input.email,
            status: input.status ?? 'subscribed',
            attributes: input.attributes ?? {},
            listIds: input.listIds ?? [],
          });
          return { contact, created: true };
        } catch (err) {
          if (err instanceof ConflictError) continue; // created concurrently: update it instead
          throw err;
        }
      }
      const contact = await this.modify(workspaceId, existing._id, (doc) => this.applyPatch(doc, input), existing);
      if (contact) return { contact, created: false };
    }
    throw new ConflictError('the contact changed concurrently; retry');
  }

  async update(workspaceId: string, contactId: string, patch: ContactPatch): Promise<ContactDoc> {
    await this.checkLists(workspaceId, patch.listIds ?? [], 'body.listIds');
    for (let attempt = 0; attempt < 5; attempt++) {
      const contact = await this.modify(workspaceId, contactId, (doc) => this.applyPatch(doc, patch));
      if (contact) return contact;
    }
    throw new ConflictError('the contact changed concurrently; retry');
  }

  /** Sets the status (suppression uses it); a no-op when it already has it. */
  async setStatus(workspaceId: string, contactId: string, decide: (current: ContactStatus) => ContactStatus | null): Promise<ContactDoc | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const contact = await this.modify(workspaceId, contactId, (doc) => {
          const next = decide(doc.status);
          return next && next !== doc.status ? { status: next } : null;
        });
        if (contact) return contact;
      } catch (err) {
        if (err instanceof NotFoundError) return null;
        throw err;
      }
    }
    throw new ConflictError('the contact changed concurrently; retry');
  }

  async get(workspaceId: string, contactId: string): Promise<ContactDoc> {
    const doc = await this.live(workspaceId, contactId);
    if (!doc) throw new NotFoundError('contact', contactId);
    return doc;
  }

  /** The contact if it is in this workspace and not erased (findOwned: a lookup by _id alone). */
  async live(workspaceId: string, contactId: string): Promise<ContactDoc | null> {
    const doc = await findOwned<ContactDoc>(this.model, workspaceId, contactId);
    return doc && !doc.erasedAt ? doc : null;
  }

  async findByEmail(workspaceId: string, email: string): Promise<ContactDoc | null> {
    return this.model.findOne({ workspaceId, email, erasedAt: null }).lean();
  }

  async list(workspaceId: string, q: ContactListQuery): Promise<ContactPage> {
    const filter: FilterQuery<ContactDoc> = { workspaceId, erasedAt: null };
    if (q.cursor !== undefined) filter._id = { $gt: decodeIdCursor(q.cursor) };
    if (q.status) filter.status = q.status;
    if (q.listId) filter.listIds = q.listId;
    if (q.emailPrefix) filter.email = { $regex: `^${escapeRegex(q.emailPrefix)}` };
    for (const [name, value] of Object.entries(q.attributes)) {
      // Query strings are text: "42" also matches the number 42, "true" the boolean.
      const alternatives: unknown[] = [value];
      if (value !== '' && Number.isFinite(Number(value))) alternatives.push(Number(value));
      if (value === 'true' || value === 'false') alternatives.push(value === 'true');
      filter[`attributes.${name}`] = { $in: alternatives };
    }
    const docs = await this.model
      .find(filter)
      .sort({ _id: 1 })
      .limit(q.limit + 1)
      .lean();
    const more = docs.length > q.limit;
    const items = (more ? docs.slice(0, q.limit) : docs).map(contactView);
    return { items, nextCursor: more ? encodeIdCursor(items[items.length - 1]!.contactId) : null };
  }

  /**
   * Erasure: the email is replaced, attributes and list memberships go, and a tombstone goes to
   * contacts.v1. The id stays (with erasedAt) so anything that still names it (a queued send job,
   * a segment membership) finds an erased contact and skips it.
   */
  async erase(workspaceId: string, contactId: string): Promise<void> {
    const doc = await findOwned<ContactDoc>(this.model, workspaceId, contactId);
    if (!doc) throw new NotFoundError('contact', contactId);
    if (doc.erasedAt) return;
    const now = new Date();
    const erased: ContactDoc = { ...doc, email: erasedEmail(contactId), attributes: {}, listIds: [], erasedAt: now, updatedAt: now, version: doc.version + 1 };
    await this.writeThenPublish([contactId], async () => {
      const res = await this.model.updateOne(
        { _id: contactId, workspaceId, version: doc.version, erasedAt: null },
        { $set: { email: erased.email, attributes: {}, listIds: [], erasedAt: now, updatedAt: now, version: erased.version } },
      );
      // Lost a race with another write: nothing was erased; the caller retries against the new version.
      if (res.matchedCount === 0) throw new ConflictError('the contact changed concurrently; retry');
      // Also stops send jobs that already carry the address (a crash before this is healed by the re-publisher).
      await recordContactChanges(this.changes, [erased]);
      return erased;
    });
  }

  /**
   * Notes the contacts in the outbox, runs the write, publishes the contacts it returns (or,
   * when it returns ids, their state as stored now), and clears the note.
   */
  async writeThenPublish<T extends ContactDoc | ContactDoc[] | null>(contactIds: string[], write: () => Promise<T>): Promise<T> {
    return writeThenPublish(this.outbox, this.logger, contactIds, write, async (result) => {
      if (result === null) return;
      await publishContacts(this.publisher, Array.isArray(result) ? result : [result]);
    });
  }

  /** For bulk changes (list membership): notes the ids, runs the write, publishes their state as stored after it. */
  async bulkWriteThenPublish(contactIds: string[], write: () => Promise<void>): Promise<void> {
    await writeThenPublish(this.outbox, this.logger, contactIds, write, () => this.publishCurrent(contactIds));
  }

  /** Publishes the current state of the given contacts (after a bulk change such as a list membership). */
  async publishCurrent(contactIds: string[]): Promise<void> {
    for (let i = 0; i < contactIds.length; i += 500) {
      const docs = await this.model.find({ _id: { $in: contactIds.slice(i, i + 500) } }).lean();
      await publishContacts(this.publisher, docs);
    }
  }

  /** Contacts named in outbox notes older than the given age are published again (crash/outage healing). */
  async republishPending(olderThanMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const notes = await this.outbox
        .find({ at: { $lt: new Date(Date.now() - olderThanMs) } })
        .limit(100)
        .lean();
      if (notes.length === 0) return total;
      for (const note of notes) {
        // The write may have crashed before its change-log entry: record the current state too.
        const ids = [...new Set(note.contactIds)];
        for (let i = 0; i < ids.length; i += 500) {
          await recordContactChanges(this.changes, await this.model.find({ _id: { $in: ids.slice(i, i + 500) } }).lean());
        }
        await this.publishCurrent(ids);
        await this.outbox.deleteOne({ _id: note._id });
        total += note.contactIds.length;
      }
    }
  }

  async checkLists(workspaceId: string, listIds: string[], path: string): Promise<void> {
    if (listIds.length === 0) return;
    const found = new Set((await this.lists.find({ workspaceId, _id: { $in: listIds } }, { _id: 1 }).lean()).map((l) => l._id));
    const problems: FieldProblem[] = [];
    listIds.forEach((id, i) => {
      if (!found.has(id)) problems.push({ path: `${path}.${i}`, message: `no list ${id} in this workspace` });
    });
    if (problems.length > 0) throw new InvalidInputError(problems);
  }

  private applyPatch(doc: ContactDoc, patch: ContactUpsert | ContactPatch): Changes | null {
    const changes: Changes = {};
    if (patch.email !== undefined && patch.email !== doc.email) changes.email = patch.email;
    if (patch.status !== undefined && patch.status !== doc.status) changes.status = patch.status;
    if (patch.attributes !== undefined) {
      const merged = mergeAttributes(doc.attributes ?? {}, patch.attributes);
      const problems = attributeProblems(merged, 'body.attributes');
      if (problems.length > 0) throw new InvalidInputError(problems);
      if (!sameJson(merged, doc.attributes)) changes.attributes = merged;
    }
    if (patch.listIds !== undefined) {
      const ids = [...new Set(patch.listIds)];
      if (!sameJson(ids, doc.listIds)) changes.listIds = ids;
    }
    return Object.keys(changes).length > 0 ? changes : null;
  }

  /**
   * One optimistic write: read, compute the changes, write them if nobody wrote in between
   * (the version guards it). Returns the new document, the unchanged one when there is nothing
   * to do, or null when another write won the race (the caller retries).
   */
  private async modify(
    workspaceId: string,
    contactId: string,
    changesOf: (doc: ContactDoc) => Changes | null,
    known?: ContactDoc,
  ): Promise<ContactDoc | null> {
    const doc = known ?? (await this.live(workspaceId, contactId));
    if (!doc) throw new NotFoundError('contact', contactId);
    const changes = changesOf(doc);
    if (!changes) return doc;
    const next: ContactDoc = { ...doc, ...changes, version: doc.version + 1, updatedAt: new Date() };
    return this.writeThenPublish([doc._id], async () => {
      try {
        const res = await this.model.updateOne(
          { _id: doc._id, version: doc.version, erasedAt: null },
          { $set: { ...changes, version: next.version, updatedAt: next.updatedAt } },
        );
        if (res.matchedCount === 0) return null;
        // A new status or address must reach send jobs resolved before it (changes.ts).
        if (changes.status !== undefined || changes.email !== undefined) await recordContactChanges(this.changes, [next]);
        return next;
      } catch (err) {
        if (isDuplicateKeyError(err)) throw new ConflictError('another contact has this email', { email: changes.email });
        throw err;
      }
    });
  }
}
