/** Human-readable lines of an evaluation report and the metrics a model carries in its metadata. */
import type { EvaluationReport, SectionReport } from './evaluate.js';
import { formatDuration } from './progress.js';
import type { TrainResult } from './trainer.js';

const pct = (x: number): string => `${(100 * x).toFixed(x < 0.01 && x > 0 ? 3 : 1)}%`;

export function sectionLines(r: SectionReport): string[] {
  const t = r.timeToDeliverS;
  const layers = Object.entries(r.interventionShare)
    .map(([k, v]) => `${k} ${pct(v)}`)
    .join(', ');
  const breaches = Object.entries(r.breaches.tickShare)
    .map(([k, v]) => `${k} ${pct(v)}`)
    .join(', ');
  return [
    `[${r.section}] ${r.episodes} episodes: success ${pct(r.successRate)}`,
    `  time to deliver: ${t ? `mean ${t.mean.toFixed(1)} s, p50 ${t.p50.toFixed(1)} s, p95 ${t.p95.toFixed(1)} s` : 'none delivered'}`,
    `  constraint cost: ${r.cost.perTick.toFixed(4)}/tick, ${r.cost.perEpisode.toFixed(2)}/episode, ${r.cost.perSecond.toFixed(3)}/s`,
    `  interventions (share of ticks): ${layers}`,
    `  breaches: ${pct(r.breaches.episodeShare)} of episodes; ticks: ${breaches}`,
  ];
}

export function evaluationLines(report: EvaluationReport): string[] {
  const lines = [`policy ${report.policy.source} (sha256 ${report.policy.sha256.slice(0, 12)})`];
  for (const section of Object.values(report.sections)) lines.push(...sectionLines(section));
  return lines;
}

/** The metrics written into the exported models' aerie.metrics (numbers only). */
export function modelMetrics(train: TrainResult, evaluation: SectionReport | null): Record<string, number> {
  const m: Record<string, number> = {
    train_iterations: train.iterations,
    train_env_steps: train.envSteps,
    train_wall_s: Math.round(train.wallS * 10) / 10,
  };
  const last = train.history.at(-1);
  if (last) {
    m.train_success_rate = last.successRate;
    m.train_cost_per_tick = last.costRate;
    m.train_lambda = last.lambda;
  }
  if (evaluation) {
    m.eval_episodes = evaluation.episodes;
    m.eval_success_rate = evaluation.successRate;
    m.eval_cost_per_tick = evaluation.cost.perTick;
    m.eval_breach_episode_share = evaluation.breaches.episodeShare;
    m.eval_barrier_intervention_share = evaluation.interventionShare.barrier;
    if (evaluation.timeToDeliverS) m.eval_time_to_deliver_mean_s = evaluation.timeToDeliverS.mean;
  }
  for (const [k, v] of Object.entries(m)) if (!Number.isFinite(v)) delete m[k];
  return m;
}

export function trainingLines(r: TrainResult): string[] {
  const last = r.history.at(-1);
  return [
    `trained ${r.iterations} iterations, ${r.envSteps} env steps in ${formatDuration(r.wallS)} (stopped by ${r.stoppedBy})`,
    ...(r.wallSToTarget !== null ? [`target reached after ${formatDuration(r.wallSToTarget)}`] : []),
    ...(last
      ? [
          `last iteration: success ${pct(last.successRate)}, cost ${last.costRate.toFixed(4)}/tick, lambda ${last.lambda.toFixed(3)}`,
        ]
      : []),
  ];
}
