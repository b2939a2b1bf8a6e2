/**
 * The canary decision: candidate against baseline over the same window. A sequential test (the always-valid
 * normal-mixture confidence sequence of each metric's difference) rolls back when the candidate is worse with
 * confidence 1 - alpha at any look; hard guards roll back at once on a violation-rate increase or a policy-fault
 * streak; after the minimum sample count it promotes when every metric is non-inferior within its margin, and holds
 * otherwise. Pure.
 */
import { type SampleSummary, summarise, type VersionSample } from './sample.js';
import {
  mixtureHalfWidth,
  momentMean,
  momentVariance,
  normalQuantile,
  proportionDifferenceCi,
  welchCi,
} from './stats.js';

export type Decision = 'promote' | 'hold' | 'rollback';
export type RolloutMetric = 'success_rate' | 'interventions_per_tick' | 'mean_return';

export interface AnalysisConfig {
  /** Error budget of a rollback of a candidate that is not worse, over all looks and metrics of one analysis. */
  readonly alpha: number;
  /** One-sided error of the non-inferiority check that promotes (later steps keep testing). */
  readonly promoteAlpha: number;
  /** Candidate episodes before any statistical decision (hard guards act earlier). */
  readonly minEpisodes: number;
  /** Baseline episodes before any statistical decision. */
  readonly minBaselineEpisodes: number;
  /** Episodes per side before a per-episode metric (return, interventions per tick) takes part. */
  readonly minWindows: number;
  /** Non-inferiority margin of the success rate (absolute, e.g. 0.05 = five points). */
  readonly successMargin: number;
  /** Interventions per tick may exceed the baseline's by this fraction and still count non-inferior. */
  readonly interventionsMarginRel: number;
  /** Mean return may fall below the baseline's by this fraction of its magnitude and still count non-inferior. */
  readonly returnMarginRel: number;
  /** Mixture scale of the success-rate test: the difference it detects fastest. */
  readonly successTau: number;
  /** Mixture scale of the per-episode tests, relative to the baseline's mean (or its spread when larger). */
  readonly windowTauRel: number;
  /** Consecutive faulty windows on one candidate drone that roll back at once. */
  readonly faultStreak: number;
}

export const DEFAULT_ANALYSIS_CONFIG: AnalysisConfig = Object.freeze({
  alpha: 0.01,
  promoteAlpha: 0.2,
  minEpisodes: 10,
  minBaselineEpisodes: 10,
  minWindows: 8,
  successMargin: 0.05,
  interventionsMarginRel: 0.25,
  returnMarginRel: 0.1,
  successTau: 0.15,
  windowTauRel: 1,
  faultStreak: 3,
});

export interface MetricTest {
  readonly metric: RolloutMetric;
  /** Candidate minus baseline. */
  readonly delta: number;
  /** Always-valid interval for the difference at this analysis' share of alpha. */
  readonly sequential: readonly [number, number];
  /** The candidate is worse with confidence (the interval lies wholly on the bad side of 0). */
  readonly worse: boolean;
  /** Non-inferior within the margin at promoteAlpha; null below the minimum sample. */
  readonly nonInferior: boolean | null;
}

export interface Effect {
  readonly metric: RolloutMetric;
  readonly delta: number;
  readonly ci95: readonly [number, number];
}

export interface Analysis {
  readonly decision: Decision;
  /** Why: one short sentence per reason (hard guard, metric worse, metrics short of their minimum). */
  readonly reasons: readonly string[];
  readonly candidate: SampleSummary;
  readonly baseline: SampleSummary;
  readonly tests: readonly MetricTest[];
  /** Fixed-sample 95 % effect sizes (A/B mode's readout; shown in staged mode too). */
  readonly effects: readonly Effect[];
}

const HIGHER_IS_BETTER: Record<RolloutMetric, boolean> = {
  success_rate: true,
  interventions_per_tick: false,
  mean_return: true,
};

/** Decide promote, hold or rollback of the candidate against the baseline over the same window. */
export function analyse(
  candidate: VersionSample,
  baseline: VersionSample,
  config: AnalysisConfig = DEFAULT_ANALYSIS_CONFIG,
): Analysis {
  const reasons: string[] = [];
  const tests = metricTests(candidate, baseline, config);
  const effects = effectSizes(candidate, baseline);
  const result = (decision: Decision): Analysis => ({
    decision,
    reasons,
    candidate: summarise(candidate),
    baseline: summarise(baseline),
    tests,
    effects,
  });

  // Hard guards: no sample size needed.
  if (candidate.maxFaultStreak >= config.faultStreak) {
    reasons.push(`policy faults in ${candidate.maxFaultStreak} consecutive windows on one candidate drone`);
  }
  const vRate = (s: VersionSample) => s.violations / Math.max(1, s.policyTicks);
  if (candidate.violations > 0 && vRate(candidate) > vRate(baseline)) {
    reasons.push(
      `violation rate up: ${candidate.violations} in ${candidate.policyTicks} candidate ticks against ` +
        `${baseline.violations} in ${baseline.policyTicks} baseline ticks`,
    );
  }
  if (reasons.length > 0) return result('rollback');

  if (candidate.episodes < config.minEpisodes || baseline.episodes < config.minBaselineEpisodes) {
    reasons.push(
      `waiting for the minimum sample: ${candidate.episodes}/${config.minEpisodes} candidate and ` +
        `${baseline.episodes}/${config.minBaselineEpisodes} baseline episodes`,
    );
    return result('hold');
  }
  const worse = tests.filter((t) => t.worse);
  if (worse.length > 0) {
    for (const t of worse) {
      reasons.push(
        `${t.metric} worse: ${fmt(t.delta)} (always-valid ${fmt(t.sequential[0])}..${fmt(t.sequential[1])})`,
      );
    }
    return result('rollback');
  }
  const pending = tests.filter((t) => t.nonInferior !== true);
  if (pending.length === 0) {
    reasons.push('every metric non-inferior within its margin');
    return result('promote');
  }
  for (const t of pending) {
    reasons.push(t.nonInferior === null ? `${t.metric}: not enough windows` : `${t.metric}: not yet non-inferior`);
  }
  return result('hold');
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(+x.toPrecision(3)) : String(x);
}

