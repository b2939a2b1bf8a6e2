/**
 * The metrics the station derives from drone messages, with their meaning: the names the collector stores, alert
 * rules name, and Prometheus exports (prefixed `aerie_`). Any other snake_case name may be ingested too.
 */

/** Safety layers as the metrics message counts them (protocol `interventionsByLayer`). */
export const INTERVENTION_LAYERS = ['sanity', 'box', 'barrier', 'shield', 'monitor'] as const;

export const METRIC_HELP: Readonly<Record<string, string>> = {
  episodes: 'Delivery episodes finished.',
  successes: 'Delivery episodes finished successfully.',
  return_sum: 'Sum of episode returns (reward).',
  ticks: 'Control ticks run.',
  policy_ticks: 'Control ticks flown by the learned policy.',
  interventions: 'Safety-filter interventions, all layers.',
  violations: 'Safety violations (a constraint breached despite the filter).',
  policy_faults: 'Policy faults (inference error, non-finite output, timeout).',
  inference_latency_p50_us: 'Median policy inference latency reported per drone window, microseconds.',
  inference_latency_p99_us: '99th percentile policy inference latency reported per drone window, microseconds.',
  battery_remaining: 'Battery state of charge, 0..1, from telemetry.',
  telemetry: 'Telemetry messages received.',
  messages: 'Messages received from drones (telemetry, events, metrics).',
};

/** Metrics whose windows keep a quantile sketch (others give count/sum/mean/min/max/rate/last only). */
export const DISTRIBUTION_METRICS: readonly string[] = ['inference_latency_p50_us', 'inference_latency_p99_us'];

/** Ratios of two window sums, queried like metrics: value = sum(numerator) / sum(denominator). */
export const RATIO_METRICS: Readonly<Record<string, { numerator: string; denominator: string; help: string }>> = {
  success_rate: { numerator: 'successes', denominator: 'episodes', help: 'Successful share of finished episodes.' },
  intervention_share: {
    numerator: 'interventions',
    denominator: 'policy_ticks',
    help: 'Safety interventions per policy tick.',
  },
  mean_return: { numerator: 'return_sum', denominator: 'episodes', help: 'Mean episode return.' },
};

export const interventionMetric = (layer: string): string => `interventions_${layer}`;

/** Metric names are Prometheus-safe snake_case. */
export const METRIC_NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;
