/**
 * Fleet monitoring: a windowed metrics collector (1/5/60 min per drone, per policy version, fleet-wide), alert rules
 * with pending/firing/resolved states and snapshots, a webhook notifier, Prometheus exposition and dashboard JSON.
 * Pure apart from the notifier's injected fetch: no MQTT, HTTP server or database here.
 */
export {
  ALERT_SNAPSHOT_SCHEMA,
  AlertEngine,
  type AlertEngineOptions,
  type AlertSnapshot,
  type AlertState,
  type AlertStateName,
  type AlertTransition,
  type EvaluateContext,
  type MetricsSource,
} from './alert-engine.js';
export {
  ALERT_RULE_SCHEMA,
  type AlertExpr,
  type AlertRule,
  absence,
  COMPARE_OPS,
  type CompareOp,
  DEFAULT_ALERT_RULES,
  parseAlertRules,
  rateOfChange,
  SEVERITIES,
  type Severity,
  threshold,
} from './alert-rules.js';
export { type CollectorStats, MetricsCollector, type RatioAggregate } from './collector.js';
export {
  COLLECTOR_CONFIG,
  type CollectorConfig,
  type EventInput,
  type MetricSample,
  type MetricsWindowInput,
  parseCollectorConfig,
  type TelemetryInput,
} from './collector-config.js';
export {
  dashboardAlerts,
  dashboardOverview,
  dashboardSeries,
  type Overview,
  type OverviewOptions,
  SERIES_QUERY_SCHEMA,
  type SeriesQuery,
  type SeriesView,
  summarizeScope,
  type WindowSummary,
} from './dashboard.js';
export {
  DISTRIBUTION_METRICS,
  INTERVENTION_LAYERS,
  interventionMetric,
  METRIC_HELP,
  RATIO_METRICS,
} from './metric-catalogue.js';
export {
  escapeLabelValue,
  formatValue,
  type PrometheusOptions,
  type RegistryDroneView,
  type RegistrySnapshot,
  renderPrometheus,
} from './prometheus.js';
export { droneScope, FLEET, parseScopeKey, policyScope, type Scope, type ScopeKind, scopeKey } from './scope.js';
export { AGGREGATIONS, type Aggregation, type WindowAggregate } from './series.js';
export {
  type FetchLike,
  WebhookNotifier,
  type WebhookOptions,
  type WebhookPayload,
  type WebhookStats,
} from './webhook.js';
