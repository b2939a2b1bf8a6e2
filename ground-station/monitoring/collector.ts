/**
 * The metrics collector: samples from drones land in bucketed rings per (metric, scope), each sample counted in the
 * fleet scope, its drone's scope and its policy version's scope. Queries reduce a sliding window (1, 5, 60 min or
 * any other up to the longest) at a time the caller passes in. Memory-bounded: fixed rings per series, a cap on the
 * number of series, and prune() forgets drones and policies silent for longer than the longest window.
 */
import {
  type CollectorConfig,
  type EventInput,
  type MetricSample,
  type MetricsWindowInput,
  parseCollectorConfig,
  type TelemetryInput,
} from './collector-config.js';
import {
  DISTRIBUTION_METRICS,
  INTERVENTION_LAYERS,
  interventionMetric,
  METRIC_NAME_RE,
  RATIO_METRICS,
} from './metric-catalogue.js';
import { parseScopeKey, type Scope, type ScopeKind, scopeKey } from './scope.js';
import { type Aggregation, Series, type SeriesLayout, type WindowAggregate } from './series.js';

export interface CollectorStats {
  readonly series: number;
  readonly samplesStored: number;
  /** Samples refused: bad name or value, too old, or over the series cap. */
  readonly samplesDropped: number;
}

/** A ratio over a window: sum(numerator) / sum(denominator); value null when the denominator sum is 0. */
export interface RatioAggregate {
  readonly value: number | null;
  readonly numerator: number;
  readonly denominator: number;
}

export class MetricsCollector {
  readonly config: CollectorConfig;
  private readonly layout: SeriesLayout;
  /** scope key -> metric -> series. */
  private readonly scopes = new Map<string, Map<string, Series>>();
  private readonly distributions: ReadonlySet<string>;
  private seriesCount = 0;
  private stored = 0;
  private dropped = 0;

  constructor(config: CollectorConfig = parseCollectorConfig({}), distributions = DISTRIBUTION_METRICS) {
    this.config = config;
    this.layout = {
      fineBucketMs: config.fineBucketS * 1000,
      fineWindowMs: config.fineWindowS * 1000,
      coarseBucketMs: config.coarseBucketS * 1000,
      coarseWindowMs: config.coarseWindowS * 1000,
    };
    this.distributions = new Set(distributions);
  }

  /** Store one sample in the fleet scope and, when named, its drone's and policy version's. False if refused. */
  ingest(sample: MetricSample): boolean {
    if (!METRIC_NAME_RE.test(sample.name) || !Number.isFinite(sample.value) || !Number.isFinite(sample.timeMs)) {
      this.dropped++;
      return false;
    }
    let ok = this.addTo('fleet', sample);
    if (sample.droneId) ok = this.addTo(`drone:${sample.droneId}`, sample) && ok;
    if (sample.policyVersion) ok = this.addTo(`policy:${sample.policyVersion}`, sample) && ok;
    return ok;
  }

  private addTo(key: string, sample: MetricSample): boolean {
    let metrics = this.scopes.get(key);
    let series = metrics?.get(sample.name);
    if (!series) {
      if (this.seriesCount >= this.config.maxSeries) {
        this.dropped++;
        return false;
      }
      if (!metrics) {
        metrics = new Map();
        this.scopes.set(key, metrics);
      }
      series = new Series(this.layout, this.distributions.has(sample.name));
      metrics.set(sample.name, series);
      this.seriesCount++;
    }
    if (!series.add(sample.timeMs, sample.value)) {
      this.dropped++;
      return false;
    }
    this.stored++;
    return true;
  }

  /** Unpack a drone's metrics window into samples at its timeMs. */
  ingestMetricsWindow(m: MetricsWindowInput): void {
    const base = { timeMs: m.timeMs, droneId: m.id, policyVersion: m.policyVersion ?? undefined };
    const put = (name: string, value: number) => this.ingest({ ...base, name, value });
    put('episodes', m.episodes);
    put('successes', m.successes);
    put('return_sum', m.returnSum);
    put('ticks', m.ticks);
    put('policy_ticks', m.policyTicks);
    let interventions = 0;
    const layers = new Set<string>([...INTERVENTION_LAYERS, ...Object.keys(m.interventionsByLayer)]);
    for (const layer of layers) {
      const n = m.interventionsByLayer[layer] ?? 0;
      if (!Number.isFinite(n)) continue;
      interventions += n;
      put(interventionMetric(layer), n);
    }
    put('interventions', interventions);
    put('violations', m.violations);
    put('policy_faults', m.policyFaults);
    // A window without policy ticks has no latency to report (zeros would drag the quantiles down).
    if (m.policyTicks > 0) {
      const { p50, p99 } = m.inferenceLatencyUs;
      if (p50 !== null) put('inference_latency_p50_us', p50);
      if (p99 !== null) put('inference_latency_p99_us', p99);
    }
    put('messages', 1);
  }

