// The demo's stand-in for SES → SNS: notifications signed with the PUBLIC demo key that a tracker
// in SNS_DEMO_MODE accepts (services/tracker/demo/README.md). Same string-to-sign as SNS.
import { createSign, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TokenFacts } from './client';

/** Must match services/tracker/src/ses/sns-demo.ts (the demo talks to the tracker over HTTP only). */
export const DEMO_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:payam-demo-ses-events';
export const DEMO_CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-demo0000000000000000000000000000.pem';
const KEY_FILE = path.join(__dirname, '..', '..', 'services', 'tracker', 'demo', 'sns-demo-key.pem');

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];

let keyPem: string | null = null;

export function signedNotification(message: object): Record<string, string> {
  keyPem ??= readFileSync(KEY_FILE, 'utf8');
  const msg: Record<string, string> = {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: DEMO_TOPIC_ARN,
    Message: JSON.stringify(message),
    Timestamp: new Date().toISOString(),
    SigningCertURL: DEMO_CERT_URL,
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${DEMO_TOPIC_ARN}:demo`,
  };
  const text = NOTIFICATION_KEYS.filter((k) => k in msg).map((k) => `${k}\n${msg[k]}\n`).join('');
  const signer = createSign('RSA-SHA256');
  signer.update(text, 'utf8');
  return { ...msg, SignatureVersion: '2', Signature: signer.sign(keyPem, 'base64') };
}

/** The `mail` object SES puts in every event, with the tags the sender set on the message. */
export function sesMail(facts: TokenFacts, recipient: string, sesMessageId: string, sentAt: Date) {
  const tags: Record<string, string[]> = { workspace: [facts.workspaceId], contact: [facts.contactId] };
  if (facts.campaignId) tags.campaign = [facts.campaignId];
  if (facts.deliveryId) tags.delivery = [facts.deliveryId];
  if (facts.variantId) tags.variant = [facts.variantId];
  return { timestamp: sentAt.toISOString(), source: 'news@demo.payam.test', messageId: sesMessageId, destination: [recipient], tags };
}

export function deliveryEvent(mail: ReturnType<typeof sesMail>) {
  return { eventType: 'Delivery', mail, delivery: { timestamp: new Date().toISOString(), recipients: mail.destination, smtpResponse: '250 2.0.0 OK', processingTimeMillis: 640 } };
}

export function hardBounceEvent(mail: ReturnType<typeof sesMail>) {
  return {
    eventType: 'Bounce',
    mail,
    bounce: {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      timestamp: new Date().toISOString(),
      bouncedRecipients: mail.destination.map((emailAddress) => ({ emailAddress, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' })),
    },
  };
}

export function complaintEvent(mail: ReturnType<typeof sesMail>) {
  return {
    eventType: 'Complaint',
    mail,
    complaint: { timestamp: new Date().toISOString(), complaintFeedbackType: 'abuse', complainedRecipients: mail.destination.map((emailAddress) => ({ emailAddress })) },
  };
}
