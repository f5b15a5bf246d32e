import { randomUUID } from 'node:crypto';
import { Schema, type AnyBulkWriteOperation, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '@payam/mongo';
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
  /** Token of the write that produced this revision: tells our write from a racing one. */
  wt: string;
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
    wt: { type: String, default: '' },
    body: { type: String, required: true },
  },
  { collection: 'profiles', versionKey: false, timestamps: false },
);
profileSchema.index({ ws: 1, cid: 1 });
profileSchema.index({ nextCheckAt: 1 });
profileSchema.index({ ws: 1, memberOf: 1, cid: 1 });
profileSchema.index({ ws: 1, ptotal: -1 });

export function profileModel(conn: Connection): ProfileModel {
  return (conn.models.Profile as ProfileModel | undefined) ?? conn.model<ProfileDoc>('Profile', profileSchema);
}

type Body = Omit<Profile, 'ws' | 'cid' | 'known' | 'rev'>;

export function fromDoc(d: ProfileDoc): Profile {
  const body = JSON.parse(d.body) as Body;
  return { ...emptyProfile(d.ws, d.cid), ...body, ws: d.ws, cid: d.cid, known: d.known, rev: d.rev };
}

export function toDoc(p: Profile, rev: number, wt = ''): ProfileDoc {
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
    wt,
    body: JSON.stringify(body),
  };
}

/** Loads profiles by (workspace, contact); missing ones come back empty with rev 0. */
export async function loadProfiles(model: ProfileModel, keys: Array<{ ws: string; cid: string }>): Promise<Map<string, Profile>> {
  const ids = [...new Set(keys.map((k) => profileId(k.ws, k.cid)))];
  const out = new Map<string, Profile>();
  if (ids.length === 0) return out;
  const docs = await model.find(ids.length === 1 ? { _id: ids[0] } : { _id: { $in: ids } }).lean<ProfileDoc[]>();
  for (const d of docs) out.set(d._id, fromDoc(d));
  for (const k of keys) {
    const id = profileId(k.ws, k.cid);
    if (!out.has(id)) out.set(id, emptyProfile(k.ws, k.cid));
  }
  return out;
}

/**
 * Writes profiles, each conditional on the revision it was read at. Returns the ids that lost
 * a race (another writer got there first): the caller reloads and redoes those.
 */
export async function saveProfiles(model: ProfileModel, profiles: Profile[]): Promise<string[]> {
  if (profiles.length === 0) return [];
  const wt = randomUUID();
  const ops: AnyBulkWriteOperation<ProfileDoc>[] = profiles.map((p) => {
    const doc = toDoc(p, p.rev + 1, wt);
    return p.rev === 0 ? { insertOne: { document: doc } } : { replaceOne: { filter: { _id: doc._id, rev: p.rev }, replacement: doc } };
  });
  const conflicts = new Set<string>();
  try {
    const res = await model.bulkWrite(ops, { ordered: false });
    if (res.matchedCount + res.insertedCount === profiles.length) {
      for (const p of profiles) p.rev++;
      return [];
    }
  } catch (err) {
    const writeErrors = (err as { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }).writeErrors;
    if (!isDuplicateKeyError(err) && !(writeErrors && writeErrors.every((w) => (w.code ?? w.err?.code) === 11000))) throw err;
  }
  // Some writes missed: find out which by reading the revisions back.
  const ids = profiles.map((p) => profileId(p.ws, p.cid));
  const stored = await model.find({ _id: { $in: ids } }, { rev: 1, wt: 1 }).lean<Array<{ _id: string; rev: number; wt: string }>>();
  const revs = new Map(stored.map((s) => [s._id, s]));
  for (const p of profiles) {
    const id = profileId(p.ws, p.cid);
    const s = revs.get(id);
    if (s && s.rev === p.rev + 1 && s.wt === wt) p.rev++;
    else conflicts.add(id);
  }
  return [...conflicts];
}

export async function deleteProfile(model: ProfileModel, p: Profile): Promise<boolean> {
  if (p.rev === 0) return true;
  const res = await model.deleteOne({ _id: profileId(p.ws, p.cid), rev: p.rev });
  return res.deletedCount === 1;
}
