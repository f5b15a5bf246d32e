import type { Express } from 'express';
import type { Metrics } from '@payam/observability';

export type ReadinessChecks = Record<string, () => Promise<void>>;

type CheckResult = { status: 'ok' | 'timeout' } | { status: 'failed'; error: unknown };

/** Runs a check, failing it when it takes longer than timeoutMs (a hung dependency is not ready). */
async function runCheck(check: () => Promise<void>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'timeout' }), timeoutMs);
  });
  try {
    return await Promise.race([check().then((): CheckResult => ({ status: 'ok' })), timeout]);
  } catch (error) {
    return { status: 'failed', error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /healthz: the process is up (liveness; never touches a dependency, so a database outage does
 * not get every instance restarted). /readyz: every dependency answers (readiness; the load
 * balancer stops sending traffic while it is 503). /metrics: Prometheus text.
 */
export function mountHealth(app: Express, readiness: ReadinessChecks, metrics: Metrics, timeoutMs: number): void {
  app.get('/healthz', (_req, res) => {
    res.locals.routePattern = '/healthz';
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    res.locals.routePattern = '/readyz';
    const names = Object.keys(readiness);
    const results = await Promise.all(names.map((name) => runCheck(readiness[name]!, timeoutMs)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!.status]));
    const failed = names.filter((_, i) => results[i]!.status !== 'ok');
    // Why a check failed goes to the log, not to an unauthenticated caller.
    for (const [i, name] of names.entries()) {
      const result = results[i]!;
      if (result.status !== 'ok')
        res.locals.log.warn(
          { check: name, status: result.status, err: 'error' in result ? result.error : undefined },
          'readiness check failed',
        );
    }
    res
      .status(failed.length > 0 ? 503 : 200)
      .set('Cache-Control', 'no-store')
      .json({ status: failed.length > 0 ? 'not_ready' : 'ready', checks });
  });

  app.get('/metrics', async (_req, res) => {
    res.locals.routePattern = '/metrics';
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
