import { TOMBSTONE_WORKSPACE_HEADER, Topics, type ContactSnapshot, type TopicSpec } from '@payam/contracts';
import { subscribe, type Delivered, type RecordMeta, type Subscription } from '@payam/kafka';
import { profileId } from '../profiles/profile';
import { applyEvent, applySnapshot, type ProfileEvent, type ReducerLimits, DEFAULT_LIMITS } from '../profiles/reducer';
import { ANY, eventDepKeys, SNAPSHOT } from '../rules/deps';
import { evaluateProfile, type MembershipChange } from './engine';
import { updateProfiles, type EvalDeps } from './processor';

type Item = { kind: 'event'; value: ProfileEvent; meta: RecordMeta } | { kind: 'snapshot'; value: ContactSnapshot; meta: RecordMeta };

export interface IncrementalOptions {
  limits?: ReducerLimits;
  /** Observed per applied batch: (events applied, event timestamps) for metrics and the benchmark. */
  onApplied?: (applied: number, changes: MembershipChange[]) => void;
}

/**
 * One fetched batch: group by contact, load the profiles at once, fold the new records in
 * (replays are skipped by the offset watermark and the recent ids), re-evaluate only the
 * segments the folded records can affect, publish the changes, write the profiles in one bulk
 * write. libs/kafka commits the offsets after this returns.
 */
export async function applyBatch(deps: EvalDeps, items: Item[], opts: IncrementalOptions = {}): Promise<void> {
  const byProfile = new Map<string, Item[]>();
  const keys: Array<{ ws: string; cid: string }> = [];
  for (const it of items) {
    const id = profileId(it.value.workspaceId, it.value.contactId);
    let list = byProfile.get(id);
    if (!list) {
      byProfile.set(id, (list = []));
      keys.push({ ws: it.value.workspaceId, cid: it.value.contactId });
    }
    list.push(it);
  }
  let applied = 0;
  const all: MembershipChange[] = [];
  await updateProfiles(deps, keys, (p, view, now) => {
    const wasKnown = p.known;
    const touched = new Set<string>();
    let write = false;
    for (const it of byProfile.get(profileId(p.ws, p.cid)) ?? []) {
      const origin = { topic: it.meta.topic, partition: it.meta.partition, offset: it.meta.offset };
      if (it.kind === 'snapshot') {
        if (applySnapshot(p, it.value)) {
          touched.add(SNAPSHOT).add(ANY);
          write = true;
        }
      } else if (applyEvent(p, it.value, now, origin, opts.limits ?? DEFAULT_LIMITS)) {
        for (const k of eventDepKeys(it.value.type, it.value.type === 'contact.custom' ? it.value.name : undefined)) touched.add(k);
        write = true;
        applied++;
      }
    }
    if (!write) return { changes: [], write: false };
    const changes = evaluateProfile(p, view, !wasKnown && p.known ? { kind: 'all' } : { kind: 'touching', keys: [...touched] }, now);
    all.push(...changes);
    return { changes, write: true };
  });
  opts.onApplied?.(applied, all);
}

/** A tombstone erases the profile; its memberships are exited (published) first. */
export async function applyTombstone(deps: EvalDeps, ws: string, cid: string): Promise<void> {
  await updateProfiles(deps, [{ ws, cid }], (p, view, now) => {
    if (p.rev === 0) return { changes: [], write: false };
    p.known = false;
    const changes = evaluateProfile(p, { ...view, segments: [] }, { kind: 'all' }, now);
    return { delete: true, changes };
  });
}

export interface TopicNames {
  contacts: TopicSpec;
  emailEvents: TopicSpec;
  contactEvents: TopicSpec;
}

export const DEFAULT_TOPICS: TopicNames = {
  contacts: Topics.contacts,
  emailEvents: Topics.emailEvents,
  contactEvents: Topics.contactEvents,
};

export function incrementalSubscriptions(deps: EvalDeps, topics: TopicNames, opts: IncrementalOptions = {}): Subscription[] {
  const events = (records: Array<Delivered<ProfileEvent>>) =>
    applyBatch(
      deps,
      records.map((r) => ({ kind: 'event', value: r.value, meta: r.meta })),
      opts,
    );
  return [
    subscribe({
      topic: topics.contacts as typeof Topics.contacts,
      handleBatch: (records) =>
        applyBatch(
          deps,
          records.map((r) => ({ kind: 'snapshot', value: r.value, meta: r.meta })),
          opts,
        ),
      onTombstone: async (key, meta) => {
        const ws = meta.headers[TOMBSTONE_WORKSPACE_HEADER];
        if (ws === undefined) {
          deps.logger.warn({ key, offset: meta.offset }, 'contacts.v1 tombstone without a workspace header: ignored');
          return;
        }
        await applyTombstone(deps, String(ws), key);
      },
    }),
    subscribe({ topic: topics.emailEvents as typeof Topics.emailEvents, handleBatch: events }),
    subscribe({ topic: topics.contactEvents as typeof Topics.contactEvents, handleBatch: events }),
  ];
}
