import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Spool } from '../src/spool/spool';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
const recs = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: { id: `e${from + i}` } }));

test('appends survive a reopen, replay in order, and the acked offset is not re-sent', async () => {
  const d = dir();
  const s = await Spool.open(d);
  await Promise.all([s.append(recs(0, 3)), s.append(recs(3, 2))]); // group-committed together
  expect(s.pending).toBe(5);
  const first = await s.read(2);
  expect(first.records.map((r) => r.key)).toEqual(['k0', 'k1']);
  await s.ack(first.end, first.records.length);
  await s.close();

  const again = await Spool.open(d); // e.g. after a crash
  expect(again.pending).toBe(3);
  const rest = await again.read(100);
  expect(rest.records.map((r) => r.key)).toEqual(['k2', 'k3', 'k4']);
  await again.ack(rest.end, rest.records.length);
  expect(again.pending).toBe(0);
  expect(statSync(path.join(d, 'spool.jsonl')).size).toBe(0); // truncated once everything is acked
  expect(readFileSync(path.join(d, 'spool.checkpoint'), 'utf8')).toBe('0');
  await again.close();
});

test('a line torn by a crash mid-write is cut off at open (its request was never answered)', async () => {
  const d = dir();
  const s = await Spool.open(d);
  await s.append(recs(0, 2));
  await s.close();
  appendFileSync(path.join(d, 'spool.jsonl'), '{"k":"torn","v":{"id":');
  const reopened = await Spool.open(d);
  expect(reopened.pending).toBe(2);
  const all = await reopened.read(10);
  expect(all.records.map((r) => r.key)).toEqual(['k0', 'k1']);
  await reopened.append(recs(2, 1));
  expect((await reopened.read(10)).records.map((r) => r.key)).toEqual(['k0', 'k1', 'k2']);
  await reopened.close();
});

test('reads larger than one chunk keep exact byte offsets', async () => {
  const d = dir();
  const s = await Spool.open(d);
  const big = Array.from({ length: 3000 }, (_, i) => ({ key: `k${i}`, value: { id: `e${i}`, pad: 'x'.repeat(500 + (i % 7)) } }));
  await s.append(big);
  let seen = 0;
  while (s.pending > 0) {
    const b = await s.read(700);
    for (const r of b.records) expect(r.key).toBe(`k${seen++}`);
    await s.ack(b.end, b.records.length);
  }
  expect(seen).toBe(3000);
  await s.close();
});
