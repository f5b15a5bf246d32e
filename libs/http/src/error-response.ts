import type { Response } from 'express';
import type { FieldProblem } from '@payam/contracts';

/** Every error answer of every service has this shape, so clients parse one thing. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: FieldProblem[] | Record<string, unknown>;
    requestId?: string;
  };
}

export function sendError(
  res: Response,
  status: number,
  code: string,
  message: string,
  extra: { details?: ErrorBody['error']['details']; requestId?: string; headers?: Record<string, string> } = {},
): void {
  const body: ErrorBody = { error: { code, message } };
  if (extra.details !== undefined) body.error.details = extra.details;
  if (extra.requestId !== undefined) body.error.requestId = extra.requestId;
  if (extra.headers) res.set(extra.headers);
  res.status(status).json(body);
}
