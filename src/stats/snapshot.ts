/**
 * What one tracker process knows of its own activity, as plain data: the
 * stats page shows one of these, or, with --workers, the merge of every
 * worker's (sums of counters, the union of distinct-address counters, the
 * worst event-loop delay).
 */
import type { ErrorCode } from '../protocol/errors.js';
import type { LoopDelayFigures } from '../runtime/loop-delay.js';
import type { ActivityFigures, StatsCollector, UniqueRegisters } from './collector.js';
import { HyperLogLog } from './hyperloglog.js';

export interface ActivitySnapshot {
  activity: ActivityFigures;
  connections: { tls_handshake_failures: number; accept_errors: number };
  errors: Partial<Record<ErrorCode, number>>;
  loop: LoopDelayFigures | null;
  unique: UniqueRegisters;
}

/** Where the stats page gets activity from: this process, or every worker. */
export interface ActivitySource {
  snapshot(): ActivitySnapshot | Promise<ActivitySnapshot>;
}

export function localSource(collector: StatsCollector, loopDelay: { figures(): LoopDelayFigures } | null): ActivitySource {
  return {
    snapshot: () => ({
      activity: collector.activity(),
      connections: collector.connectionFigures(),
      errors: collector.errorFigures(),
      loop: loopDelay?.figures() ?? null,
      unique: collector.uniqueRegisters(),
    }),
  };
}

type Json = number | string | boolean | null | Json[] | { [k: string]: Json };

/** Adds numbers found at the same place in two values of one shape; anything else keeps the first's. */
function sum(a: Json, b: Json | undefined): Json {
  if (typeof a === 'number') return typeof b === 'number' ? a + b : a;
  if (Array.isArray(a)) return a.map((x, i) => sum(x, Array.isArray(b) ? b[i] : undefined));
  if (a !== null && typeof a === 'object') {
    const other = b !== null && typeof b === 'object' && !Array.isArray(b) ? b : {};
    const out: { [k: string]: Json } = {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(other)])) {
      const x = a[k];
      out[k] = x === undefined ? other[k]! : sum(x, other[k]);
    }
    return out;
  }
  return a;
}

function mergedEstimate(registers: string[]): number {
  const hll = new HyperLogLog();
  for (const r of registers) hll.mergeRegisters(r);
  return hll.estimate();
}

/** One snapshot for several processes. Per-second rates add up; distinct addresses are counted once. */
export function mergeSnapshots(snapshots: readonly ActivitySnapshot[]): ActivitySnapshot | null {
  if (snapshots.length === 0) return null;
  let merged = snapshots[0]!;
  for (const s of snapshots.slice(1)) {
    merged = {
      activity: sum(merged.activity as unknown as Json, s.activity as unknown as Json) as unknown as ActivityFigures,
      connections: sum(merged.connections, s.connections) as ActivitySnapshot['connections'],
      errors: sum(merged.errors as Json, s.errors as Json) as ActivitySnapshot['errors'],
      loop: worst(merged.loop, s.loop),
      unique: merged.unique,
    };
  }
  const periods = merged.activity.periods;
  for (const p of ['today', 'yesterday', 'all_time'] as const) {
    periods[p].unique_ips = mergedEstimate(snapshots.map((s) => s.unique[p]));
  }
  return merged;
}

function worst(a: LoopDelayFigures | null, b: LoopDelayFigures | null): LoopDelayFigures | null {
  if (a === null || b === null) return a ?? b;
  return {
    recentP99Ms: Math.max(a.recentP99Ms, b.recentP99Ms),
    recentMaxMs: Math.max(a.recentMaxMs, b.recentMaxMs),
    maxSinceStartMs: Math.max(a.maxSinceStartMs, b.maxSinceStartMs),
  };
}
