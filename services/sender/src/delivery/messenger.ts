/** One message, fully rendered, for one recipient. */
export interface OutgoingMessage {
  from: string;
  to: string;
  replyTo: string[];
  subject: string;
  html: string;
  text: string;
  headers: Array<{ name: string; value: string }>;
  configurationSet: string | null;
  /** Provider tags (SES EmailTags); values must be [A-Za-z0-9_-.@]. */
  tags: Record<string, string>;
}

/**
 * How a failed send is to be handled, decided by the provider's own file:
 * - retryable: throttling or a transient fault; send the same delivery again after a backoff.
 * - permanent: this message will never be accepted (bad address, rejected); the delivery fails.
 * - account: the sending account cannot send at all (suspended, sending paused); the campaign pauses.
 */
export type SendErrorKind = 'retryable' | 'permanent' | 'account';

export class SendError extends Error {
  constructor(
    readonly kind: SendErrorKind,
    /** Provider error name, e.g. "MessageRejected", "TooManyRequestsException". */
    readonly code: string,
    message: string,
    /** True when the provider throttled us (429): the rate limiter should slow down. */
    readonly throttled = false,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

/** The one thing the send engine needs from a provider (listmonk's "messenger"). */
export interface Messenger {
  readonly name: string;
  /** Resolves with the provider's message id, or throws a SendError. */
  send(message: OutgoingMessage): Promise<{ messageId: string }>;
  /** The provider's own sending-rate limit (messages per second), when it can tell. */
  maxSendRate?(): Promise<number | null>;
}
