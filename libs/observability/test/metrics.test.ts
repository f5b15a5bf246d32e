import { Counter } from 'prom-client';
import { createMetrics } from '../src';

describe('createMetrics', () => {
  it('exposes default process metrics and the http histogram with the payam_ prefix and service label', async () => {
    const metrics = createMetrics('sender');
    metrics.httpRequestDuration.observe({ method: 'GET', route: '/campaigns/:id', status: '200' }, 0.02);
    const text = await metrics.registry.metrics();
    expect(text).toContain('payam_process_cpu_user_seconds_total');
    expect(text).toMatch(
      /payam_http_request_duration_seconds_bucket\{le="0.025",service="sender",method="GET",route="\/campaigns\/:id",status="200"\} 1/,
    );
  });

  it('gives every call its own registry, so two apps in one process do not clash', async () => {
    const a = createMetrics('a');
    const b = createMetrics('b');
    a.counter('jobs_total', 'jobs').inc(2);
    b.counter('jobs_total', 'jobs').inc(5);
    expect(await a.registry.getSingleMetricAsString('payam_jobs_total')).toContain('payam_jobs_total{service="a"} 2');
    expect(await b.registry.getSingleMetricAsString('payam_jobs_total')).toContain('payam_jobs_total{service="b"} 5');
  });

  it('returns the same metric when asked twice, and refuses another kind under that name', () => {
    const m = createMetrics('s');
    const first = m.counter('events_total', 'events', ['type']);
    expect(first).toBeInstanceOf(Counter);
    expect(m.counter('payam_events_total', 'events', ['type'])).toBe(first);
    expect(() => m.gauge('events_total', 'events')).toThrow(/another kind/);
  });

  it('creates gauges and histograms with labels', async () => {
    const m = createMetrics('s');
    m.gauge('lag', 'consumer lag', ['topic']).set({ topic: 't' }, 7);
    m.histogram('send_seconds', 'send time', [], [1, 2]).observe(1.5);
    const text = await m.registry.metrics();
    // The default `service` label is added only when rendering, and label order in the text is
    // prom-client's business: check the value, then the rendered line in either order.
    const lag = await m.registry.getSingleMetric('payam_lag')!.get();
    expect(lag.values).toEqual([{ value: 7, labels: { topic: 't' } }]);
    expect(text).toMatch(/payam_lag\{(topic="t",service="s"|service="s",topic="t")\} 7/);
    expect(text).toContain('payam_send_seconds_bucket{le="2",service="s"} 1');
  });
});
