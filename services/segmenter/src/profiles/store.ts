import { Schema, type Connection, type Model } from 'mongoose';
import { insertNew } from '@payam/mongo';
import { KeyedLock } from './keyed-lock';
import { emptyProfile, membersOf, nextCheckOf, profileId, type Profile } from './profile';

/**
 * Profiles are stored as a few indexed top-level fields plus the rest as one JSON string: the
 * folded maps have keys with dots ("email.opened") that MongoDB field names should not carry,
 * and one string is much cheaper for FerretDB to store and return than a deep document.
 */
export interface ProfileDoc {
  _id: string;
  ws: string;
  cid: string;
  known: boolean;
  rev: number;
  /** Earliest SegState.n: the sweep's index. */
  nextCheckAt: number | null;
  /** Segments the contact is in: the members listing's index. */
  memberOf: string[];
  /** Lifetime spend, for the "top N%" thresholds. */
  ptotal: number;
  body: string;
}

export type ProfileModel = Model<ProfileDoc>;

const profileSchema = new Schema<ProfileDoc>(
  {
    _id: { type: String, required: true },
    ws: { type: String, required: true },
    cid: { type: String, required: true },
    known: { type: Boolean, required: true },
    rev: { type: Number, required: true },
    nextCheckAt: { type: Number, default: null },
    memberOf: { type: [String], default: [] },
    ptotal: { type: Number, default: 0 },
    body: { type: String, required: true },
  },
  { collection: 'profiles', versionKey: false, timestamps: false },
);
profileSchema.index({ ws: 1, cid: 1 });
profileSchema.index({ nextCheckAt: 1 });
profileSchema.index({ ws: 1, memberOf: 1, cid: 1 });
profileSchema.index({ ws: 1, ptotal: -1 });

/**
 * Profiles of a bulk replace in flight (see ProfileStore.replaceMany): empty except between the
 * steps of one, so reading it costs nothing; a crash in the middle leaves the new versions here.
 */
export interface ProfileJournalDoc {
  _id: string;
  doc: ProfileDoc;
}

export type ProfileJournalModel = Model<ProfileJournalDoc>;

export function profileJournalModel(conn: Connection): ProfileJournalModel {
  return (
    (conn.models.ProfileJournal as ProfileJournalModel | undefined) ??
    conn.model<ProfileJournalDoc>(
      'ProfileJournal',
      new Schema<ProfileJournalDoc>(
        { _id: { type: String, required: true }, doc: { type: Object, required: true } },
        { collection: 'profile_journal', versionKey: false },
      ),
    )
  );
}

export function profileModel(conn: Connection): ProfileModel {
  return (conn.models.Profile as ProfileModel | undefined) ?? conn.model<ProfileDoc>('Profile', profileSchema);
}

type Body = Omit<Profile, 'ws' | 'cid' | 'known' | 'rev'>;

export function fromDoc(d: ProfileDoc): Profile {
  const body = JSON.parse(d.body) as Body;
  return { ...emptyProfile(d.ws, d.cid), ...body, ws: d.ws, cid: d.cid, known: d.known, rev: d.rev };
}

export function toDoc(p: Profile, rev: number): ProfileDoc {
  const { ws, cid, known, rev: _rev, ...body } = p;
  return {
    _id: profileId(ws, cid),
    ws,
    cid,
    known,
    rev,
    nextCheckAt: nextCheckOf(p),
    memberOf: membersOf(p),
    ptotal: p.purchases.total,
    body: JSON.stringify(body),
  };
}

export interface ProfileStoreOptions {
  /** Profiles kept in memory after a read or write (least recently used go first). */
  cacheSize?: number;
  /** Writes in flight at once (FerretDB's SQLite has one writer: more only queue there). */
  writeConcurrency?: number;
}

/** Above this many cache misses one `$in` read (one collection pass) beats reads by _id. */
const MISSES_FOR_ONE_PASS = 8;
/** From this many replaces on, one journalled delete + insert beats a replace per profile. */
const REPLACES_FOR_BULK = 24;

