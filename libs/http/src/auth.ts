import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Permission, Principal } from './route';

export interface ApiKeyResolver {
  /** The principal for a presented key, or null when it is unknown or revoked. */
  resolve(token: string): Promise<Principal | null>;
}

export type AuthResult = { ok: true; principal: Principal | null } | { ok: false; message: string };

function bearer(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Compares the presented secret with the expected one in time independent of where they
 * differ. Hashing both first gives equal-length inputs (timingSafeEqual requires that) without
 * revealing the secret's length through an early return.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export async function authenticate(
  permission: Permission,
  req: Request,
  opts: { apiKeys?: ApiKeyResolver; adminSecret?: string },
): Promise<AuthResult> {
  switch (permission) {
    case 'public':
      return { ok: true, principal: null };
    case 'workspace': {
      const token = bearer(req) ?? req.get('x-api-key')?.trim();
      if (!token) return { ok: false, message: 'missing API key' };
      // createApp refuses workspace routes without a resolver, so this is always set here.
      const principal = await opts.apiKeys!.resolve(token);
      // Unknown and revoked keys get the same answer: which one it was is nobody's business.
      return principal ? { ok: true, principal } : { ok: false, message: 'invalid API key' };
    }
    case 'admin': {
      const token = bearer(req);
      if (!token) return { ok: false, message: 'missing admin credentials' };
      return secretsEqual(token, opts.adminSecret!) ? { ok: true, principal: null } : { ok: false, message: 'invalid admin credentials' };
    }
  }
}