  ingestTelemetry(t: TelemetryInput): void {
    const base = { timeMs: t.timeMs, droneId: t.id, policyVersion: t.policyVersion ?? undefined };
    if (typeof t.batteryRemaining === 'number')
      this.ingest({ ...base, name: 'battery_remaining', value: t.batteryRemaining });
    this.ingest({ ...base, name: 'telemetry', value: 1 });
    this.ingest({ ...base, name: 'messages', value: 1 });
  }

  /** Counts events as `events_<kind>` (kind reduced to snake_case). */
  ingestEvent(e: EventInput): void {
    const base = { timeMs: e.timeMs, droneId: e.id, policyVersion: e.policyVersion ?? undefined };
    const kind = e.kind
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .slice(0, 40);
    this.ingest({ ...base, name: `events_${kind}`, value: 1 });
    this.ingest({ ...base, name: 'messages', value: 1 });
  }

  private series(metric: string, scope: Scope | string): Series | undefined {
    return this.scopes.get(typeof scope === 'string' ? scope : scopeKey(scope))?.get(metric);
  }

  /** A window of one metric in one scope at nowMs; null when the series does not exist. */
  aggregate(metric: string, scope: Scope | string, windowS: number, nowMs: number): WindowAggregate | null {
    return this.series(metric, scope)?.aggregate(nowMs, windowS * 1000) ?? null;
  }

  /** Quantile q in [0, 1] of a distribution metric over the window; null if not a distribution or empty. */
  quantile(metric: string, scope: Scope | string, windowS: number, nowMs: number, q: number): number | null {
    return this.series(metric, scope)?.quantile(nowMs, windowS * 1000, q) ?? null;
  }

  /** A registered ratio (RATIO_METRICS) over the window. */
  ratio(name: string, scope: Scope | string, windowS: number, nowMs: number): RatioAggregate | null {
    const def = RATIO_METRICS[name];
    if (!def) return null;
    const num = this.aggregate(def.numerator, scope, windowS, nowMs);
    const den = this.aggregate(def.denominator, scope, windowS, nowMs);
    if (!num && !den) return null;
    const numerator = num?.sum ?? 0;
    const denominator = den?.sum ?? 0;
    return { value: denominator > 0 ? numerator / denominator : null, numerator, denominator };
  }

