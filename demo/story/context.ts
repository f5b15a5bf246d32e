/* eslint-disable @typescript-eslint/no-explicit-any -- the services' JSON answers, read loosely by the demo (it only talks HTTP) */
import { randomBytes } from 'node:crypto';
import { expectStatus, type Endpoints } from './client';

export interface StoryOptions {
  endpoints: Endpoints;
  /** How many contacts the CSV import brings (the demo: 5,000). */
  contacts: number;
  /** Progress lines for a reader. */
  log: (line: string) => void;
  /** 'auto' waits for the experiment's own decision (at least decideAfter, 1 minute); 'manual' picks the observed leader through the API. */
  decision: 'auto' | 'manual';
  /** Seconds the story waits at most for any one step (each wait says what it waited for). */
  stepTimeoutMs: number;
  runTag?: string;
}

/** What the steps share: who we are and the three APIs with our workspace key. */
export class Story {
  readonly runTag: string;
  readonly startedAt = Date.now();
  workspaceId = '';
  token = '';

  constructor(readonly o: StoryOptions) {
    this.runTag = (o.runTag ?? `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`).toLowerCase();
  }

  get e(): Endpoints {
    return this.o.endpoints;
  }

  log(line: string): void {
    this.o.log(line);
  }

  sender<T = any>(method: string, path: string, expected: number | number[], json?: unknown): Promise<T> {
    return expectStatus<T>(expected, this.e.sender, method, path, { token: this.token, ...(json !== undefined ? { json } : {}) });
  }

  segmenter<T = any>(method: string, path: string, expected: number | number[], json?: unknown): Promise<T> {
    return expectStatus<T>(expected, this.e.segmenter, method, path, { token: this.token, ...(json !== undefined ? { json } : {}) });
  }

  tracker<T = any>(method: string, path: string, expected: number | number[]): Promise<T> {
    return expectStatus<T>(expected, this.e.tracker, method, path, { token: this.token });
  }
}

/** Runs `fn` over items with at most `n` at a time. */
export async function pool<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}