/**
 * Reads and writes profiles for the evaluation paths, with three properties they rely on:
 *
 * - One writer per profile: `withProfiles` serialises everything that touches a profile in
 *   this process (the three input topics, the sweep, a recompute), and the consumer group
 *   gives each contact's records to one process. So a write is a plain replace by _id with
 *   no revision condition. FerretDB (the local MongoDB) can only use its _id lookup when the
 *   filter is exactly {_id}; a {_id, rev} condition decodes the whole collection per write
 *   (~130 ms at 5,000 profiles, linear), and is not atomic there anyway.
 * - One command per write: FerretDB keeps every update of a multi-update command open until
 *   the command ends, so a bulkWrite of a few hundred replaces exhausted its connection pool
 *   and stalled the segmenter for minutes (measured: 100 replaces > 5 min). Inserts may batch.
 * - A write-through cache: the profiles this process wrote or read last are served from
 *   memory, so a busy contact costs one write per batch and no read. It stays right because
 *   this process is the only writer of the profiles it handles; a profile created elsewhere
 *   shows up as a duplicate insert, which the caller treats as a conflict and re-reads.
 * - Many replaces at once (a recompute, a busy batch) are one delete command (a statement per
 *   _id) and one `insertMany`, journalled so a crash between them loses nothing:
 *   the new versions are written to profile_journal first and removed last, and a profile
 *   found missing is looked up there (by its owner, under the lock) and restored.
 */
export class ProfileStore {
  private readonly cache = new Map<string, ProfileDoc>();
  private readonly lock = new KeyedLock();
  private readonly trackers = new Set<WriteTracker>();
  private readonly cacheSize: number;
  private readonly writeConcurrency: number;

  constructor(
    readonly model: ProfileModel,
    private readonly journal: ProfileJournalModel,
    opts: ProfileStoreOptions = {},
  ) {
    this.cacheSize = opts.cacheSize ?? 100_000;
    this.writeConcurrency = Math.max(1, opts.writeConcurrency ?? 2);
  }

  static on(conn: Connection, opts: ProfileStoreOptions = {}): ProfileStore {
    return new ProfileStore(profileModel(conn), profileJournalModel(conn), opts);
  }

  /** Runs fn while holding these profiles (see the class comment). */
  withProfiles<T>(keys: Array<{ ws: string; cid: string }>, fn: () => Promise<T>): Promise<T> {
    return this.lock.run(
      keys.map((k) => profileId(k.ws, k.cid)),
      fn,
    );
  }

  /**
   * Loads profiles by (workspace, contact); missing ones come back empty with rev 0. `fresh`
   * bypasses the cache. `seeds` are copies the caller read itself (a recompute's cursor), used
   * on a cache miss instead of reading again, unless `written` says this process wrote the
   * profile since the copy was read.
   */
  async load(
    keys: Array<{ ws: string; cid: string }>,
    fresh = false,
    seeds?: { docs: ReadonlyMap<string, ProfileDoc>; written: WriteTracker },
  ): Promise<Map<string, Profile>> {
    const out = new Map<string, Profile>();
    const missing: string[] = [];
    for (const id of new Set(keys.map((k) => profileId(k.ws, k.cid)))) {
      const hit = fresh ? undefined : this.cache.get(id);
      const seed = hit || fresh || !seeds || seeds.written.has(id) ? undefined : seeds.docs.get(id);
      if (hit) out.set(id, fromDoc(hit));
      else if (seed) {
        this.remember(seed);
        out.set(id, fromDoc(seed));
      } else missing.push(id);
    }
    if (missing.length > 0) {
      const docs =
        missing.length > MISSES_FOR_ONE_PASS
          ? await this.model.find({ _id: { $in: missing } }).lean<ProfileDoc[]>()
          : (await Promise.all(missing.map((id) => this.model.findOne({ _id: id }).lean<ProfileDoc>()))).filter(
              (d): d is ProfileDoc => d !== null,
            );
      const found = new Set(docs.map((d) => d._id));
      const lost = missing.filter((id) => !found.has(id));
      if (lost.length > 0) docs.push(...(await this.restoreFromJournal(lost)));
      for (const d of docs) {
        this.remember(d);
        out.set(d._id, fromDoc(d));
      }
    }
    for (const k of keys) {
      const id = profileId(k.ws, k.cid);
      if (!out.has(id)) out.set(id, emptyProfile(k.ws, k.cid));
    }
    return out;
  }

  /**
   * Records the ids of every profile this store writes or deletes from now until `stop()`: a
   * caller holding copies read earlier (a recompute's cursor) learns which are out of date.
   */
  trackWrites(): WriteTracker {
    const tracker = new WriteTracker(() => this.trackers.delete(tracker));
    this.trackers.add(tracker);
    return tracker;
  }

