/**
 * Prometheus text exposition (format 0.0.4) of the fleet: registry gauges, windowed rates and ratios per scope,
 * counters since the station started, and alert counts. Pure: the HTTP layer serves the string as
 * `text/plain; version=0.0.4`. Units follow Prometheus conventions (seconds, ratios 0..1, `_total` counters).
 */
import type { AlertState } from './alert-engine.js';
import type { MetricsCollector } from './collector.js';
import { INTERVENTION_LAYERS, interventionMetric } from './metric-catalogue.js';
import { parseScopeKey } from './scope.js';

/** The fleet registry as the exporter needs it. */
export interface RegistryDroneView {
  readonly id: string;
  readonly online: boolean;
  /** 0..1, from the latest telemetry. */
  readonly batteryRemaining?: number | null;
  readonly policyVersion?: string | null;
  /** Unix ms of the latest message. */
  readonly lastSeenMs?: number | null;
}

export interface RegistrySnapshot {
  readonly drones: readonly RegistryDroneView[];
}

export interface PrometheusOptions {
  readonly nowMs: number;
  readonly alerts?: readonly Pick<AlertState, 'state' | 'severity'>[];
  /** Windows for windowed gauges, s (default 1, 5 and 60 min). */
  readonly windowsS?: readonly number[];
  /** Also export per-drone windowed gauges and counters (default true; turn off for very large fleets). */
  readonly perDrone?: boolean;
}

type Labels = Readonly<Record<string, string>>;
interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export const escapeLabelValue = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

export const windowLabel = (s: number): string => (s % 60 === 0 ? `${s / 60}m` : `${s}s`);

