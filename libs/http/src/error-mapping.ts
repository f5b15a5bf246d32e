import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
} from '@payam/errors';
import type { ErrorBody } from './error-response';

export interface MappedError {
  status: number;
  code: string;
  message: string;
  details?: ErrorBody['error']['details'];
  headers?: Record<string, string>;
}

/** What body-parser attaches to the errors it raises. */
interface BodyParserError {
  type: string;
  status?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string' && 'expose' in err;
}

/**
 * The one place where errors become HTTP answers. Business code throws domain errors and never
 * chooses a status; anything unknown here (null) is a bug and becomes a 500 whose details stay
 * in the log.
 */
export function mapError(err: unknown): MappedError | null {
  if (err instanceof DomainError) return mapDomainError(err);
  if (isBodyParserError(err)) return mapBodyParserError(err);
  if (isBadPathEncoding(err)) return { status: 400, code: 'bad_request', message: 'malformed URL encoding' };
  if (isStoreUnavailable(err)) {
    return { status: 503, code: 'unavailable', message: 'the database did not answer in time; try again', headers: { 'Retry-After': '5' } };
  }
  return null;
}

/**
 * The MongoDB driver's timeouts and lost connections: the service is overloaded or its database
 * is away, which is no bug of the request. Matched by name, so this lib needs no driver.
 */
function isStoreUnavailable(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^Mongo(NetworkTimeout|NetworkError|ServerSelection|PoolCleared)Error$/.test(name);
}

/**
 * The router decodes path parameters and raises a URIError marked 400 for broken
 * percent-encoding (e.g. /c/%E0%A4%A): the client's fault, not a bug.
 */
function isBadPathEncoding(err: unknown): boolean {
  return err instanceof URIError && (err as { status?: number }).status === 400;
}

function mapDomainError(err: DomainError): MappedError {
  if (err instanceof NotFoundError) return { status: 404, code: err.code, message: err.message };
  if (err instanceof ConflictError) {
    return { status: 409, code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  }
  if (err instanceof InvalidInputError) {
    // The same code and shape as schema validation: a client handles "these fields are wrong"
    // one way, whether the schema or a business rule found it.
    return { status: 400, code: 'validation_failed', message: err.message, details: err.problems };
  }
  if (err instanceof UnauthorizedError) {
    return { status: 401, code: err.code, message: err.message, headers: { 'WWW-Authenticate': 'Bearer' } };
  }
  if (err instanceof ForbiddenError) return { status: 403, code: err.code, message: err.message };
  if (err instanceof RateLimitedError) {
    const headers = err.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(err.retryAfterSeconds) };
    return { status: 429, code: err.code, message: err.message, ...(headers ? { headers } : {}) };
  }
  // A DomainError with a code of its own: a business rule refused the request.
  return { status: 400, code: err.code, message: err.message };
}

function mapBodyParserError(err: BodyParserError): MappedError | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return { status: 400, code: 'invalid_json', message: 'request body is not valid JSON' };
    case 'entity.too.large':
      return { status: 413, code: 'payload_too_large', message: 'request body is too large' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'unsupported_media_type', message: 'unsupported body encoding or charset' };
    case 'request.aborted':
    case 'request.size.invalid':
      return { status: 400, code: 'bad_request', message: 'request body was incomplete' };
    default:
      return err.status !== undefined && err.status >= 400 && err.status < 500
        ? { status: err.status, code: 'bad_request', message: 'bad request body' }
        : null;
  }
}
