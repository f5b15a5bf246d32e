import type { Request, Response } from 'express';
import type { ZodType } from 'zod';
import type { Logger } from '@payam/observability';

/**
 * Who may call a route. Declared beside the route itself (listmonk style), so reading the one
 * route list tells you the whole access policy of a service.
 * - public: anyone (tracking endpoints, SNS webhook; those verify their own signatures)
 * - workspace: a workspace API key (Authorization: Bearer <key> or X-Api-Key)
 * - admin: the operator secret (Authorization: Bearer <ADMIN_SECRET>)
 */
export type Permission = 'public' | 'workspace' | 'admin';

/** The authenticated workspace behind a request, on 'workspace' routes. */
export interface Principal {
  workspaceId: string;
  keyId: string;
}

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Set on 'workspace' routes; null on 'public' and 'admin' routes. */
  principal: Principal | null;
  req: Request;
  res: Response;
  /** Child logger carrying the request id. */
  log: Logger;
}

/**
 * One route. `params`, `query` and `body` are validated before the handler runs and their
 * parsed values (with defaults and coercions applied) reach the handler; without a schema the
 * handler gets Express's raw strings. The request body is parsed only for routes that declare
 * `body` (use `z.unknown()` to take any JSON), so a route that expects none never pays for it.
 */
// `any` defaults let a list of differently typed routes be one RouteDef[].
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface RouteDef<P = any, Q = any, B = any> {
  method: HttpMethod;
  /** Express path pattern, e.g. "/campaigns/:campaignId"; it is also the `route` metric label. */
  path: string;
  permission: Permission;
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  handler: (ctx: RouteContext<P, Q, B>) => Promise<unknown> | unknown;
  /** One line for the API documentation (/openapi.json, /docs). */
  summary?: string;
  /** Longer documentation text (CommonMark in OpenAPI; shown as plain text on /docs). */
  description?: string;
  /** Groups on /docs; default: the first segment of the path. */
  tags?: string[];
  /**
   * Documented answers by status. A declared 2xx replaces the default (200, or 204 for delete);
   * the standard error answers are listed unless declared here. Documentation only: nothing
   * checks what the handler returns.
   */
  responses?: Record<number, RouteResponseDoc>;
}

export interface RouteResponseDoc {
  description: string;
  /** JSON body of the answer, described as zod's output. */
  schema?: ZodType;
}

/** Identity function whose only job is to infer P, Q and B from the schemas. */
export function route<P = Record<string, string>, Q = Record<string, string | string[]>, B = unknown>(
  def: RouteDef<P, Q, B>,
): RouteDef<P, Q, B> {
  return def;
}

/** A handler's answer with an explicit status (and headers), e.g. `reply(201, campaign)`. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export function reply(status: number, body?: unknown, headers?: Record<string, string>): Reply {
  return new Reply(status, body, headers);
}
