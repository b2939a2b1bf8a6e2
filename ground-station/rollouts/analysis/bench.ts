/**
 * The `rollout.*` benchmark figures (test/bench registers this as is): over many seeded simulated canaries with known
 * effects, the candidate episodes until a known degradation is rolled back, and the share of identical candidates a
 * whole staged plan rolls back. Fleet: 10 drones, canary 20 %, steps 20 % -> 50 % -> 100 %, default analysis config.
 */
import { createRng } from '../../../shared/random/index.js';
import type { AnalysisConfig } from './sequential.js';
import { BASELINE_MODEL, DEGRADED_MODEL, simulateCanary, simulatePlan, type VersionModel } from './simulate.js';

export interface RolloutFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note: string;
}

export interface RolloutBenchResult {
  readonly meanEpisodesToRollback: number;
  readonly p90EpisodesToRollback: number;
  /** Degraded runs the cap reached without a rollback. */
  readonly missedRollbacks: number;
  readonly falseRollbackRate: number;
  readonly completedRate: number;
}

export function measureRollouts(opts: {
  degradedRuns: number;
  identicalRuns: number;
  degraded?: VersionModel;
  config?: AnalysisConfig;
  seed?: number;
}): RolloutBenchResult {
  const seed = opts.seed ?? 1;
  const episodes: number[] = [];
  let missed = 0;
  for (let r = 0; r < opts.degradedRuns; r++) {
    const run = simulateCanary(createRng(seed * 1_000_003 + r), {
      drones: 10,
      share: 0.2,
      baseline: BASELINE_MODEL,
      candidate: opts.degraded ?? DEGRADED_MODEL,
      maxCandidateEpisodes: 400,
      config: opts.config,
    });
    if (run.decision === 'rollback') episodes.push(run.candidateEpisodes);
    else missed++;
  }
  let rolledBack = 0;
  let completed = 0;
  for (let r = 0; r < opts.identicalRuns; r++) {
    const run = simulatePlan(createRng(seed * 2_000_003 + r), {
      drones: 10,
      steps: [0.2, 0.5, 1],
      baseline: BASELINE_MODEL,
      candidate: BASELINE_MODEL,
      maxCandidateEpisodes: 400,
      config: opts.config,
    });
    if (run.outcome === 'rolled-back') rolledBack++;
    else if (run.outcome === 'completed') completed++;
  }
  episodes.sort((a, b) => a - b);
  return {
    meanEpisodesToRollback: episodes.reduce((a, b) => a + b, 0) / Math.max(1, episodes.length),
    p90EpisodesToRollback: episodes.length ? episodes[Math.ceil(0.9 * episodes.length) - 1] : Number.NaN,
    missedRollbacks: missed,
    falseRollbackRate: rolledBack / Math.max(1, opts.identicalRuns),
    completedRate: completed / Math.max(1, opts.identicalRuns),
  };
}

export const rolloutBenchmark = {
  name: 'rollout',
  figures: [
    'rollout.episodes_to_rollback',
    'rollout.episodes_to_rollback_p90',
    'rollout.false_rollback_rate',
    'rollout.episodes_to_rollback_success_only',
  ] as const,
  async run(): Promise<RolloutFigure[]> {
    const main = measureRollouts({ degradedRuns: 2000, identicalRuns: 20_000 });
    const successOnly = measureRollouts({
      degradedRuns: 500,
      identicalRuns: 0,
      degraded: { ...DEGRADED_MODEL, interventionsPerTick: BASELINE_MODEL.interventionsPerTick },
    });
    const fleet = '10 drones, canary 20 %';
    return [
      {
        name: 'rollout.episodes_to_rollback',
        value: main.meanEpisodesToRollback,
        unit: 'episodes',
        note: `mean over 2000 canaries; success 0.95 -> 0.75 and interventions/tick x3; ${fleet}; missed ${main.missedRollbacks}; goal <= 30`,
      },
      {
        name: 'rollout.episodes_to_rollback_p90',
        value: main.p90EpisodesToRollback,
        unit: 'episodes',
        note: 'same runs, 90th percentile',
      },
      {
        name: 'rollout.false_rollback_rate',
        value: main.falseRollbackRate,
        unit: 'share',
        note: `identical candidate through 20 % -> 50 % -> 100 %, 20000 plans; completed ${main.completedRate}; goal <= 0.01`,
      },
      {
        name: 'rollout.episodes_to_rollback_success_only',
        value: successOnly.meanEpisodesToRollback,
        unit: 'episodes',
        note: `success 0.95 -> 0.75 alone (interventions unchanged), 500 canaries; missed ${successOnly.missedRollbacks}`,
      },
    ];
  },
};