function scopeLabels(key: string): Labels {
  const scope = parseScopeKey(key);
  if (!scope || scope.kind === 'fleet') return { scope: 'fleet' };
  return scope.kind === 'drone'
    ? { scope: 'drone', drone_id: scope.droneId }
    : { scope: 'policy', policy_version: scope.policyVersion };
}

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'gauge' | 'counter', help: string, samples: readonly Sample[]): void {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const s of samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
        .join(',');
      this.lines.push(`${name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}`);
    }
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export function renderPrometheus(
  collector: MetricsCollector,
  registry: RegistrySnapshot,
  options: PrometheusOptions,
): string {
  const { nowMs } = options;
  const windows = options.windowsS ?? [60, 300, 3600];
  const out = new Exposition();
  const drones = [...registry.drones].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  out.family(
    'aerie_drone_online',
    'gauge',
    '1 if the drone is online (birth seen, no death since).',
    drones.map((d) => ({ labels: { drone_id: d.id }, value: d.online ? 1 : 0 })),
  );
  out.family(
    'aerie_drone_battery_remaining',
    'gauge',
    'Battery state of charge from the latest telemetry, 0..1.',
    drones
      .filter((d) => typeof d.batteryRemaining === 'number')
      .map((d) => ({ labels: { drone_id: d.id }, value: d.batteryRemaining as number })),
  );
  out.family(
    'aerie_drone_last_seen_age_seconds',
    'gauge',
    'Seconds since the latest message from the drone.',
    drones
      .filter((d) => typeof d.lastSeenMs === 'number')
      .map((d) => ({ labels: { drone_id: d.id }, value: (nowMs - (d.lastSeenMs as number)) / 1000 })),
  );
  out.family(
    'aerie_drone_policy_info',
    'gauge',
    'The policy version a drone flies (always 1).',
    drones
      .filter((d) => typeof d.policyVersion === 'string')
      .map((d) => ({ labels: { drone_id: d.id, policy_version: d.policyVersion as string }, value: 1 })),
  );
  const online = drones.filter((d) => d.online).length;
  out.family('aerie_drones', 'gauge', 'Drones known to the registry, by state.', [
    { labels: { state: 'online' }, value: online },
    { labels: { state: 'offline' }, value: drones.length - online },
  ]);

  const scopes = [
    'fleet',
    ...collector.scopeKeys('policy'),
    ...(options.perDrone === false ? [] : collector.scopeKeys('drone')),
  ];
  const windowed = (pick: (key: string, windowS: number) => number | null): Sample[] => {
    const samples: Sample[] = [];
    for (const key of scopes) {
      for (const w of windows) {
        const v = pick(key, w);
        if (v !== null) samples.push({ labels: { ...scopeLabels(key), window: windowLabel(w) }, value: v });
      }
    }
    return samples;
  };
  const ratio = (name: string) => (key: string, w: number) => collector.ratio(name, key, w, nowMs)?.value ?? null;
  out.family(
    'aerie_success_rate',
    'gauge',
    'Successful share of finished deliveries over the window.',
    windowed(ratio('success_rate')),
  );
  out.family(
    'aerie_intervention_share',
    'gauge',
    'Safety interventions per policy tick over the window.',
    windowed(ratio('intervention_share')),
  );
  out.family('aerie_mean_return', 'gauge', 'Mean episode return over the window.', windowed(ratio('mean_return')));
  out.family(
    'aerie_messages_per_second',
    'gauge',
    'Messages received from drones per second over the window.',
    windowed((key, w) => collector.aggregate('messages', key, w, nowMs)?.ratePerS ?? null),
  );
  const latency = (metric: string, agg: 'max' | 'p50') => (key: string, w: number) => {
    const v = collector.value(metric, key, w, nowMs, agg).value;
    return v === null ? null : v / 1e6;
  };
  out.family(
    'aerie_inference_latency_p99_seconds',
    'gauge',
    'Worst per-drone p99 policy inference latency reported in the window, seconds.',
    windowed(latency('inference_latency_p99_us', 'max')),
  );
  out.family(
    'aerie_inference_latency_p50_seconds',
    'gauge',
    'Median of the per-drone p50 policy inference latencies reported in the window, seconds.',
    windowed(latency('inference_latency_p50_us', 'p50')),
  );

  const counter = (metric: string): Sample[] =>
    scopes.flatMap((key) => {
      const t = collector.totals(metric, key);
      return t ? [{ labels: scopeLabels(key), value: t.sum }] : [];
    });
  out.family('aerie_episodes_total', 'counter', 'Delivery episodes finished.', counter('episodes'));
  out.family('aerie_successes_total', 'counter', 'Delivery episodes finished successfully.', counter('successes'));
  out.family('aerie_violations_total', 'counter', 'Safety violations despite the filter.', counter('violations'));
  out.family('aerie_policy_faults_total', 'counter', 'Policy faults.', counter('policy_faults'));
  out.family('aerie_messages_total', 'counter', 'Messages received from drones.', counter('messages'));
  const layers = new Set<string>(INTERVENTION_LAYERS);
  for (const key of scopes) {
    for (const m of collector.metrics(key)) if (m.startsWith('interventions_')) layers.add(m.slice(14));
  }
  out.family(
    'aerie_interventions_total',
    'counter',
    'Safety-filter interventions, by layer.',
    [...layers]
      .sort()
      .flatMap((layer) =>
        counter(interventionMetric(layer)).map((s) => ({ labels: { ...s.labels, layer }, value: s.value })),
      ),
  );

  const alerts = options.alerts ?? [];
  const bySeverity = (state: 'firing' | 'pending'): Sample[] =>
    (['critical', 'warning', 'info'] as const).map((severity) => ({
      labels: { severity },
      value: alerts.filter((a) => a.state === state && a.severity === severity).length,
    }));
  out.family('aerie_alerts_firing', 'gauge', 'Alerts firing, by severity.', bySeverity('firing'));
  out.family(
    'aerie_alerts_pending',
    'gauge',
    'Alerts pending (condition true, not yet for long enough).',
    bySeverity('pending'),
  );

  const stats = collector.stats();
  out.family('aerie_metrics_series', 'gauge', 'Metric series held by the collector.', [
    { labels: {}, value: stats.series },
  ]);
  out.family('aerie_metrics_samples_dropped_total', 'counter', 'Samples the collector refused.', [
    { labels: {}, value: stats.samplesDropped },
  ]);
  return out.text();
}
