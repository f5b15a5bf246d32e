import { runConsumer, type ConsumerHandle, type ConsumerOptions, type Subscription } from '@payam/kafka';
import { groupId, type Component, type SenderDeps } from './app';

type ExtraOptions = Partial<Omit<ConsumerOptions, 'kafka' | 'groupId' | 'logger' | 'subscriptions' | 'deadLetters'>>;

/**
 * One of the sender's consumers as a Component: its group id carries the deps' prefix (tests
 * isolate themselves with it), records it cannot accept go to dead-letters.v1, and it starts
 * and stops with the service.
 */
export function consumerComponent(
  deps: SenderDeps,
  name: string,
  group: string,
  subscriptions: Subscription[],
  extra: ExtraOptions = {},
): Component {
  let handle: ConsumerHandle | undefined;
  return {
    name,
    async start() {
      handle = await runConsumer({
        kafka: deps.kafka,
        groupId: groupId(deps, group),
        logger: deps.logger,
        deadLetters: deps.publisher,
        subscriptions,
        ...extra,
      });
    },
    async stop() {
      await handle?.stop();
      handle = undefined;
    },
  };
}
