import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * A durable local queue for events Kafka could not take: one append-only file of JSON lines
 * (`spool.jsonl`) and a checkpoint file holding the byte offset up to which Kafka acknowledged
 * the replayed records.
 *
 * Durability (the crash-loss bound): append() resolves only after the bytes were written AND
 * fdatasync'ed, and the tracker answers a request only after that. Appends that arrive while a
 * write is in progress are committed together in the next one (group commit), so a burst costs
 * one fsync per batch, not per event. A crash therefore loses only events whose request had not
 * been answered yet; nothing answered is lost. A write torn by the crash leaves at most one
 * incomplete last line, which open() cuts off (its request was never answered).
 *
 * Replay never deletes what Kafka has not acknowledged: the checkpoint moves after the ack, and
 * the file is truncated only when everything in it is acknowledged. A crash between an ack and
 * the checkpoint write re-sends that one batch; each record keeps its event id, and consumers
 * de-duplicate on it.
 */
export interface SpoolRecord {
  key: string;
  value: unknown;
}

export interface SpoolBatch {
  records: SpoolRecord[];
  /** Byte offset just past the last record of the batch: what ack() takes. */
  end: number;
  /** Lines that were not JSON (cannot happen short of disk corruption); acked with the batch. */
  skipped: number;
}

const FILE = 'spool.jsonl';
const CHECKPOINT = 'spool.checkpoint';
const READ_CHUNK = 1 << 20;

export class Spool {
  private queue: Array<{ data: string; count: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing = false;
  /** Serialises every mutation of the file (flush, truncate). */
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly fd: FileHandle,
    private size: number,
    private acked: number,
    private unacked: number,
  ) {}

  static async open(dir: string): Promise<Spool> {
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, FILE);
    const fd = await fs.open(file, 'a+');
    let size = (await fd.stat()).size;
    let acked = await readCheckpoint(path.join(dir, CHECKPOINT));
    if (acked > size) acked = 0; // checkpoint from before a truncation we did not record: replay all
    // Count complete lines after the checkpoint; cut a torn tail left by a crash mid-write.
    let pos = acked;
    let count = 0;
    let lastComplete = acked;
    const buf = Buffer.alloc(READ_CHUNK);
    while (pos < size) {
      const { bytesRead } = await fd.read(buf, 0, Math.min(READ_CHUNK, size - pos), pos);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) {
        if (buf[i] === 0x0a) {
          count++;
          lastComplete = pos + i + 1;
        }
      }
      pos += bytesRead;
    }
    if (lastComplete < size) {
      await fd.truncate(lastComplete);
      await fd.datasync();
      size = lastComplete;
    }
    return new Spool(dir, fd, size, acked, count);
  }

  /** Records appended and not yet acknowledged by Kafka. */
  get pending(): number {
    return this.unacked + this.queue.reduce((n, q) => n + q.count, 0);
  }

  /** Resolves once the records are on disk (written and fdatasync'ed). */
  append(records: SpoolRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    if (records.length === 0) return Promise.resolve();
    const data = records.map((r) => JSON.stringify({ k: r.key, v: r.value }) + '\n').join('');
    return new Promise((resolve, reject) => {
      this.queue.push({ data, count: records.length, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.queue.length);
        const bytes = Buffer.from(batch.map((b) => b.data).join(''), 'utf8');
        try {
          await this.locked(async () => {
            let off = 0;
            while (off < bytes.length) off += (await this.fd.write(bytes, off, bytes.length - off)).bytesWritten;
            await this.fd.datasync();
            this.size += bytes.length;
            this.unacked += batch.reduce((n, b) => n + b.count, 0);
          });
          for (const b of batch) b.resolve();
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The oldest unacknowledged records, in append order (a corrupt line is skipped and counted). */
  async read(maxRecords: number): Promise<SpoolBatch> {
    return this.locked(async () => {
      const records: SpoolRecord[] = [];
      let skipped = 0;
      let pos = this.acked;
      let end = this.acked;
      let rest = Buffer.alloc(0);
      const buf = Buffer.alloc(READ_CHUNK);
      while (pos < this.size && records.length < maxRecords) {
        const { bytesRead } = await this.fd.read(buf, 0, Math.min(READ_CHUNK, this.size - pos), pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const chunk = rest.length > 0 ? Buffer.concat([rest, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let start = 0;
        let nl: number;
        while (records.length < maxRecords && (nl = chunk.indexOf(0x0a, start)) !== -1) {
          try {
            const parsed = JSON.parse(chunk.toString('utf8', start, nl)) as { k: string; v: unknown };
            records.push({ key: parsed.k, value: parsed.v });
          } catch {
            skipped++;
          }
          end += nl + 1 - start;
          start = nl + 1;
        }
        rest = Buffer.from(chunk.subarray(start)); // a copy: buf is reused
      }
      return { records, end, skipped };
    });
  }

  /**
   * Kafka acknowledged everything before `end`: move the checkpoint, and when nothing is left
   * (and nothing is being appended) truncate the file so it never grows without bound.
   */
  async ack(end: number, count: number): Promise<void> {
    await this.locked(async () => {
      this.acked = end;
      this.unacked = Math.max(0, this.unacked - count);
      if (this.acked >= this.size && this.queue.length === 0) {
        await this.fd.truncate(0);
        await this.fd.datasync();
        this.size = 0;
        this.acked = 0;
        this.unacked = 0;
      }
      await writeCheckpoint(path.join(this.dir, CHECKPOINT), this.acked);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
    await this.locked(() => this.fd.close());
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

async function readCheckpoint(file: string): Promise<number> {
  try {
    const n = Number((await fs.readFile(file, 'utf8')).trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Write-then-rename, so a crash leaves the old or the new checkpoint, never half of one. */
async function writeCheckpoint(file: string, offset: number): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(String(offset));
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}
