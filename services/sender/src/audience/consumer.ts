import { Topics, type SegmentMembershipChanged } from '@payam/contracts';
import { subscribe, type Delivered } from '@payam/kafka';
import type { Component } from '../app';
import { consumerComponent } from '../consumer-component';
import type { SenderContext } from '../context';
import { membershipKey, membershipModel } from './model';

export interface MembershipHooks {
  /** Called for each applied "entered" change (triggered campaigns). */
  onEntered?(change: SegmentMembershipChanged): Promise<void>;
}

/**
 * Projects segment-membership.v1 into segment_memberships. Records of one contact arrive in
 * order (keyed by contactId), so the last applied change wins; a change under an older segment
 * version than the stored one is ignored, and a replay re-applies the same sequence to the
 * same end state (idempotent).
 */
export async function applyMembershipChanges(
  ctx: SenderContext,
  changes: SegmentMembershipChanged[],
  hooks: MembershipHooks = {},
): Promise<void> {
  const model = membershipModel(ctx.conn);
  for (const c of changes) {
    const _id = membershipKey(c.workspaceId, c.segmentId, c.contactId);
    const existing = await model.findById(_id, { version: 1, eventId: 1 }).lean();
    if (existing && existing.version > c.segmentVersion) continue;
    if (!existing || existing.eventId !== c.id) {
      const doc = {
        workspaceId: c.workspaceId,
        segmentId: c.segmentId,
        contactId: c.contactId,
        version: c.segmentVersion,
        member: c.type === 'segment.entered',
        eventId: c.id,
        changedAt: new Date(c.occurredAt),
      };
      if (existing) await model.updateOne({ _id }, { $set: doc });
      else
        await model.collection.insertOne({ _id, ...doc } as never).catch(async (err: { code?: number }) => {
          if (err.code !== 11000) throw err;
          await model.updateOne({ _id }, { $set: doc });
        });
    }
    if (c.type === 'segment.entered' && hooks.onEntered) await hooks.onEntered(c);
  }
}

export function membershipConsumer(ctx: SenderContext, hooks: MembershipHooks = {}): Component {
  return consumerComponent(ctx, 'segment-memberships', 'sender.memberships', [
    subscribe({
      topic: Topics.segmentMembership,
      handleBatch: (records: Array<Delivered<SegmentMembershipChanged>>) =>
        applyMembershipChanges(
          ctx,
          records.map((r) => r.value),
          hooks,
        ),
    }),
  ]);
}
