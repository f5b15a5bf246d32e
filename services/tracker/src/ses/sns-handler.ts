import { InvalidInputError } from '@payam/errors';
import type { Logger, Metrics } from '@payam/observability';
import type { Classifier } from '../classification/classifier';
import type { EventRecorder } from '../spool/recorder';
import { mapSesNotification } from './ses-events';
import { snsUrlRegion, type SnsVerifier, type SubscriptionConfirmer } from './sns-verifier';

export interface SnsHandlerDeps {
  verifier: SnsVerifier;
  confirmSubscription: SubscriptionConfirmer;
  classifier: Classifier;
  recorder: EventRecorder;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
}

export type SnsOutcome = 'confirmed' | 'unsubscribe_confirmation' | 'recorded' | 'dropped';

/**
 * POST /ses/sns. Nothing in the body is believed before SnsVerifier accepted it (which throws
 * the domain errors the HTTP layer maps to 400/403). A subscription is confirmed only for an
 * allowed topic, by GETting its SubscribeURL, which must itself be https://sns.<region>.amazonaws.com.
 * SES events become email events; a notification that carries no workspace tag (mail we did
 * not send, or sent without tags) is logged and dropped, counted in
 * payam_tracker_ses_dropped_total{reason}, and still answered 200 so SNS does not retry it.
 * A tagged notification whose events fail the email-events schema is answered 400 with the
 * offending fields (counted as reason="invalid_event"), and nothing of it is recorded.
 */
export function createSnsHandler(deps: SnsHandlerDeps) {
  const notifications = deps.metrics.counter<'type'>('tracker_ses_notifications_total', 'Verified SES notifications by SES event type', ['type']);
  const dropped = deps.metrics.counter<'reason'>('tracker_ses_dropped_total', 'Verified SNS notifications that produced no event', ['reason']);
  const now = deps.now ?? (() => new Date());

  return async function handleSns(body: unknown): Promise<SnsOutcome> {
    const msg = await deps.verifier.verify(body);
    switch (msg.Type) {
      case 'SubscriptionConfirmation': {
        // The verifier already required this URL for non-notifications; checked again where used.
        const url = msg.SubscribeURL!;
        if (snsUrlRegion(url) === null) throw new Error('unreachable: unchecked SubscribeURL');
        await deps.confirmSubscription(url);
        deps.logger.info({ topicArn: msg.TopicArn }, 'SNS subscription confirmed');
        return 'confirmed';
      }
      case 'UnsubscribeConfirmation':
        deps.logger.warn({ topicArn: msg.TopicArn }, 'SNS says this endpoint was unsubscribed from the topic');
        return 'unsubscribe_confirmation';
      case 'Notification': {
        const mapped = mapSesNotification(msg.Message, deps.classifier, now());
        if (!mapped.ok) {
          dropped.inc({ reason: mapped.reason });
          deps.logger.warn({ reason: mapped.reason, snsMessageId: msg.MessageId, topicArn: msg.TopicArn }, 'SES notification dropped');
          return 'dropped';
        }
        if (mapped.events.length === 0) {
          dropped.inc({ reason: 'no_recipients' });
          return 'dropped';
        }
        notifications.inc({ type: mapped.events[0]!.type });
        try {
          await deps.recorder.record(mapped.events);
        } catch (err) {
          // SES sent something our event schema refuses (e.g. a recipient longer than 320
          // characters): answered 400 with the fields, which SNS does not retry.
          if (err instanceof InvalidInputError) {
            dropped.inc({ reason: 'invalid_event' });
            deps.logger.warn({ problems: err.problems, snsMessageId: msg.MessageId, topicArn: msg.TopicArn }, 'SES notification refused: its events fail the schema');
          }
          throw err;
        }
        return 'recorded';
      }
    }
  };
}
