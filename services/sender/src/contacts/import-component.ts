import type { Component } from '../app';
import type { SenderContext } from '../context';

/** Marks imports a dead process left running as failed at boot; lets running imports stop at a chunk boundary. */
export function contactImports(ctx: SenderContext): Component {
  return {
    name: 'contact-imports',
    async start() {
      const n = await ctx.imports.failStale();
      if (n > 0) ctx.logger.warn({ imports: n }, 'imports interrupted by an earlier stop marked failed');
    },
    async stop() {
      await ctx.imports.stopAll();
    },
  };
}
