import type { SendJob } from '@payam/contracts';
import type { Connection } from 'mongoose';
import { findByIds } from '@payam/mongo';
import { contactModel, type ContactDoc } from '../contacts/model';
import { contactChangeModel, latestChanges, type ContactChangeDoc } from '../contacts/changes';
import { normaliseEmail } from '../contacts/schemas';
import { suppressedAmong } from '../suppression/service';
import { deliveryModel } from './model';

/** What sending needs of a contact: whether it may be sent to, where, and the template data. */
export type SendableContact = Pick<ContactDoc, '_id' | 'workspaceId' | 'email' | 'status' | 'attributes' | 'erasedAt'>;

/** What the engine needs of a job's recipient to decide whether, and what, to send. */
export interface Recipient {
  /** null: the contact is gone (or belongs to another workspace). */
  contact: SendableContact | null;
  suppressed: boolean;
  variantId: string | null;
  /** False for a delivery that is not a queued recipient (only known for jobs without a variant field). */
  queued: boolean;
}

export interface RecipientSnapshot {
  /** When the reads started: everything in it is at least this fresh. */
  at: number;
  byDelivery: Map<string, Recipient>;
}

/**
 * A job's recipient as resolution carried it, with the newest status, address or erasure change
 * logged since (the contact had no later change: it was a subscribed recipient then).
 */
export function carriedContact(job: SendJob & { contact: NonNullable<SendJob['contact']> }, change: ContactChangeDoc | undefined): SendableContact {
  const newer = change !== undefined && change.version > job.contact.version ? change : undefined;
  return {
    _id: job.contactId,
    workspaceId: job.workspaceId,
    email: newer ? newer.email : job.contact.email,
    status: newer ? newer.status : 'subscribed',
    attributes: newer?.erased ? {} : (job.contact.attributes ?? {}),
    erasedAt: newer?.erased ? newer.at : null,
  };
}

function carries(j: SendJob): j is SendJob & { contact: NonNullable<SendJob['contact']> } {
  return j.contact?.attributes !== undefined;
}

/**
 * Reads the recipients of many jobs at once. A job that carries its contact (and template data)
 * needs only the contact change log (one query per workspace; a small collection); the others
 * (published before jobs carried it, or with large attributes) a read of their contacts by id.
 * Then a read of the suppressions by id (and, only for jobs published before they carried their
 * variant, of the deliveries). On FerretDB v1 a query other than an exact `{_id}` scans its whole
 * collection, so the change log's read costs per query, not per job (the reads by id choose
 * lookups over a scan when the collection is large: findByIds); reads asked for while one is
 * under way are merged into the next, which lets the partitions a worker serves share them.
 */
export class RecipientReader {
  private queue: Array<{ jobs: SendJob[]; resolve: (s: RecipientSnapshot) => void; reject: (err: unknown) => void }> = [];
  private busy = false;

  constructor(private readonly conn: Connection) {}

  read(jobs: SendJob[]): Promise<RecipientSnapshot> {
    return new Promise((resolve, reject) => {
      this.queue.push({ jobs, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const waiting = this.queue.splice(0);
    this.load(waiting.flatMap((w) => w.jobs))
      .then(
        (s) => waiting.forEach((w) => w.resolve(s)),
        (err: unknown) => waiting.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }

  private async load(jobs: SendJob[]): Promise<RecipientSnapshot> {
    const at = Date.now();
    const contactIds = [...new Set(jobs.filter((j) => !carries(j)).map((j) => j.contactId))];
    const carriedByWorkspace = new Map<string, string[]>();
    for (const j of jobs) if (carries(j)) carriedByWorkspace.set(j.workspaceId, [...(carriedByWorkspace.get(j.workspaceId) ?? []), j.contactId]);
    const legacy = jobs.filter((j) => j.variantId === undefined).map((j) => j.deliveryId);
    const changes = contactChangeModel(this.conn);
    const [read, deliveries, changed] = await Promise.all([
      findByIds(contactModel(this.conn), contactIds),
      findByIds(deliveryModel(this.conn), legacy, { variantId: 1, state: 1 }),
      Promise.all([...carriedByWorkspace].map(([ws, ids]) => latestChanges(changes, ws, ids).then((m) => [ws, m] as const))),
    ]);
    const changeOf = new Map(changed);
    const contactById = new Map<string, SendableContact>(read.map((c) => [c._id, c]));
    for (const j of jobs) if (carries(j)) contactById.set(j.contactId, carriedContact(j, changeOf.get(j.workspaceId)?.get(j.contactId)));
    const contacts = [...contactById.values()];
    const deliveryById = new Map(deliveries.map((d) => [d._id, d]));
    // Suppressions are per workspace: one query per workspace in the batch (almost always one).
    const emailsByWorkspace = new Map<string, string[]>();
    for (const c of contacts) if (!c.erasedAt) emailsByWorkspace.set(c.workspaceId, [...(emailsByWorkspace.get(c.workspaceId) ?? []), c.email]);
    const suppressed = new Set<string>();
    await Promise.all(
      [...emailsByWorkspace].map(async ([ws, emails]) => {
        for (const e of await suppressedAmong(this.conn, ws, emails)) suppressed.add(`${ws}\u001f${e}`);
      }),
    );
    const byDelivery = new Map<string, Recipient>();
    for (const j of jobs) {
      const found = contactById.get(j.contactId);
      const contact = found && found.workspaceId === j.workspaceId ? found : null;
      const d = j.variantId === undefined ? deliveryById.get(j.deliveryId) : undefined;
      byDelivery.set(j.deliveryId, {
        contact,
        suppressed: contact !== null && !contact.erasedAt && suppressed.has(`${j.workspaceId}\u001f${normaliseEmail(contact.email)}`),
        variantId: j.variantId === undefined ? (d?.variantId ?? null) : j.variantId,
        queued: j.variantId === undefined ? d?.state === 'queued' : true,
      });
    }
    return { at, byDelivery };
  }
}

/**
 * The recipients of one fetched batch, split in chunks: read once for the whole batch, and read
 * again, for the chunks that have not taken theirs yet, when a chunk finds the read older than
 * maxAgeMs (a long, rate-limited batch would otherwise check suppressions against old data).
 */
export class BatchRecipients {
  private readonly unread: Set<number>;
  private snapshot: Promise<RecipientSnapshot>;

  constructor(
    private readonly reader: RecipientReader,
    private readonly chunks: SendJob[][],
    private readonly maxAgeMs: number,
  ) {
    this.unread = new Set(chunks.keys());
    this.snapshot = this.read(0);
  }

  private read(from: number): Promise<RecipientSnapshot> {
    const p = this.reader.read(this.chunks.slice(from).flat());
    p.catch(() => undefined); // awaited by the chunks; a batch stopped early must not leave it unhandled
    return p;
  }

  /** The recipients of chunk `i`, at most maxAgeMs old. */
  async of(i: number): Promise<RecipientSnapshot> {
    const current = this.snapshot;
    const s = await current;
    // One re-read for all the chunks that find the same stale snapshot.
    if (Date.now() - s.at > this.maxAgeMs && this.snapshot === current) this.snapshot = this.read(Math.min(...this.unread));
    const got = await this.snapshot;
    this.unread.delete(i);
    return got;
  }

  /** Chunk `i` is finished (or never needed its recipients). */
  done(i: number): void {
    this.unread.delete(i);
  }
}
