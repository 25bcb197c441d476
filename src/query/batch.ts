/** Many trackers at once: a few in parallel, results in input order. */
import type { QueryResult } from './run.js';

export interface BatchOptions {
  /** Queries running at once. */
  parallel: number;
  /** Pause between two queries of one worker, ms (the original's -d). */
  delayMs: number;
  /** Called after each finished query. */
  onProgress?: (done: number, total: number, last: QueryResult) => void;
}

export async function runBatch<T>(items: readonly T[], run: (item: T) => Promise<QueryResult>, o: BatchOptions): Promise<QueryResult[]> {
  const results: QueryResult[] = new Array<QueryResult>(items.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      if (done > 0 && o.delayMs > 0) await new Promise((r) => setTimeout(r, o.delayMs));
      results[i] = await run(items[i]!);
      done++;
      o.onProgress?.(done, items.length, results[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, items.length)) }, worker));
  return results;
}

/** Tracker URLs from a batch file: one a line; blank lines and # comments skipped. */
export function parseBatchFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.length > 0);
}
