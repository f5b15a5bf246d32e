/**
 * Yields what `source` yields, asking it for its next item as soon as one is handed out, so the
 * source's work overlaps the consumer's: the audience walk reads the next chunk of contacts (a
 * getMore) while the driver inserts and publishes the current one. At most one item ahead.
 * Stopped early, it waits for the read under way and then closes the source (the cursor).
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      // Its failure surfaces at the await above; until then it must not count as unhandled.
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    await next.catch(() => undefined);
    await it.return?.(undefined);
  }
}
