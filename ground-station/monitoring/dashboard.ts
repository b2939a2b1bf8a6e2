/**
 * JSON views for the dashboard and the station API: pure functions of the collector and the alert engine at a time
 * passed in. The web layer maps them to routes and validates query parameters with SERIES_QUERY_SCHEMA.
 */
import { z } from 'zod';
import type { AlertEngine, AlertState } from './alert-engine.js';
import type { MetricsCollector } from './collector.js';
import { INTERVENTION_LAYERS, interventionMetric } from './metric-catalogue.js';
import { parseScopeKey } from './scope.js';
import { AGGREGATIONS, type Aggregation } from './series.js';

/** One scope over one window, in dashboard units; null where the window holds no data. */
export interface WindowSummary {
  readonly windowS: number;
  readonly episodes: number;
  readonly successes: number;
  /** 0..1 */
  readonly successRate: number | null;
  readonly meanReturn: number | null;
  /** Interventions per policy tick. */
  readonly interventionShare: number | null;
  readonly interventionsByLayer: Readonly<Record<string, number>>;
  readonly violations: number;
  readonly policyFaults: number;
  /** Median of the drones' reported p50s, us. */
  readonly latencyP50Us: number | null;
  /** Worst reported p99, us. */
  readonly latencyP99Us: number | null;
  readonly messagesPerS: number | null;
  /** Lowest and mean battery seen in telemetry over the window, 0..1. */
  readonly batteryMin: number | null;
  readonly batteryMean: number | null;
}

export function summarizeScope(
  collector: MetricsCollector,
  scopeKey: string,
  windowS: number,
  nowMs: number,
): WindowSummary {
  const sum = (m: string) => collector.aggregate(m, scopeKey, windowS, nowMs)?.sum ?? 0;
  const layers: Record<string, number> = {};
  for (const layer of INTERVENTION_LAYERS) layers[layer] = sum(interventionMetric(layer));
  const battery = collector.aggregate('battery_remaining', scopeKey, windowS, nowMs);
  return {
    windowS,
    episodes: sum('episodes'),
    successes: sum('successes'),
    successRate: collector.ratio('success_rate', scopeKey, windowS, nowMs)?.value ?? null,
    meanReturn: collector.ratio('mean_return', scopeKey, windowS, nowMs)?.value ?? null,
    interventionShare: collector.ratio('intervention_share', scopeKey, windowS, nowMs)?.value ?? null,
    interventionsByLayer: layers,
    violations: sum('violations'),
    policyFaults: sum('policy_faults'),
    latencyP50Us: collector.value('inference_latency_p50_us', scopeKey, windowS, nowMs, 'p50').value,
    latencyP99Us: collector.value('inference_latency_p99_us', scopeKey, windowS, nowMs, 'max').value,
    messagesPerS: collector.aggregate('messages', scopeKey, windowS, nowMs)?.ratePerS ?? null,
    batteryMin: battery?.min ?? null,
    batteryMean: battery?.mean ?? null,
  };
}

export interface OverviewOptions {
  /** Windows for the fleet and policies, s (default 1, 5, 60 min). */
  readonly windowsS?: readonly number[];
  /** Windows per drone, s (default 5 min only: a thousand drones times three windows is a heavy page). */
  readonly droneWindowsS?: readonly number[];
}

export interface Overview {
  readonly timeMs: number;
  readonly fleet: Readonly<Record<string, WindowSummary>>;
  readonly policies: readonly { readonly policyVersion: string; readonly windows: Record<string, WindowSummary> }[];
  readonly drones: readonly { readonly droneId: string; readonly windows: Record<string, WindowSummary> }[];
}

const label = (s: number): string => (s % 60 === 0 ? `${s / 60}m` : `${s}s`);

/** GET /api/monitoring/overview: fleet, per policy and per drone summaries keyed by window label ('1m', '5m'...). */
export function dashboardOverview(collector: MetricsCollector, nowMs: number, options: OverviewOptions = {}): Overview {
  const windows = options.windowsS ?? [60, 300, 3600];
  const droneWindows = options.droneWindowsS ?? [300];
  const over = (key: string, ws: readonly number[]) =>
    Object.fromEntries(ws.map((w) => [label(w), summarizeScope(collector, key, w, nowMs)]));
  return {
    timeMs: nowMs,
    fleet: over('fleet', windows),
    policies: collector.scopeKeys('policy').map((key) => ({
      policyVersion: key.slice('policy:'.length),
      windows: over(key, windows),
    })),
    drones: collector.scopeKeys('drone').map((key) => ({
      droneId: key.slice('drone:'.length),
      windows: over(key, droneWindows),
    })),
  };
}

/** Query of GET /api/monitoring/series (strings from a query string are coerced). */
export const SERIES_QUERY_SCHEMA = z
  .object({
    metric: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
    scope: z.string().refine((s) => parseScopeKey(s) !== null, 'scope is fleet, drone:<id> or policy:<version>'),
    windowS: z.coerce
      .number()
      .positive()
      .max(7 * 86_400)
      .default(300),
    agg: z.enum(AGGREGATIONS).default('mean'),
  })
  .strict();
export type SeriesQuery = z.infer<typeof SERIES_QUERY_SCHEMA>;

export interface SeriesView {
  readonly metric: string;
  readonly scope: string;
  readonly windowS: number;
  readonly agg: Aggregation;
  readonly bucketS: number;
  readonly points: readonly { readonly timeMs: number; readonly value: number | null }[];
}

/** GET /api/monitoring/series: bucketed chart points, oldest first. */
export function dashboardSeries(collector: MetricsCollector, query: SeriesQuery, nowMs: number): SeriesView {
  const { bucketS, points } = collector.timeSeries(query.metric, query.scope, query.windowS, nowMs, query.agg);
  return { ...query, bucketS, points };
}

/** GET /api/monitoring/alerts: live and recently resolved alerts, most severe and newest first. */
export function dashboardAlerts(engine: AlertEngine): {
  firing: AlertState[];
  pending: AlertState[];
  resolved: AlertState[];
} {
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  const all = engine
    .alerts()
    .sort((a, b) => rank[a.severity] - rank[b.severity] || b.activeAtMs - a.activeAtMs || (a.id < b.id ? -1 : 1));
  return {
    firing: all.filter((a) => a.state === 'firing'),
    pending: all.filter((a) => a.state === 'pending'),
    resolved: all.filter((a) => a.state === 'resolved'),
  };
}
