import { ConflictError, DomainError, ForbiddenError, InvalidInputError, NotFoundError, RateLimitedError, UnauthorizedError } from '../src';

describe('domain errors', () => {
  it('carry a code, a name and are DomainErrors and Errors', () => {
    const cases: Array<[DomainError, string, string]> = [
      [new NotFoundError('campaign', 'c1'), 'not_found', 'NotFoundError'],
      [new ConflictError('campaign is paused'), 'conflict', 'ConflictError'],
      [new InvalidInputError([{ path: 'email', message: 'taken' }]), 'invalid_input', 'InvalidInputError'],
      [new UnauthorizedError(), 'unauthorized', 'UnauthorizedError'],
      [new ForbiddenError(), 'forbidden', 'ForbiddenError'],
      [new RateLimitedError(3), 'rate_limited', 'RateLimitedError'],
    ];
    for (const [err, code, name] of cases) {
      expect(err).toBeInstanceOf(DomainError);
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe(code);
      expect(err.name).toBe(name);
      expect(err.stack).toContain(name);
    }
  });

  it('NotFoundError names the entity and the id when given', () => {
    expect(new NotFoundError('contact', 'abc').message).toBe('contact abc not found');
    expect(new NotFoundError('contact').message).toBe('contact not found');
    expect(new NotFoundError('contact', 'abc').id).toBe('abc');
  });

  it('ConflictError keeps its details', () => {
    const err = new ConflictError('cannot send', { currentState: 'paused' });
    expect(err.details).toEqual({ currentState: 'paused' });
    expect(new ConflictError('x').details).toBeUndefined();
  });

  it('InvalidInputError keeps the problems and summarises them in the message', () => {
    const err = new InvalidInputError([
      { path: 'email', message: 'already used' },
      { path: '', message: 'too many' },
    ]);
    expect(err.problems).toHaveLength(2);
    expect(err.message).toBe('email: already used; too many');
  });

  it('RateLimitedError rounds Retry-After up to whole seconds', () => {
    expect(new RateLimitedError(1.2).retryAfterSeconds).toBe(2);
    expect(new RateLimitedError().retryAfterSeconds).toBeUndefined();
  });
});