  /**
   * One number for rules and charts: a ratio's value (agg ignored), or the metric's aggregate. `weight` is what
   * minimum-count guards compare: the ratio's denominator sum, or the sample count.
   */
  value(
    metric: string,
    scope: Scope | string,
    windowS: number,
    nowMs: number,
    agg: Aggregation = 'mean',
  ): { value: number | null; weight: number } {
    if (RATIO_METRICS[metric]) {
      const r = this.ratio(metric, scope, windowS, nowMs);
      return { value: r?.value ?? null, weight: r?.denominator ?? 0 };
    }
    const a = this.aggregate(metric, scope, windowS, nowMs);
    if (!a) return { value: null, weight: 0 };
    const q = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 } as const;
    let value: number | null;
    if (agg === 'p50' || agg === 'p90' || agg === 'p95' || agg === 'p99') {
      value = this.quantile(metric, scope, windowS, nowMs, q[agg]);
    } else if (agg === 'count' || agg === 'sum') {
      value = a[agg];
    } else if (agg === 'rate') value = a.ratePerS;
    else value = a[agg];
    return { value, weight: a.count };
  }

  /**
   * Least-squares slope of the bucket means over the window, per minute; null with fewer than two buckets of data.
   * Ratios use their per-bucket ratio.
   */
  slopePerMin(metric: string, scope: Scope | string, windowS: number, nowMs: number): number | null {
    const pts = this.timeSeries(metric, scope, windowS, nowMs, 'mean').points.filter((p) => p.value !== null);
    if (pts.length < 2) return null;
    const n = pts.length;
    const mt = pts.reduce((s, p) => s + p.timeMs, 0) / n;
    const mv = pts.reduce((s, p) => s + (p.value as number), 0) / n;
    let num = 0;
    let den = 0;
    for (const p of pts) {
      num += (p.timeMs - mt) * ((p.value as number) - mv);
      den += (p.timeMs - mt) ** 2;
    }
    return den > 0 ? (num / den) * 60_000 : null;
  }

  /** Bucketed points for a chart, oldest first (value null: no data in that bucket). Ratios per bucket. */
  timeSeries(
    metric: string,
    scope: Scope | string,
    windowS: number,
    nowMs: number,
    agg: Aggregation = 'mean',
  ): { bucketS: number; points: { timeMs: number; value: number | null }[] } {
    const windowMs = windowS * 1000;
    const def = RATIO_METRICS[metric];
    if (def) {
      const num = this.series(def.numerator, scope);
      const den = this.series(def.denominator, scope);
      const probe = den ?? num;
      if (!probe) return { bucketS: this.bucketSFor(windowS), points: [] };
      const ns = num?.points(nowMs, windowMs, 'sum');
      const ds = den?.points(nowMs, windowMs, 'sum') ?? [];
      const points = ds.map((p, k) => {
        const d = p.value ?? 0;
        return { timeMs: p.timeMs, value: d > 0 ? (ns?.[k].value ?? 0) / d : null };
      });
      return { bucketS: probe.bucketMsFor(windowMs) / 1000, points };
    }
    const s = this.series(metric, scope);
    if (!s) return { bucketS: this.bucketSFor(windowS), points: [] };
    return { bucketS: s.bucketMsFor(windowMs) / 1000, points: s.points(nowMs, windowMs, agg) };
  }

  private bucketSFor(windowS: number): number {
    return windowS <= this.config.fineWindowS ? this.config.fineBucketS : this.config.coarseBucketS;
  }

  /** Newest sample time of a metric in a scope (for absence rules), or undefined if never seen. */
  lastSeenMs(metric: string, scope: Scope | string): number | undefined {
    const s = this.series(metric, scope);
    return s && s.totalCount > 0 ? s.lastTimeMs : undefined;
  }

  /** Newest value of a metric in a scope, whatever its age. */
  lastValue(metric: string, scope: Scope | string): { value: number; timeMs: number } | undefined {
    const s = this.series(metric, scope);
    return s && s.totalCount > 0 ? { value: s.lastValue, timeMs: s.lastTimeMs } : undefined;
  }

  /** Count and sum of every sample stored since start (Prometheus counters). */
  totals(metric: string, scope: Scope | string): { count: number; sum: number } | undefined {
    const s = this.series(metric, scope);
    return s ? { count: s.totalCount, sum: s.totalSum } : undefined;
  }

  /** Scope keys known, of one kind or all, sorted. */
  scopeKeys(kind?: ScopeKind): string[] {
    const keys = [...this.scopes.keys()].filter((k) => kind === undefined || parseScopeKey(k)?.kind === kind);
    return keys.sort();
  }

  hasScope(key: string): boolean {
    return this.scopes.has(key);
  }

  /** Metric names held in a scope, sorted. */
  metrics(scope: Scope | string): string[] {
    return [...(this.scopes.get(typeof scope === 'string' ? scope : scopeKey(scope))?.keys() ?? [])].sort();
  }

  /** Forget drone and policy scopes with no sample for longer than the longest window. Returns scopes removed. */
  prune(nowMs: number): number {
    const horizon = nowMs - this.config.coarseWindowS * 1000;
    let removed = 0;
    for (const [key, metrics] of this.scopes) {
      if (key === 'fleet') continue;
      let newest = Number.NEGATIVE_INFINITY;
      for (const s of metrics.values()) newest = Math.max(newest, s.lastTimeMs);
      if (newest < horizon) {
        this.seriesCount -= metrics.size;
        this.scopes.delete(key);
        removed++;
      }
    }
    return removed;
  }

  stats(): CollectorStats {
    return { series: this.seriesCount, samplesStored: this.stored, samplesDropped: this.dropped };
  }
}
