import { GetAccountCommand, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { SendError, type Messenger, type OutgoingMessage } from './messenger';

export interface SesMessengerOptions {
  endpoint?: string;
  region: string;
  /** Local emulator / tests; production uses the default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Sockets kept open to SES; at least the number of sends in flight. */
  maxSockets?: number;
}

const THROTTLING = new Set(['TooManyRequestsException', 'Throttling', 'ThrottlingException', 'LimitExceededException', 'SendingQuotaExceeded']);
const ACCOUNT = new Set(['AccountSuspendedException', 'SendingPausedException', 'AccountSendingPausedException']);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'TimeoutError', 'RequestTimeout', 'NetworkingError']);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/** SES's answer → how to handle it. Everything SES-specific about errors lives here. */
export function classifySesError(err: unknown): SendError {
  const e = (err ?? {}) as AwsLikeError;
  const name = e.name ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const message = (e.message ?? String(err)).slice(0, 1000);
  if (status === 429 || THROTTLING.has(name) || e.$retryable?.throttling) return new SendError('retryable', name, message, true);
  if (ACCOUNT.has(name)) return new SendError('account', name, message);
  if (name === 'MessageRejected' || name === 'MailFromDomainNotVerifiedException' || name === 'MailFromDomainNotVerified') {
    return new SendError('permanent', name, message);
  }
  if (status !== undefined && status >= 500) return new SendError('retryable', name, message);
  if (NETWORK.has(name) || (e.code !== undefined && NETWORK.has(e.code))) return new SendError('retryable', name, message);
  if (status !== undefined && status >= 400) return new SendError('permanent', name, message);
  // No HTTP answer at all (socket closed, DNS): transient.
  return new SendError('retryable', name, message);
}

/**
 * Takes out of a client's stack what costs CPU on every call and does nothing for us. The SDK's
 * logger middleware runs the command's input through its sensitive-data filter on every send,
 * walking the whole message, even when the client has no logger (it logs to a no-op): 3–7 % of
 * the raw SendEmail loop's CPU here (bench/sender, which times its raw loop with and without it).
 * The sender never gives the SDK a logger; it logs sends and SES errors itself.
 */
export function trimSesClient(client: SESv2Client): SESv2Client {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/** Amazon SES v2 SendEmail with Simple content (so SES builds the MIME) and our headers. */
export class SesMessenger implements Messenger {
  readonly name = 'ses';
  private readonly client: SESv2Client;

  constructor(opts: SesMessengerOptions) {
    const maxSockets = opts.maxSockets ?? 64;
    this.client = trimSesClient(new SESv2Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      // Retries are the send engine's job (it knows about rate and consecutive errors); a hidden
      // SDK retry would also make "how many attempts" invisible.
      maxAttempts: 1,
      // The middleware stack is resolved once per command class instead of on every send (the SDK
      // cloned and sorted it per SendEmail). We never change the stack after construction.
      cacheMiddleware: true,
      requestHandler: {
        httpAgent: new Agent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
        requestTimeout: 30_000,
        connectionTimeout: 5_000,
      },
    }));
  }

  async send(m: OutgoingMessage): Promise<{ messageId: string }> {
    const command = new SendEmailCommand({
      FromEmailAddress: m.from,
      Destination: { ToAddresses: [m.to] },
      ...(m.replyTo.length > 0 ? { ReplyToAddresses: m.replyTo } : {}),
      ...(m.configurationSet ? { ConfigurationSetName: m.configurationSet } : {}),
      EmailTags: Object.entries(m.tags).map(([Name, Value]) => ({ Name, Value })),
      Content: {
        Simple: {
          Subject: { Data: m.subject, Charset: 'UTF-8' },
          Body: { Html: { Data: m.html, Charset: 'UTF-8' }, Text: { Data: m.text, Charset: 'UTF-8' } },
          Headers: m.headers.map((h) => ({ Name: h.name, Value: h.value })),
        },
      },
    });
    let out;
    try {
      out = await this.client.send(command);
    } catch (err) {
      throw classifySesError(err);
    }
    if (!out.MessageId) throw new SendError('retryable', 'NoMessageId', 'SES answered without a MessageId');
    return { messageId: out.MessageId };
  }

  async maxSendRate(): Promise<number | null> {
    try {
      const out = await this.client.send(new GetAccountCommand({}));
      const rate = out.SendQuota?.MaxSendRate;
      return rate !== undefined && rate > 0 ? rate : null;
    } catch {
      return null;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
