/**
 * Canary analysis: per-version samples from drone metrics windows, the sequential promote/hold/rollback test with
 * hard guards, A/B effect sizes, and seeded simulations with known effects. Pure.
 */
export { measureRollouts, type RolloutBenchResult, rolloutBenchmark } from './bench.js';
export {
  addWindow,
  emptySample,
  type MetricsWindow,
  type SampleSummary,
  summarise,
  type VersionSample,
  windowFromMetrics,
} from './sample.js';
export {
  type Analysis,
  type AnalysisConfig,
  analyse,
  DEFAULT_ANALYSIS_CONFIG,
  type Decision,
  type Effect,
  effectSizes,
  type MetricTest,
  type RolloutMetric,
} from './sequential.js';
export {
  BASELINE_MODEL,
  type CanaryRun,
  type CanaryScenario,
  DEGRADED_MODEL,
  simulateCanary,
  simulatePlan,
  simulateWindow,
  type VersionModel,
} from './simulate.js';
export { type Interval, type Moments, mixtureHalfWidth, proportionDifferenceCi, welchCi } from './stats.js';
