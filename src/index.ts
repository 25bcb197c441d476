/**
 * The package's programmatic entry (`import { startTracker } from 'wildkat'`):
 * the tracker as a library, with the same options as the command line.
 */
export { startTracker, createStore, ListenError, type RunningTracker, type TrackerDeps, type ListenerInfo, type ListenerKind } from './tracker/daemon.js';
export { DEFAULT_OPTIONS, resolveOptions, ConfigError, type TrackerOptions } from './runtime/config.js';
export { ManualClock, systemClock, type Clock } from './runtime/clock.js';
export { MemoryStore } from './store/memory-store.js';
export { RedisStore } from './store/redis-store.js';
export type { SwarmStore, StoreAnnounce, AnnounceOutcome, StoreTotals, SwarmSummary } from './store/store.js';
export type { StatsJson } from './stats/page-server.js';
