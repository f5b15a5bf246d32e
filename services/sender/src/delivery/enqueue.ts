import { deterministicEventId, Topics, type SendJob } from '@payam/contracts';
import type { EventPublisher } from '@payam/kafka';
import type { DeliveryDoc } from './model';

/**
 * One send job per queued delivery to send-jobs.v1, keyed by contact. The job id is fixed per
 * delivery and round, so publishing the same round twice is a no-op for any consumer that
 * de-duplicates; the worker's claim makes any extra copy harmless anyway. The job carries the
 * delivery's variant so the worker needs no read of the delivery (a collection scan on FerretDB),
 * and, when given, the recipient as resolved so it needs no read of the contact either.
 */
export async function publishSendJobs(
  publisher: EventPublisher,
  deliveries: Array<Pick<DeliveryDoc, '_id' | 'workspaceId' | 'campaignId' | 'contactId' | 'phase' | 'variantId'> & { contact?: SendJob['contact'] }>,
  round = 0,
): Promise<void> {
  if (deliveries.length === 0) return;
  const now = new Date().toISOString();
  await publisher.publish(
    Topics.sendJobs,
    deliveries.map((d) => ({
      key: d.contactId,
      value: {
        id: deterministicEventId('send.job', d._id, round),
        type: 'send.job' as const,
        schemaVersion: 1 as const,
        occurredAt: now,
        workspaceId: d.workspaceId,
        contactId: d.contactId,
        campaignId: d.campaignId,
        deliveryId: d._id,
        phase: d.phase,
        variantId: d.variantId,
        ...(d.contact ? { contact: d.contact } : {}),
      },
    })),
  );
}
