import { formatProblems, type FieldProblem } from '@payam/contracts';

/**
 * Base of every error that business code throws on purpose. Business code never knows HTTP:
 * it says *what* went wrong (`code`), and the HTTP layer decides the status in one place.
 * Anything that is not a DomainError is a bug and is answered as a 500.
 */
export class DomainError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    // `new.target.name` keeps the subclass name in stack traces and logs.
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  readonly entity: string;
  readonly id: string | undefined;

  constructor(entity: string, id?: string) {
    super('not_found', id === undefined ? `${entity} not found` : `${entity} ${id} not found`);
    this.entity = entity;
    this.id = id;
  }
}

/** The request is valid but clashes with the current state, e.g. `{ currentState: 'paused' }`. */
export class ConflictError extends DomainError {
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, details?: Record<string, unknown>) {
    super('conflict', message);
    this.details = details;
  }
}

/** Input that passed schema validation but breaks a business rule, reported per field. */
export class InvalidInputError extends DomainError {
  readonly problems: FieldProblem[];

  constructor(problems: FieldProblem[]) {
    super('invalid_input', formatProblems(problems) || 'invalid input');
    this.problems = problems;
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'authentication required') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'forbidden') {
    super('forbidden', message);
  }
}

export class RateLimitedError extends DomainError {
  /** Whole seconds the caller should wait; becomes the Retry-After header. */
  readonly retryAfterSeconds: number | undefined;

  constructor(retryAfterSeconds?: number, message = 'rate limit exceeded') {
    super('rate_limited', message);
    this.retryAfterSeconds = retryAfterSeconds === undefined ? undefined : Math.max(0, Math.ceil(retryAfterSeconds));
  }
}
