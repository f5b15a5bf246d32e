/** What a pruner logs through (a pino logger fits). */
export interface PrunerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface Pruner {
  /** Stops the interval and waits for a prune under way. */
  stop(): Promise<void>;
}

/**
 * Runs `prune` (a delete of what is older than a retention; it returns how many went) every
 * `everyMs` in the background, the first time one interval after start, never two at once. A
 * failure is logged and the next interval tries again. On FerretDB v1 such a delete passes over
 * the whole collection, hence a pruner on an interval rather than a delete per write; several
 * processes pruning at once delete the same documents, which is harmless.
 */
export function startPruner(opts: { what: string; everyMs: number; prune: () => Promise<number>; logger: PrunerLogger }): Pruner {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = opts
      .prune()
      .then((deleted) => {
        if (deleted > 0) opts.logger.info({ deleted }, `pruned old ${opts.what}`);
      })
      .catch((err: unknown) => opts.logger.warn({ err }, `pruning ${opts.what} failed; will retry`))
      .finally(() => {
        running = null;
      });
  }, opts.everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
