import type { Component } from '../app';
import type { SenderContext } from '../context';

/**
 * Heals a crash (or a Kafka outage) between a contact write and its contacts.v1 publish: at
 * boot and then every REPUBLISH_INTERVAL_MS, publishes the contacts named in outbox notes that
 * were not cleared. Two instances doing it at once only publish the same snapshot twice.
 */
export function contactRepublisher(ctx: SenderContext): Component {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const sweep = async (): Promise<void> => {
    try {
      // Leave writes of the last seconds to the request that made them.
      const n = await ctx.contacts.republishPending(5_000);
      if (n > 0) ctx.logger.warn({ contacts: n }, 'published contacts whose earlier publish had not completed');
    } catch (err) {
      ctx.logger.error({ err }, 'contact re-publish failed; next sweep retries');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweep().finally(schedule);
    }, ctx.config.REPUBLISH_INTERVAL_MS);
    timer.unref();
  };

  return {
    name: 'contact-republisher',
    async start() {
      stopped = false;
      // Notes left by a process that stopped; a live instance's fresh notes are harmless to repeat.
      await ctx.contacts.republishPending(0);
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
