import { createLogger, createMetrics, type Logger } from '@payam/observability';
import { createApp, type CreateAppOptions, type Principal } from '../src';

export interface LogCapture {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

export function captureLogs(): LogCapture {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ service: 'test', level: 'debug', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  return { logger, lines };
}

/** Keys: "good" → workspace w1; "revoked" → known but revoked (resolver answers null). */
export const apiKeys = {
  async resolve(token: string): Promise<Principal | null> {
    return token === 'pk_good' ? { workspaceId: 'w1', keyId: 'k1' } : null;
  },
};

export const ADMIN_SECRET = 'admin-secret-of-sufficient-length';

export function buildApp(overrides: Partial<CreateAppOptions> = {}) {
  const logs = captureLogs();
  const metrics = createMetrics('test');
  const app = createApp({
    service: 'test',
    logger: logs.logger,
    metrics,
    routes: [],
    readiness: {},
    apiKeys,
    adminSecret: ADMIN_SECRET,
    ...overrides,
  });
  return { app, metrics, logs };
}
