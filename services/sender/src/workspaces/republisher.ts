import type { Component } from '../app';
import type { SenderContext } from '../context';

/** At boot, publishes every stored key to api-keys.v1 again, so a crash between store and publish heals. */
export function apiKeyRepublisher(ctx: SenderContext): Component {
  return {
    name: 'api-key-republisher',
    async start() {
      const n = await ctx.workspaces.republishAll();
      ctx.logger.info({ keys: n }, 'api keys re-published');
    },
    async stop() {},
  };
}
