import { deterministicEventId, Topics, type SegmentMembershipChanged } from '@payam/contracts';
import type { EventPublisher } from '@payam/kafka';
import type { Logger } from '@payam/observability';
import { profileId, type Profile } from '../profiles/profile';
import type { ProfileModel, ProfileStore } from '../profiles/store';
import { loadLiveSegments, type SegmentModel } from '../segments/segment';
import { loadWorkspaceStates, type WorkspaceModel } from '../segments/settings';
import { workspaceView, type MembershipChange, type WorkspaceView } from './engine';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface EvalDeps {
  /** For queries (sweep, listings); reads and writes of profiles go through `store`. */
  profiles: ProfileModel;
  store: ProfileStore;
  segments: SegmentModel;
  workspaces: WorkspaceModel;
  publisher: EventPublisher;
  clock: Clock;
  logger: Logger;
  /** Observed for every published change. */
  onChanges?: (changes: MembershipChange[]) => void;
}

export function membershipEvent(c: MembershipChange): SegmentMembershipChanged {
  return {
    // A replay that reaches the same transition with the same counter gets the same id.
    id: deterministicEventId('segment-membership', c.workspaceId, c.segmentId, c.segmentVersion, c.contactId, c.type, c.counter),
    type: c.type,
    schemaVersion: 1,
    occurredAt: new Date(c.at).toISOString(),
    workspaceId: c.workspaceId,
    contactId: c.contactId,
    segmentId: c.segmentId,
    segmentVersion: c.segmentVersion,
  };
}

export async function publishChanges(deps: EvalDeps, changes: MembershipChange[]): Promise<void> {
  if (changes.length === 0) return;
  await deps.publisher.publish(
    Topics.segmentMembership,
    changes.map((c) => ({ key: c.contactId, value: membershipEvent(c) })),
  );
  deps.onChanges?.(changes);
}

export async function loadViews(
  deps: Pick<EvalDeps, 'segments' | 'workspaces'>,
  workspaceIds: string[],
): Promise<Map<string, WorkspaceView>> {
  const [segs, states] = await Promise.all([
    loadLiveSegments(deps.segments, workspaceIds),
    loadWorkspaceStates(deps.workspaces, workspaceIds),
  ]);
  const out = new Map<string, WorkspaceView>();
  for (const ws of workspaceIds) {
    const st = states.get(ws)!;
    out.set(ws, workspaceView(segs.get(ws) ?? [], st.settings, st.topThresholds));
  }
  return out;
}

/** What a mutation decided for one profile. */
export type Outcome = { changes: MembershipChange[]; write: boolean } | { delete: true; changes: MembershipChange[] };

const MAX_ROUNDS = 8;

/**
 * Holds the profiles (ProfileStore.withProfiles) → load → mutate → publish membership changes
 * (acks=all) → write. Changes are published before the write that records them: a crash in
 * between replays to the same deterministic ids, which consumers drop, whereas the other order
 * could lose a change for good. A profile another process created meanwhile (its insert met an
 * existing one) is re-read from the database and redone.
 */
export async function updateProfiles(
  deps: EvalDeps,
  keys: Array<{ ws: string; cid: string }>,
  mutate: (p: Profile, view: WorkspaceView, now: number) => Outcome,
  views?: Map<string, WorkspaceView>,
  /** Copies the caller read itself, for the first round (see ProfileStore.load). */
  seeds?: Parameters<ProfileStore['load']>[2],
): Promise<void> {
  await deps.store.withProfiles(keys, async () => {
    let pending = keys;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) throw new Error(`profiles kept changing under us: ${pending.length} left`);
      const [profiles, v] = await Promise.all([
        deps.store.load(pending, round > 0, round === 0 ? seeds : undefined),
        views && round === 0 ? views : loadViews(deps, [...new Set(pending.map((k) => k.ws))]),
      ]);
      const now = deps.clock.now();
      const changes: MembershipChange[] = [];
      const writes: Profile[] = [];
      const deletes: Profile[] = [];
      for (const p of profiles.values()) {
        const out = mutate(p, v.get(p.ws)!, now);
        changes.push(...out.changes);
        if ('delete' in out) deletes.push(p);
        else if (out.write) writes.push(p);
      }
      await publishChanges(deps, changes);
      const conflicts = new Set(await deps.store.save(writes));
      for (const p of deletes) await deps.store.delete(p);
      if (conflicts.size > 0) deps.logger.debug({ conflicts: conflicts.size, round }, 'profiles created elsewhere meanwhile, redoing');
      pending = pending.filter((k) => conflicts.has(profileId(k.ws, k.cid)));
    }
  });
}
