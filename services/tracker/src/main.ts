import { exitOnSignals } from '@payam/runtime';
import { loadTrackerConfig } from './config';
import { startTracker } from './service';

/** Boots from the environment (see config.ts and the README for every variable) and stops in order on SIGTERM. */
async function main(): Promise<void> {
  const cfg = loadTrackerConfig();
  const tracker = await startTracker(cfg);
  exitOnSignals(tracker.shutdownSteps, cfg.SHUTDOWN_TIMEOUT_MS, tracker.logger);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
