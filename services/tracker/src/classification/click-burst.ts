/**
 * "Every link of a message clicked within about a second" is what link scanners do and people
 * cannot: after a real click the browser takes over. We remember, per delivery, the recent clicks
 * and flag a click when another link of the same message was clicked within the window.
 *
 * In process memory on purpose: this runs on the hot path, where a database read is not allowed,
 * and the heuristic is best-effort (behind a load balancer a burst may be split across instances
 * and partly missed; a restart forgets a second of history). Bounded in deliveries (oldest first
 * out) and in clicks per delivery, so a flood cannot grow it.
 */
export class ClickBurstMemory {
  private readonly recent = new Map<string, Array<{ at: number; link: number }>>();

  constructor(
    private readonly windowMs: number,
    private readonly maxDeliveries = 50_000,
    private readonly maxClicksPerDelivery = 32,
  ) {}

  /** Records the click; true when another link of this delivery was clicked within the window. */
  observe(deliveryKey: string, linkIndex: number, now: number): boolean {
    const since = now - this.windowMs;
    const kept = (this.recent.get(deliveryKey) ?? []).filter((c) => c.at >= since);
    const burst = kept.some((c) => c.link !== linkIndex);
    kept.push({ at: now, link: linkIndex });
    if (kept.length > this.maxClicksPerDelivery) kept.splice(0, kept.length - this.maxClicksPerDelivery);
    this.recent.delete(deliveryKey); // re-insert: Map order is our recency order
    this.recent.set(deliveryKey, kept);
    while (this.recent.size > this.maxDeliveries) this.recent.delete(this.recent.keys().next().value!);
    return burst;
  }

  get size(): number {
    return this.recent.size;
  }
}
