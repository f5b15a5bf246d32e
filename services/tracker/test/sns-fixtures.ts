import { execFileSync } from 'node:child_process';
import { createSign, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-events';
export const CERT_URL = `https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-${'a'.repeat(32)}.pem`;

export interface TestSigningKey {
  keyPem: string;
  certPem: string;
}

/** An RSA key and a self-signed certificate, made by openssl like AWS's (but ours). */
export function makeSigningKey(): TestSigningKey {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sns-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore' });
  return { keyPem: readFileSync(path.join(dir, 'key.pem'), 'utf8'), certPem: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
}

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const SUBSCRIPTION_KEYS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];

/** Signs an SNS message the way SNS does (the documented string to sign; SHA1 for v1, SHA256 for v2). */
export function signSns(msg: Record<string, string>, key: TestSigningKey, version: '1' | '2'): Record<string, string> {
  const keys = msg.Type === 'Notification' ? NOTIFICATION_KEYS : SUBSCRIPTION_KEYS;
  const text = keys.filter((k) => k in msg).map((k) => `${k}\n${msg[k]}\n`).join('');
  const signer = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  signer.update(text, 'utf8');
  return { ...msg, SignatureVersion: version, Signature: signer.sign(key.keyPem, 'base64') };
}

export function notification(message: object, key: TestSigningKey, opts: { version?: '1' | '2'; topic?: string; certUrl?: string; messageId?: string } = {}): Record<string, string> {
  return signSns(
    {
      Type: 'Notification',
      MessageId: opts.messageId ?? randomUUID(),
      TopicArn: opts.topic ?? TOPIC,
      Message: JSON.stringify(message),
      Timestamp: new Date().toISOString(),
      SigningCertURL: opts.certUrl ?? CERT_URL,
      UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:x`,
    },
    key,
    opts.version ?? '1',
  );
}

export function subscriptionConfirmation(key: TestSigningKey, opts: { topic?: string; subscribeUrl?: string } = {}): Record<string, string> {
  const topic = opts.topic ?? TOPIC;
  return signSns(
    {
      Type: 'SubscriptionConfirmation',
      MessageId: randomUUID(),
      Token: randomBytes(32).toString('hex'),
      TopicArn: topic,
      Message: `You have chosen to subscribe to the topic ${topic}.`,
      SubscribeURL: opts.subscribeUrl ?? `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=abc`,
      Timestamp: new Date().toISOString(),
      SigningCertURL: CERT_URL,
    },
    key,
    '2',
  );
}

export function sesMail(tags: Record<string, string>, destination = ['rcpt@example.com']) {
  return {
    timestamp: new Date(Date.now() - 60_000).toISOString(),
    source: 'news@payam.test',
    messageId: `0102018${randomBytes(12).toString('hex')}-000000`,
    destination,
    tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, [v]])),
  };
}
