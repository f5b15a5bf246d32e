export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

/**
 * Runs the steps in order (stop accepting, finish in-flight work, flush the producer,
 * disconnect) within one overall budget. A step that overruns is abandoned and the rest still
 * get their turn with what time is left; the result says whether everything finished.
 */
export async function shutdownInOrder(steps: ShutdownStep[], timeoutMs: number, logger: ShutdownLogger): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let clean = true;
  for (const step of steps) {
    const left = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      step.run().then(
        () => 'done' as const,
        (err: unknown) => {
          logger.error({ err, step: step.name }, 'shutdown step failed');
          return 'failed' as const;
        },
      ),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(left, 50));
      }),
    ]);
    clearTimeout(timer);
    if (outcome !== 'done') clean = false;
    if (outcome === 'timeout') logger.error({ step: step.name }, 'shutdown step did not finish in time');
    else logger.info({ step: step.name, outcome }, 'shutdown step');
  }
  return clean;
}

/**
 * On the first SIGTERM or SIGINT, shuts down in order and exits (0 when clean, 1 otherwise).
 * A second signal exits at once.
 */
export function exitOnSignals(steps: ShutdownStep[], timeoutMs: number, logger: ShutdownLogger): void {
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) process.exit(1);
    shuttingDown = true;
    logger.info({ signal, timeoutMs }, 'shutting down');
    void shutdownInOrder(steps, timeoutMs, logger).then((clean) => process.exit(clean ? 0 : 1));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
