import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@payam/observability';
import type { CertificateFetcher, SnsMessage } from './sns-verifier';

/*
 * SNS demo mode (SNS_DEMO_MODE=true, never with NODE_ENV=production): `npm run demo` posts SES
 * bounces and complaints signed with the public key in services/tracker/demo/. The verifier is
 * unchanged: the demo adds one certificate, served for one fixed certificate URL that passes the
 * usual host and path checks, and one topic to the allow list. Every other check still applies.
 */
export const DEMO_SNS_REGION = 'us-east-1';
export const DEMO_SNS_TOPIC_ARN = `arn:aws:sns:${DEMO_SNS_REGION}:000000000000:payam-demo-ses-events`;
export const DEMO_SNS_CERT_URL = `https://sns.${DEMO_SNS_REGION}.amazonaws.com/SimpleNotificationService-demo0000000000000000000000000000.pem`;
export const DEMO_SNS_CERT_FILE = path.join(__dirname, '..', '..', 'demo', 'sns-demo-cert.pem');

/** Serves the demo certificate for the demo URL and leaves every other URL to `inner`. */
export function demoCertificateFetcher(inner: CertificateFetcher, certPem = readFileSync(DEMO_SNS_CERT_FILE, 'utf8')): CertificateFetcher {
  return (url) => (url === DEMO_SNS_CERT_URL ? Promise.resolve(certPem) : inner(url));
}

export const DEMO_MODE_WARNING = 'SNS_DEMO_MODE is on: SNS messages signed with the PUBLIC demo key are accepted. Demo and development only; never in production';

/** Wraps a verify function so each accepted demo message is logged as a warning. */
export function warnOnDemoMessages<A extends unknown[]>(verify: (...args: A) => Promise<SnsMessage>, logger: Logger): (...args: A) => Promise<SnsMessage> {
  return async (...args) => {
    const msg = await verify(...args);
    if (msg.SigningCertURL === DEMO_SNS_CERT_URL) {
      logger.warn({ snsMessageId: msg.MessageId, topicArn: msg.TopicArn }, 'accepted an SNS message signed with the PUBLIC demo key (SNS_DEMO_MODE)');
    }
    return msg;
  };
}
