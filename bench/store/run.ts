/**
 * Store benchmark (not a test; no assertions): what one operation costs on the local MongoDB
 * (FerretDB v1.24, SQLite backend) as a collection grows, the fact behind the segmenter's and the
 * sender's FerretDB-shaped code (insert-only writes, one `$in` read per batch, write-through
 * caches). For each size in BENCH_STORE_SIZES (default 5,000, 20,000, 100,000 documents) it times findOne / replaceOne / deleteOne by _id, insertOne, a 500-document
 * insertMany and a full cursor read of segmenter profile documents, and reports each as a ratio to its cost at the smallest
 * size, measured in the same run. On MongoDB the by-_id ratios stay near 1 (a B-tree lookup);
 * here they grow with the collection, because the SQLite query plan scans the table although an
 * `_id` index exists (the plan is printed). Ends with one JSON line.
 */
import { MongoClient } from 'mongodb';
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

type Costs = Record<string, number>;

async function main(): Promise<void> {
  const client = await MongoClient.connect(URI);
  const db = client.db(`payam_bench_store_${Date.now().toString(36)}`);
  const col = db.collection<ProfileDoc>('docs');
  const bySize = new Map<number, Costs>();
  let have = 0;
  try {
    for (const size of SIZES) {
      for (let i = have; i < size; i += 2000) {
        const docs = Array.from({ length: Math.min(2000, size - i) }, (_, j) => profileDoc(`d${i + j}`, i + j));
        await col.insertMany(docs, { ordered: false });
      }
      have = size;
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
      };
      const t = performance.now();
      let read = 0;
      for await (const _ of col.find({}).batchSize(2000)) read++;
      costs.cursor_read_per_1k_docs_ms = ((performance.now() - t) / read) * 1000;
      await col.deleteMany({ _id: { $regex: `^x${size}_` } });
      bySize.set(size, costs);
      log(`${size} docs: ${Object.entries(costs).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    }
    const plan = await col.find({ _id: 'd1' }).explain();
    const planText = JSON.stringify((plan as { queryPlanner?: unknown }).queryPlanner ?? plan);
    const indexes = (await col.indexes()).map((i) => i.name);
    log(`plan of find({_id}): ${planText}; indexes: ${indexes.join(', ')}`);
    const base = bySize.get(SIZES[0]!)!;
    const largest = SIZES[SIZES.length - 1]!;
    const ratios = Object.fromEntries(Object.entries(bySize.get(largest)!).map(([k, v]) => [k.replace(/_ms$/, ''), Number((v / base[k]!).toFixed(1))]));
    console.log(
      JSON.stringify({
        sizes: SIZES,
        [`ratio_${largest}_vs_${SIZES[0]}`]: ratios,
        [`ms_at_${largest}`]: Object.fromEntries(Object.entries(bySize.get(largest)!).map(([k, v]) => [k, Number(v.toFixed(2))])),
        id_lookup_plan: planText,
      }),
    );
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
