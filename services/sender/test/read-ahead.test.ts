import { readAhead } from '../src/campaigns/read-ahead';

/** A source of `n` numbers that logs when each read starts and ends, and when it is closed. */
function source(n: number, log: string[], failAt = -1): AsyncGenerator<number> {
  return (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        log.push(`read ${i}`);
        await new Promise((r) => setTimeout(r, 5));
        if (i === failAt) throw new Error(`read ${i} failed`);
        yield i;
      }
    } finally {
      log.push('closed');
    }
  })();
}

describe('readAhead', () => {
  it('yields every item in order and starts reading the next before the consumer is done with one', async () => {
    const log: string[] = [];
    const got: number[] = [];
    for await (const i of readAhead(source(3, log))) {
      log.push(`use ${i}`);
      await new Promise((r) => setTimeout(r, 20)); // the consumer's own work (inserts, publish)
      got.push(i);
    }
    expect(got).toEqual([0, 1, 2]);
    // "read 1" starts while item 0 is in use: the overlap the driver relies on.
    expect(log).toEqual(['read 0', 'read 1', 'use 0', 'read 2', 'use 1', 'closed', 'use 2']);
  });

  it('stopped early, waits for the read under way and closes the source', async () => {
    const log: string[] = [];
    for await (const i of readAhead(source(10, log))) {
      if (i === 1) break;
    }
    expect(log.slice(-2)).toEqual(['read 2', 'closed']);
    expect(log).not.toContain('read 3');
  });

  it('passes a failed read to the consumer at the item it failed on, after the items before it', async () => {
    const log: string[] = [];
    const got: number[] = [];
    const run = async () => {
      for await (const i of readAhead(source(5, log, 2))) got.push(i);
    };
    await expect(run()).rejects.toThrow('read 2 failed');
    expect(got).toEqual([0, 1]);
    expect(log).toContain('closed');
  });
});
