/** Human-readable lines of an evaluation report and the metrics a model carries in its metadata. */
import type { InterventionLayer } from '../../shared/experience/index.js';
import type { EvaluationReport, SectionReport, VectorisedReport } from './evaluate.js';
import { formatDuration } from './progress.js';
import type { SitlReport } from './sitl-eval/index.js';
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
  const h = headline(report);
  lines.push(
    `headline (${h.summaryFrom}): success ${pct(h.successRate)}, interventions ${pct(h.interventionShare)} of policy ` +
      `ticks, breaches with the filter on ${h.breachesFilterOn}, with it off ${h.breachesFilterOff ?? 'not measured'}`,
  );
  return lines;
}

/** The figures the issue's targets are stated in, from the SITL section when there is one. */
export interface Headline {
  /** Which section they come from: 'sitl', else the vectorised one. */
  readonly summaryFrom: string;
  readonly successRate: number;
  /** Share of the policy's ticks on which any layer changed its setpoint (the monitor's overrides aside). */
  readonly interventionShare: number;
  readonly interventionShareByLayer: Readonly<Record<InterventionLayer, number>>;
  /** Deliveries with any breach, the onboard safety filter on (SITL: judged on the true position). */
  readonly breachesFilterOn: number;
  /** Vectorised deliveries with any breach flown by the raw policy (null when not flown). */
  readonly breachesFilterOff: number | null;
  readonly timeToDeliverS: SectionReport['timeToDeliverS'];
}

export function headline(report: EvaluationReport): Headline {
  const sitl = report.sections.sitl as SitlReport | undefined;
  const vec = report.sections.vectorised as VectorisedReport | undefined;
  const off = report.sections['vectorised-filter-off'] as VectorisedReport | undefined;
  const from: SectionReport | undefined = sitl ?? vec;
  const any = sitl ? sitl.interventionShareAny : (vec?.interventionShareAny ?? Number.NaN);
  const on = sitl ? sitl.breachesFilterOn : (vec?.breachEpisodes ?? Number.NaN);
  return {
    summaryFrom: from?.section ?? 'none',
    successRate: from?.successRate ?? Number.NaN,
    interventionShare: any,
    interventionShareByLayer: (from?.interventionShare ?? {}) as Record<InterventionLayer, number>,
    breachesFilterOn: on,
    breachesFilterOff: off ? off.breachEpisodes : null,
    timeToDeliverS: from?.timeToDeliverS ?? null,
  };
}

/** The metrics written into the exported models' aerie.metrics (numbers only). */
export function modelMetrics(train: TrainResult, evaluation: SectionReport | null): Record<string, number> {
  const m: Record<string, number> = {
    train_iterations: train.iterations,
    train_env_steps: train.envSteps,
    train_wall_s: Math.round(train.wallS * 10) / 10,
  };
  const last = train.history.at(-1);
  if (train.best) {
    m.train_best_iteration = train.best.iteration;
    m.validation_success_rate = train.best.validation.successRate;
    m.validation_intervention_share = train.best.validation.interventionShare;
  }
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
    m.eval_box_intervention_share = evaluation.interventionShare.box;
    if (evaluation.timeToDeliverS) m.eval_time_to_deliver_mean_s = evaluation.timeToDeliverS.mean;
  }
  for (const [k, v] of Object.entries(m)) if (!Number.isFinite(v)) delete m[k];
  return m;
}

export function trainingLines(r: TrainResult): string[] {
  const last = r.history.at(-1);
  const b = r.best;
  return [
    `trained ${r.iterations} iterations, ${r.envSteps} env steps in ${formatDuration(r.wallS)} (stopped by ${r.stoppedBy})`,
    ...(r.wallSToTarget !== null ? [`success target reached after ${formatDuration(r.wallSToTarget)}`] : []),
    ...(b
      ? [
          `best validated mean policy: iteration ${b.iteration}, success ${pct(b.validation.successRate)}, ` +
            `rate-limited ${pct(b.validation.rateLimitShare)}, barrier ${pct(b.validation.barrierShare)} of ticks`,
        ]
      : []),
    ...(last
      ? [
          `last iteration: success ${pct(last.successRate)}, cost ${last.costRate.toFixed(4)}/tick, lambda ${last.lambda.toFixed(3)}`,
        ]
      : []),
  ];
}