  private written(ids: Iterable<string>): void {
    if (this.trackers.size === 0) return;
    for (const id of ids) for (const t of this.trackers) t.add(id);
  }

  /**
   * Writes profiles (callers hold them with withProfiles). New ones are inserted together;
   * an insert that meets an existing profile (created by another process) is returned as a
   * conflict for the caller to re-read and redo. Existing ones are replaced one by one.
   */
  async save(profiles: Profile[]): Promise<string[]> {
    // Marked before the writes: a copy read while one is in flight must not be trusted either.
    this.written(profiles.map((p) => profileId(p.ws, p.cid)));
    const fresh = profiles.filter((p) => p.rev === 0);
    const known = profiles.filter((p) => p.rev > 0);
    const conflicts: string[] = [];
    if (fresh.length > 0) {
      const docs = fresh.map((p) => toDoc(p, 1));
      const inserted = await insertNew(this.model.collection, docs);
      fresh.forEach((p, i) => {
        if (!inserted.has(i)) {
          conflicts.push(docs[i]!._id);
          this.cache.delete(docs[i]!._id);
        } else {
          p.rev = 1;
          this.remember(docs[i]!);
        }
      });
    }
    if (known.length >= REPLACES_FOR_BULK) {
      const docs = known.map((p) => toDoc(p, p.rev + 1));
      await this.replaceMany(docs);
      known.forEach((p, i) => {
        p.rev++;
        this.remember(docs[i]!);
      });
      return conflicts;
    }
    await inParallel(known, this.writeConcurrency, async (p) => {
      const doc = toDoc(p, p.rev + 1);
      try {
        await this.model.replaceOne({ _id: doc._id }, doc);
      } catch (err) {
        this.cache.delete(doc._id);
        throw err;
      }
      p.rev++;
      this.remember(doc);
    });
    return conflicts;
  }

  async delete(p: Profile): Promise<void> {
    const id = profileId(p.ws, p.cid);
    this.written([id]);
    this.cache.delete(id);
    if (p.rev > 0) await this.model.deleteOne({ _id: id });
    // An erased contact must not come back from a crashed bulk replace.
    await this.journal.deleteOne({ _id: id });
  }

  /** Journal → delete the old versions → insert the new → clear the journal (see the class comment). */
  private async replaceMany(docs: ProfileDoc[]): Promise<void> {
    const ids = docs.map((d) => d._id);
    try {
      await this.journal.deleteMany({ _id: { $in: ids } });
      await this.journal.collection.insertMany(docs.map((doc) => ({ _id: doc._id, doc })) as never[]);
      // One delete statement per _id in one command, not a deleteMany by $in: FerretDB answers
      // an exact {_id} from the stack's index, while an $in is matched in Go over the whole
      // collection (2,000 ids at 100,000 profiles: 0.56 s against 6.7 s).
      await this.model.bulkWrite(
        ids.map((_id) => ({ deleteOne: { filter: { _id } } })),
        { ordered: false },
      );
      await this.model.collection.insertMany(docs as never[], { ordered: false });
      await this.journal.deleteMany({ _id: { $in: ids } });
    } catch (err) {
      for (const id of ids) this.cache.delete(id);
      throw err;
    }
  }

  /** Profiles a crashed bulk replace left only in the journal: put back, then cleared. */
  private async restoreFromJournal(ids: string[]): Promise<ProfileDoc[]> {
    const entries = await this.journal.find({ _id: { $in: ids } }).lean<ProfileJournalDoc[]>();
    if (entries.length === 0) return [];
    await insertNew(
      this.model.collection,
      entries.map((e) => e.doc),
    );
    await this.journal.deleteMany({ _id: { $in: entries.map((e) => e._id) } });
    return entries.map((e) => e.doc);
  }

  /**
   * Empties the cache: called when the group's assignment changes, because a profile this
   * process held may have been written by another process while it held the partition.
   */
  forget(): void {
    this.cache.clear();
  }

  private remember(d: ProfileDoc): void {
    this.cache.delete(d._id);
    this.cache.set(d._id, d);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** See ProfileStore.trackWrites. */
export class WriteTracker {
  private readonly ids = new Set<string>();

  constructor(private readonly onStop: () => void) {}

  add(id: string): void {
    this.ids.add(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Every id recorded so far. */
  list(): string[] {
    return [...this.ids];
  }

  stop(): void {
    this.onStop();
    this.ids.clear();
  }
}

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}
