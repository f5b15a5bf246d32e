import { startPruner, type Pruner } from '@payam/mongo';
import type { Component } from '../app';
import type { SenderContext } from '../context';
import { contactChangeModel, pruneContactChanges } from './changes';

/** Deletes contact change-log entries older than SENDER_CONTACT_CHANGES_RETENTION (see pruneContactChanges). */
export function contactChangesPruner(ctx: SenderContext): Component {
  let pruner: Pruner | null = null;
  return {
    name: 'contact-changes-pruner',
    async start() {
      const retentionMs = ctx.config.SENDER_CONTACT_CHANGES_RETENTION;
      pruner = startPruner({
        what: 'contact change-log entries',
        everyMs: ctx.config.SENDER_CONTACT_CHANGES_PRUNE_EVERY,
        prune: () => pruneContactChanges(contactChangeModel(ctx.conn), retentionMs),
        logger: ctx.logger.child({ component: 'contact-changes-pruner' }),
      });
    },
    async stop() {
      await pruner?.stop();
      pruner = null;
    },
  };
}
