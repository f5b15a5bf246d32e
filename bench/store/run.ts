/**
 * Store benchmark (not a test; no assertions): what one operation costs on the local MongoDB
 * (FerretDB v1.24, SQLite backend) as a collection grows, with and without the `_id` lookup index
 * the local stack adds (infra/local/ferretdb/id_index.py), in the same run. For each size in
 * BENCH_STORE_SIZES (default 5,000, 20,000, 100,000 documents) it times findOne / replaceOne /
 * deleteOne by _id, insertOne, a 500-document insertMany, a 500-id `$in` find and a full cursor
 * read of segmenter profile documents, in two databases: one the stack indexes and one it leaves
 * as FerretDB builds it (named `…_unindexed`). It reports each cost at the largest size as a
 * ratio to its cost at the smallest, and how many times faster each is with the index. On
 * MongoDB the by-_id ratios stay near 1 (a B-tree lookup); FerretDB alone scans the table for
 * each (its query and its own `_id_` index spell the expression differently; the plans are
 * printed). Ends with one JSON line.
 */
import { MongoClient, type Collection } from 'mongodb';
import { emptyProfile } from '../../services/segmenter/src/profiles/profile';
import { toDoc, type ProfileDoc } from '../../services/segmenter/src/profiles/store';

const URI = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';
const SIZES = (process.env.BENCH_STORE_SIZES ?? '5000,20000,100000').split(',').map(Number);
const SAMPLES = Number(process.env.BENCH_STORE_SAMPLES ?? 20);
/** A segmenter profile as stored (profiles/store.ts), with a few attributes and purchases. */
function profileDoc(id: string, n: number): ProfileDoc {
  const p = emptyProfile('ws_bench_store', `c${n}`);
  p.known = true;
  p.email = `c${n}@bench.test`;
  p.attrs = { country: n % 3 ? 'FR' : 'DE', plan: n % 4 ? 'free' : 'pro' };
  p.cnt = { 'contact.purchase': n % 5, 'email.opened': n % 7 };
  p.lastAt = { 'contact.purchase': 1_790_000_000_000 + n, 'email.opened': 1_790_000_000_000 + 2 * n };
  p.purchases = { ...p.purchases, count: n % 5, total: (n % 5) * 40 };
  p.ids = [`e${n}a`, `e${n}b`, `e${n}c`];
  return { ...toDoc(p, 1), _id: id };
}
const log = (msg: string) => process.stderr.write(`[bench:store] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Costs = Record<string, number>;
type Variant = 'indexed' | 'unindexed';

/** Grows `col` to `size` documents, then times each operation on it. */
async function measure(col: Collection<ProfileDoc>, from: number, size: number): Promise<Costs> {
  for (let i = from; i < size; i += 2000) {
    const docs = Array.from({ length: Math.min(2000, size - i) }, (_, j) => profileDoc(`d${i + j}`, i + j));
    await col.insertMany(docs, { ordered: false });
  }
  const pick = (k: number) => `d${Math.floor(((k + 0.5) * size) / SAMPLES)}`;
  const perOp = async (f: (k: number) => Promise<unknown>, samples = SAMPLES) => {
    const t = performance.now();
    for (let k = 0; k < samples; k++) await f(k);
    return (performance.now() - t) / samples;
  };
  const costs: Costs = {
    findOne_by_id_ms: await perOp((k) => col.findOne({ _id: pick(k) })),
    replaceOne_by_id_ms: await perOp((k) => col.replaceOne({ _id: pick(k) }, { ...profileDoc(pick(k), k), rev: 2 })),
    deleteOne_by_id_ms: await perOp((k) => col.deleteOne({ _id: pick(k) })),
    // Puts the deleted ones back, so the size holds for the next step.
    insertOne_ms: await perOp((k) => col.insertOne(profileDoc(pick(k), k))),
    insertMany_500_ms: await perOp((k) => col.insertMany(Array.from({ length: 500 }, (_, j) => profileDoc(`x${size}_${k}_${j}`, j))), 2),
    // FerretDB pushes only an exact {_id} down to SQLite: an `$in` is matched in Go, index or not.
    find_in_500_ids_ms: await perOp((k) => col.find({ _id: { $in: Array.from({ length: 500 }, (_, j) => `d${(k * 500 + j * 7) % size}`) } }).toArray(), 2),
  };
  const t = performance.now();
  let read = 0;
  for await (const _ of col.find({}).batchSize(2000)) read++;
  costs.cursor_read_per_1k_docs_ms = ((performance.now() - t) / read) * 1000;
  await col.deleteMany({ _id: { $regex: `^x${size}_` } });
  return costs;
}

async function main(): Promise<void> {
  const client = await MongoClient.connect(URI);
  const tag = Date.now().toString(36);
  const dbs = { indexed: client.db(`payam_bench_store_${tag}`), unindexed: client.db(`payam_bench_store_${tag}_unindexed`) };
  const cols = { indexed: dbs.indexed.collection<ProfileDoc>('docs'), unindexed: dbs.unindexed.collection<ProfileDoc>('docs') };
  const bySize: Record<Variant, Map<number, Costs>> = { indexed: new Map(), unindexed: new Map() };
  try {
    // Created empty first, so the stack's indexer (a pass every 0.2 s) has indexed it before the timing.
    await Promise.all(Object.values(dbs).map((db) => db.createCollection('docs')));
    await sleep(1000);
    let have = 0;
    for (const size of SIZES) {
      for (const v of ['indexed', 'unindexed'] as const) {
        const costs = await measure(cols[v], have, size);
        bySize[v].set(size, costs);
        log(`${size} docs, ${v}: ${Object.entries(costs).map(([k, c]) => `${k} ${c.toFixed(2)}`).join(', ')}`);
      }
      have = size;
    }
    const plans: Record<string, string> = {};
    for (const v of ['indexed', 'unindexed'] as const) {
      const plan = await cols[v].find({ _id: 'd1' }).explain();
      plans[v] = JSON.stringify((plan as { queryPlanner?: unknown }).queryPlanner ?? plan);
      log(`${v}: plan of find({_id}): ${plans[v]}; indexes FerretDB lists: ${(await cols[v].indexes()).map((i) => i.name).join(', ')}`);
    }
    const smallest = SIZES[0]!;
    const largest = SIZES[SIZES.length - 1]!;
    const ratio = (a: Costs, b: Costs) => Object.fromEntries(Object.keys(a).map((k) => [k.replace(/_ms$/, ''), Number((a[k]! / b[k]!).toFixed(2))]));
    const round = (c: Costs) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Number(v.toFixed(2))]));
    console.log(
      JSON.stringify({
        sizes: SIZES,
        [`times_faster_indexed_at_${largest}`]: ratio(bySize.unindexed.get(largest)!, bySize.indexed.get(largest)!),
        [`indexed_ratio_${largest}_vs_${smallest}`]: ratio(bySize.indexed.get(largest)!, bySize.indexed.get(smallest)!),
        [`unindexed_ratio_${largest}_vs_${smallest}`]: ratio(bySize.unindexed.get(largest)!, bySize.unindexed.get(smallest)!),
        [`indexed_ms_at_${largest}`]: round(bySize.indexed.get(largest)!),
        [`unindexed_ms_at_${largest}`]: round(bySize.unindexed.get(largest)!),
        id_lookup_plans: plans,
      }),
    );
  } finally {
    await Promise.all(Object.values(dbs).map((db) => db.dropDatabase()));
    await client.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
