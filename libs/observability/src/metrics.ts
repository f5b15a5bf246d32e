import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'payam_';

export type HttpLabel = 'method' | 'route' | 'status';

export interface Metrics {
  /** The registry that /metrics renders. Each app has its own, so several apps in one process don't clash. */
  registry: Registry;
  /** Observed per request with the route *pattern* as `route`, never the raw path (unbounded cardinality). */
  httpRequestDuration: Histogram<HttpLabel>;
  counter<L extends string = string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  gauge<L extends string = string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  histogram<L extends string = string>(name: string, help: string, labelNames?: readonly L[], buckets?: number[]): Histogram<L>;
}

/** Seconds; from a cached pixel (~1 ms) to a slow report query. */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function prefixed(name: string): string {
  return name.startsWith(METRIC_PREFIX) ? name : METRIC_PREFIX + name;
}

export function createMetrics(service: string): Metrics {
  // A registry of its own rather than prom-client's global one: tests start several apps in one
  // process, and the global registry would refuse the second registration of every metric.
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  // Asking twice for the same name returns the first metric, so two modules may share a counter
  // without coordinating who creates it. Asking for it as a different kind is a bug and throws.
  function existing<T>(name: string, kind: new (...args: never[]) => T): T | undefined {
    const metric = registry.getSingleMetric(name);
    if (metric === undefined) return undefined;
    if (!(metric instanceof kind)) throw new Error(`metric ${name} is already registered as another kind`);
    return metric;
  }

  const metrics: Metrics = {
    registry,
    httpRequestDuration: undefined as unknown as Histogram<HttpLabel>,
    counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
      const full = prefixed(name);
      return (existing(full, Counter) as Counter<L> | undefined) ?? new Counter<L>({ name: full, help, labelNames, registers: [registry] });
    },
    gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
      const full = prefixed(name);
      return (existing(full, Gauge) as Gauge<L> | undefined) ?? new Gauge<L>({ name: full, help, labelNames, registers: [registry] });
    },
    histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]) {
      const full = prefixed(name);
      return (
        (existing(full, Histogram) as Histogram<L> | undefined) ??
        new Histogram<L>({ name: full, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) })
      );
    },
  };
  metrics.httpRequestDuration = metrics.histogram<HttpLabel>(
    'http_request_duration_seconds',
    'HTTP request duration in seconds, by method, route pattern and status',
    ['method', 'route', 'status'],
    HTTP_BUCKETS,
  );
  return metrics;
}
