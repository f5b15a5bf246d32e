import { Topics, type SegmentMembershipChanged } from '@payam/contracts';
import { subscribe, type Delivered, type RecordMeta } from '@payam/kafka';
import { insertNew } from '@payam/mongo';
import type { Component } from '../app';
import { consumerComponent } from '../consumer-component';
import type { SenderContext } from '../context';
import { membershipModel } from './model';

export interface MembershipHooks {
  /** Called for each applied "entered" change (triggered campaigns). */
  onEntered?(change: SegmentMembershipChanged): Promise<void>;
}

/**
 * Projects segment-membership.v1 into the insert-only change log (see audience/model.ts): the
 * trigger hook for each "entered" change, then one insert of the batch's changes (duplicates
 * from a replay ignored). A change is logged only after its trigger ran, and a crash in between
 * replays both: the hook is idempotent (deliveries are unique per campaign and contact). An
 * exclusion-segment exit in the same batch is seen by the hook only on the next batch, which
 * errs on the side of not sending.
 */
export async function applyMembershipChanges(
  ctx: SenderContext,
  records: Array<{ value: SegmentMembershipChanged; meta: Pick<RecordMeta, 'offset'> }>,
  hooks: MembershipHooks = {},
): Promise<void> {
  if (hooks.onEntered) for (const { value: c } of records) if (c.type === 'segment.entered') await hooks.onEntered(c);
  await insertNew(
    membershipModel(ctx.conn).collection,
    records.map(({ value: c, meta }) => ({
      _id: c.id,
      workspaceId: c.workspaceId,
      segmentId: c.segmentId,
      contactId: c.contactId,
      version: c.segmentVersion,
      member: c.type === 'segment.entered',
      changedAt: new Date(c.occurredAt),
      offset: Number(meta.offset),
    })),
  );
}

export function membershipConsumer(ctx: SenderContext, hooks: MembershipHooks = {}): Component {
  return consumerComponent(ctx, 'segment-memberships', 'sender.memberships', [
    subscribe({
      topic: Topics.segmentMembership,
      handleBatch: (records: Array<Delivered<SegmentMembershipChanged>>) => applyMembershipChanges(ctx, records, hooks),
    }),
  ]);
}
