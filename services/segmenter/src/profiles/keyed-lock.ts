/**
 * Serialises work per key inside one process: `run(keys, fn)` starts fn once every earlier
 * run holding any of the keys has finished. All keys of a run are registered at once (no
 * await in between), so two runs can never wait on each other: no deadlock, FIFO per key.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const before = unique.map((k) => this.tails.get(k)).filter((p): p is Promise<void> => p !== undefined);
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    for (const k of unique) this.tails.set(k, done);
    try {
      await Promise.all(before);
      return await fn();
    } finally {
      release();
      for (const k of unique) if (this.tails.get(k) === done) this.tails.delete(k);
    }
  }

  /** Keys currently held or awaited (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
