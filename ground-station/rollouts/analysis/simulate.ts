/**
 * Seeded synthetic canaries with known effects, for the tests and the `rollout.*` benchmark: each drone flies one
 * episode per metrics window with a success probability, a return that depends on the outcome, and an intervention
 * rate that varies from episode to episode (log-normal) around the version's mean.
 */
import type { Rng } from '../../../shared/random/index.js';
import { addWindow, emptySample, type MetricsWindow, type VersionSample } from './sample.js';
import { type Analysis, type AnalysisConfig, analyse, DEFAULT_ANALYSIS_CONFIG } from './sequential.js';

export interface VersionModel {
  /** Probability an episode succeeds, 0..1. */
  readonly successRate: number;
  /** Mean return of a successful and of a failed episode, and the spread around each. */
  readonly returnSuccess: number;
  readonly returnFailure: number;
  readonly returnSd: number;
  /** Mean interventions per policy tick, and the coefficient of variation of the per-episode rate. */
  readonly interventionsPerTick: number;
  readonly interventionsCv: number;
  readonly ticksPerEpisode: number;
  /** Probability a window carries a policy fault / a violation. */
  readonly faultProbability: number;
  readonly violationProbability: number;
}

/** A well-behaved baseline: 95 % success, 2 % of ticks corrected by the filter. */
export const BASELINE_MODEL: VersionModel = Object.freeze({
  successRate: 0.95,
  returnSuccess: 10,
  returnFailure: -5,
  returnSd: 2,
  interventionsPerTick: 0.02,
  interventionsCv: 0.5,
  ticksPerEpisode: 600,
  faultProbability: 0,
  violationProbability: 0,
});

/** The benchmark's known degradation: success 0.95 -> 0.75 and interventions per tick x3. */
export const DEGRADED_MODEL: VersionModel = Object.freeze({
  ...BASELINE_MODEL,
  successRate: 0.75,
  interventionsPerTick: 0.06,
});

function poisson(rng: Rng, lambda: number): number {
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

/** One window holding one finished episode of `model`. */
export function simulateWindow(
  rng: Rng,
  model: VersionModel,
  droneId: string,
  policyVersion: string,
  timeMs: number,
): MetricsWindow {
  const success = rng.next() < model.successRate;
  const ret = (success ? model.returnSuccess : model.returnFailure) + model.returnSd * rng.normal();
  const sigma = Math.sqrt(Math.log(1 + model.interventionsCv ** 2));
  const rate = model.interventionsPerTick * Math.exp(sigma * rng.normal() - (sigma * sigma) / 2);
  const ticks = model.ticksPerEpisode;
  return {
    droneId,
    policyVersion,
    timeMs,
    episodes: 1,
    successes: success ? 1 : 0,
    returnSum: ret,
    ticks,
    policyTicks: ticks,
    interventions: poisson(rng, rate * ticks),
    violations: rng.next() < model.violationProbability ? 1 : 0,
    policyFaults: rng.next() < model.faultProbability ? 1 : 0,
  };
}

export interface CanaryRun {
  readonly decision: Analysis['decision'];
  /** Candidate episodes flown when the decision came (or the cap). */
  readonly candidateEpisodes: number;
  readonly baselineEpisodes: number;
  readonly reasons: readonly string[];
}

export interface CanaryScenario {
  readonly drones: number;
  /** Share of the fleet on the candidate, 0..1 (at least one drone each side). */
  readonly share: number;
  readonly baseline: VersionModel;
  readonly candidate: VersionModel;
  /** Stop holding after this many candidate episodes. */
  readonly maxCandidateEpisodes: number;
  readonly config?: AnalysisConfig;
}

/**
 * One canary step: every drone finishes an episode per round; the analysis runs after each round until it promotes
 * or rolls back, or the cap is reached (hold).
 */
export function simulateCanary(rng: Rng, s: CanaryScenario): CanaryRun {
  const config = s.config ?? DEFAULT_ANALYSIS_CONFIG;
  const nCandidate = Math.min(s.drones - 1, Math.max(1, Math.round(s.drones * s.share)));
  const cand: VersionSample = emptySample();
  const base: VersionSample = emptySample();
  let timeMs = 0;
  for (;;) {
    timeMs += 10_000;
    for (let d = 0; d < s.drones; d++) {
      const onCandidate = d < nCandidate;
      const w = simulateWindow(rng, onCandidate ? s.candidate : s.baseline, `d${d}`, onCandidate ? 'c' : 'b', timeMs);
      addWindow(onCandidate ? cand : base, w);
    }
    const a = analyse(cand, base, config);
    if (a.decision !== 'hold' || cand.episodes >= s.maxCandidateEpisodes) {
      return {
        decision: a.decision,
        candidateEpisodes: cand.episodes,
        baselineEpisodes: base.episodes,
        reasons: a.reasons,
      };
    }
  }
}

/**
 * A whole staged plan (every step below 100 % analysed on a fresh window, alpha shared equally between them, as the
 * rollout manager does): 'completed' when every step promotes, else the first rollback, else 'held' at a cap.
 */
export function simulatePlan(
  rng: Rng,
  s: Omit<CanaryScenario, 'share'> & { readonly steps: readonly number[] },
): { outcome: 'completed' | 'rolled-back' | 'held'; candidateEpisodes: number } {
  const config = s.config ?? DEFAULT_ANALYSIS_CONFIG;
  const analysed = s.steps.filter((x) => x < 1);
  const stepConfig = { ...config, alpha: config.alpha / Math.max(1, analysed.length) };
  let episodes = 0;
  for (const share of analysed) {
    const run = simulateCanary(rng, { ...s, share, config: stepConfig });
    episodes += run.candidateEpisodes;
    if (run.decision === 'rollback') return { outcome: 'rolled-back', candidateEpisodes: episodes };
    if (run.decision === 'hold') return { outcome: 'held', candidateEpisodes: episodes };
  }
  return { outcome: 'completed', candidateEpisodes: episodes };
}
