/**
 * /metrics: Prometheus text format through prom-client. Request and reply
 * counters are read from the stats collector when Prometheus scrapes (the
 * page, /stats.json and /metrics count the same events once); swarm figures
 * come from the store. With --workers each worker registers its own
 * activity, and the primary adds the figures only it has (the store, the
 * sweeper, certificates, the access list) to the workers' aggregated ones
 * (prom-client's cluster aggregator: counters and histograms summed).
 */
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type PrometheusContentType } from 'prom-client';
import { ERRORS } from '../protocol/errors.js';
import type { Transport } from '../protocol/types.js';
import type { Clock } from '../runtime/clock.js';
import type { LoopDelayFigures } from '../runtime/loop-delay.js';
import type { AccessListStatus } from '../service/access-list-file.js';
import type { SwarmStore } from '../store/store.js';
import { RESPONSE_BUCKETS, type StatsCollector } from './collector.js';

export type MetricsRole = 'all' | 'worker' | 'stats';

export interface MetricsSources {
  collector: StatsCollector;
  store: SwarmStore;
  clock: Clock;
  loopDelay: { figures(): LoopDelayFigures };
  /** Each TLS listener's certificate not-after, Unix seconds. */
  certificates: () => { listener: string; notAfter: number }[];
  access: (() => AccessListStatus) | null;
}

const SLICE_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25];
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const SAVE_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300];

export class TrackerMetrics {
  readonly registry = new Registry();
  private readonly sweepSlice: Histogram;
  private readonly stateSave: Histogram;
  private readonly aggregator: AggregatorRegistry<PrometheusContentType> | null;

  constructor(role: MetricsRole, s: MetricsSources) {
    const registers = [this.registry];
    const activity = role !== 'stats';
    const shared = role !== 'worker';
    if (activity) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters: `promtool check metrics` rejects them, and nodejs_active_handles etc. say the same.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
      new Counter({
        name: 'wildkat_requests_total',
        help: 'Requests answered, by transport, address family and kind (announce, scrape, connect)',
        labelNames: ['transport', 'family', 'kind'],
        registers,
        collect() {
          this.reset();
          for (const r of s.collector.answeredFigures()) this.inc({ transport: r.transport, family: r.family, kind: r.kind }, r.count);
        },
      });
      new Counter({
        name: 'wildkat_replies_total',
        help: 'Replies by transport and outcome: ok, refused (a request the tracker will not serve) or error (a bad request), with the error code as reason',
        labelNames: ['transport', 'outcome', 'reason'],
        registers,
        collect() {
          this.reset();
          const ok = new Map<Transport, number>();
          for (const r of s.collector.answeredFigures()) ok.set(r.transport, (ok.get(r.transport) ?? 0) + r.count);
          for (const [transport, count] of ok) this.inc({ transport, outcome: 'ok', reason: '' }, count);
          for (const e of s.collector.errorRepliesByTransport()) {
            const refusal = (ERRORS[e.code] as { refusal?: true }).refusal === true;
            this.inc({ transport: e.transport, outcome: refusal ? 'refused' : 'error', reason: e.code }, e.count);
          }
        },
      });
      // Kept by the collector in typed arrays (prom-client's observe costs an object and a label hash per reply, on the hot path); shown in its histogram form.
      const name = 'wildkat_response_seconds';
      const help = 'Time from a request arriving to its reply being handed to the socket, by transport';
      const responses = {
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        get: () => ({
          name,
          help,
          type: 'histogram',
          aggregator: 'sum',
          values: s.collector.responseTimes().flatMap((r) => [
            ...r.cumulative.map((value, b) => ({ metricName: `${name}_bucket`, labels: { le: b < RESPONSE_BUCKETS.length ? RESPONSE_BUCKETS[b]! : '+Inf', transport: r.transport }, value })),
            { metricName: `${name}_sum`, labels: { transport: r.transport }, value: r.sum },
            { metricName: `${name}_count`, labels: { transport: r.transport }, value: r.count },
          ]),
        }),
        reset: () => undefined,
      };
      this.registry.registerMetric(responses as unknown as Histogram);
      new Gauge({
        name: 'wildkat_event_loop_delay_p99_seconds',
        help: "Event-loop delay, 99th percentile of the last one to two minutes (the worst worker's with --workers)",
        registers,
        aggregator: 'max',
        collect() {
          this.set(s.loopDelay.figures().recentP99Ms / 1000);
        },
      });
    }
    if (shared) {
      new Gauge({
        name: 'wildkat_torrents',
        help: 'Live torrents (with at least one peer within the TTL)',
        registers,
        async collect() {
          this.set((await s.store.totals(s.clock.now())).torrents);
        },
      });
      new Gauge({
        name: 'wildkat_peers',
        help: 'Live peers by role',
        labelNames: ['role'],
        registers,
        async collect() {
          const t = await s.store.totals(s.clock.now());
          this.set({ role: 'seeder' }, t.seeders);
          this.set({ role: 'leecher' }, t.leechers);
        },
      });
      new Gauge({
        name: 'wildkat_tls_certificate_expiry_timestamp_seconds',
        help: "The not-after of each TLS listener's certificate, Unix time",
        labelNames: ['listener'],
        registers,
        collect() {
          this.reset();
          for (const c of s.certificates()) this.set({ listener: c.listener }, c.notAfter);
        },
      });
      if (s.access !== null) {
        const access = s.access;
        new Gauge({
          name: 'wildkat_access_list_hashes',
          help: 'Info hashes on the access list in force, by mode (allow or deny)',
          labelNames: ['mode'],
          registers,
          collect() {
            const a = access();
            this.reset();
            this.set({ mode: a.mode }, a.size);
          },
        });
        new Gauge({
          name: 'wildkat_access_list_last_reload_timestamp_seconds',
          help: 'When the access list was last loaded successfully, Unix time',
          registers,
          collect() {
            this.set(access().loadedAt);
          },
        });
        new Counter({
          name: 'wildkat_access_list_reload_failures_total',
          help: 'Reloads of the access list that could not read the file (the list in force stayed)',
          registers,
          collect() {
            this.reset();
            this.inc(access().reloadFailures);
          },
        });
      }
    }
    this.sweepSlice = new Histogram({ name: 'wildkat_sweep_slice_seconds', help: 'Duration of each sweeper slice (expired peers purged)', buckets: SLICE_BUCKETS, registers: shared ? registers : [] });
    this.stateSave = new Histogram({ name: 'wildkat_state_save_seconds', help: 'Duration of each --state-file save', buckets: SAVE_BUCKETS, registers: shared ? registers : [] });
    // Constructing an aggregator is what makes prom-client listen for the
    // primary's requests (in a worker) or the workers' answers (in the primary).
    const aggregator = role === 'all' ? null : new AggregatorRegistry<PrometheusContentType>();
    // A worker answers from this registry.
    if (role === 'worker') AggregatorRegistry.setRegistries([this.registry]);
    this.aggregator = role === 'stats' ? aggregator : null;
  }

  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

  observeSweepSlice(ms: number): void {
    this.sweepSlice.observe(ms / 1000);
  }

  observeStateSave(seconds: number): void {
    this.stateSave.observe(seconds);
  }

  /** The exposition: this process's figures, and with --workers every worker's together. */
  async render(): Promise<string> {
    const own = await this.registry.metrics();
    if (this.aggregator === null) return own;
    const workers = await this.aggregator.clusterMetrics();
    return `${workers.trimEnd()}\n${own}`;
  }
}