/** The sequential test and the non-inferiority check of each metric that has data on both sides. */
export function metricTests(c: VersionSample, b: VersionSample, config: AnalysisConfig): MetricTest[] {
  const tests: MetricTest[] = [];
  const alphaEach = config.alpha / 3;
  const zPromote = normalQuantile(1 - config.promoteAlpha);
  const enough = c.episodes >= config.minEpisodes && b.episodes >= config.minBaselineEpisodes;

  if (c.episodes > 0 && b.episodes > 0) {
    // Bernoulli per episode; variances from the smoothed rates so a perfect record does not claim zero spread.
    const pc = c.successes / c.episodes;
    const pb = b.successes / b.episodes;
    const sc = (c.successes + 1) / (c.episodes + 2);
    const sb = (b.successes + 1) / (b.episodes + 2);
    const v = (sc * (1 - sc)) / c.episodes + (sb * (1 - sb)) / b.episodes;
    tests.push(
      makeTest('success_rate', pc - pb, v, config.successTau, alphaEach, zPromote, -config.successMargin, enough),
    );
  }
  const windowed = (metric: RolloutMetric, mc: VersionSample['returnPerEpisode'], mb: typeof mc, marginRel: number) => {
    if (mc.n < 2 || mb.n < 2) return;
    const meanB = momentMean(mb);
    const v = momentVariance(mc) / mc.n + momentVariance(mb) / mb.n;
    const scale = Math.max(Math.abs(meanB), Math.sqrt(momentVariance(mb)), 1e-9);
    const margin = marginRel * Math.max(Math.abs(meanB), 1e-9);
    const ok = enough && mc.n >= config.minWindows && mb.n >= config.minWindows;
    const signedMargin = HIGHER_IS_BETTER[metric] ? -margin : margin;
    tests.push(
      makeTest(metric, momentMean(mc) - meanB, v, config.windowTauRel * scale, alphaEach, zPromote, signedMargin, ok),
    );
  };
  windowed('interventions_per_tick', c.interventionsPerTick, b.interventionsPerTick, config.interventionsMarginRel);
  windowed('mean_return', c.returnPerEpisode, b.returnPerEpisode, config.returnMarginRel);
  return tests;
}

function makeTest(
  metric: RolloutMetric,
  delta: number,
  variance: number,
  tau: number,
  alpha: number,
  zPromote: number,
  /** The difference non-inferiority must clear: negative for higher-is-better metrics, positive otherwise. */
  margin: number,
  enough: boolean,
): MetricTest {
  const w = mixtureHalfWidth(variance, tau, alpha);
  const up = HIGHER_IS_BETTER[metric];
  const lo = delta - w;
  const hi = delta + w;
  const fixed = zPromote * Math.sqrt(variance);
  const nonInferior = !enough ? null : up ? delta - fixed > margin : delta + fixed < margin;
  return { metric, delta, sequential: [lo, hi], worse: enough && (up ? hi < 0 : lo > 0), nonInferior };
}

/** Fixed-sample 95 % effect sizes: Agresti-Caffo for the success rate, Welch for per-episode return and interventions. */
export function effectSizes(c: VersionSample, b: VersionSample): Effect[] {
  const effects: Effect[] = [];
  if (c.episodes > 0 && b.episodes > 0) {
    const ci = proportionDifferenceCi(c.successes, c.episodes, b.successes, b.episodes);
    effects.push({ metric: 'success_rate', delta: ci.delta, ci95: [ci.lo, ci.hi] });
  }
  const r = welchCi(c.returnPerEpisode, b.returnPerEpisode);
  if (r) effects.push({ metric: 'mean_return', delta: r.delta, ci95: [r.lo, r.hi] });
  const i = welchCi(c.interventionsPerTick, b.interventionsPerTick);
  if (i) effects.push({ metric: 'interventions_per_tick', delta: i.delta, ci95: [i.lo, i.hi] });
  return effects;
}
