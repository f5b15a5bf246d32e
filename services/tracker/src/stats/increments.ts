import type { mongo } from 'mongoose';

type AnyBulkWriteOperation<T extends mongo.Document> = mongo.AnyBulkWriteOperation<T>;

export interface BulkWritable {
  bulkWrite(ops: AnyBulkWriteOperation<never>[], options: { ordered: false }): Promise<unknown>;
}

/** One document's increments for a batch: every event of the batch that counts into it, merged. */
export interface DocUpdate {
  coll: BulkWritable;
  _id: string;
  update: Record<string, unknown>;
}

/**
 * At most this many updates per command. FerretDB v1.24 keeps a query iterator open for every
 * update of a command until the command ends (handler/msg_update.go), so a command's cost grows
 * faster than its size: a batch touching ~500 documents, written as one bulkWrite, timed the
 * connection out (60 s) on every retry and the projector stalled. One command per update is no
 * answer either: each pays the whole command overhead (in bench/tracker/projector.ts, 600
 * documents as single updates did not finish in 280 s; in commands of 16 they took 80 s).
 */
export const UPDATES_PER_COMMAND = 16;
/** Commands in flight at once: few, because FerretDB (SQLite) serialises writes anyway and the report routes share the pool. */
export const UPDATE_CONCURRENCY = 2;

/**
 * Writes each document's increments as an upsert by _id, in small unordered bulkWrites, a few at
 * a time. Rejects with the first failure once every started command settled.
 */
export async function applyUpdates(updates: DocUpdate[], perCommand = UPDATES_PER_COMMAND, concurrency = UPDATE_CONCURRENCY): Promise<void> {
  const commands: Array<{ coll: BulkWritable; ops: DocUpdate[] }> = [];
  for (const u of updates) {
    const last = commands[commands.length - 1];
    if (last && last.coll === u.coll && last.ops.length < perCommand) last.ops.push(u);
    else commands.push({ coll: u.coll, ops: [u] });
  }
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < commands.length) {
      const { coll, ops } = commands[next++]!;
      try {
        await coll.bulkWrite(ops.map((u) => ({ updateOne: { filter: { _id: u._id }, update: u.update, upsert: true } }) as AnyBulkWriteOperation<never>), { ordered: false });
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, commands.length) }, worker));
  if (failure !== null) throw (failure as { err: unknown }).err;
}
