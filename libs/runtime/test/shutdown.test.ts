import { shutdownInOrder } from '../src';

const quiet = { info: () => undefined, error: () => undefined };

test('runs steps in order and reports a clean shutdown', async () => {
  const order: string[] = [];
  const step = (name: string) => ({ name, run: async () => void order.push(name) });
  await expect(shutdownInOrder([step('http'), step('consumer'), step('producer')], 1000, quiet)).resolves.toBe(true);
  expect(order).toEqual(['http', 'consumer', 'producer']);
});

test('a step that hangs is abandoned within the budget and later steps still run', async () => {
  const order: string[] = [];
  const started = Date.now();
  const clean = await shutdownInOrder(
    [
      { name: 'hangs', run: () => new Promise<void>(() => undefined) },
      { name: 'after', run: async () => void order.push('after') },
    ],
    200,
    quiet,
  );
  expect(clean).toBe(false);
  expect(order).toEqual(['after']);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('a failing step makes the shutdown unclean but does not stop the others', async () => {
  const ran: string[] = [];
  const clean = await shutdownInOrder(
    [
      { name: 'fails', run: async () => Promise.reject(new Error('boom')) },
      { name: 'next', run: async () => void ran.push('next') },
    ],
    500,
    quiet,
  );
  expect(clean).toBe(false);
  expect(ran).toEqual(['next']);
});
