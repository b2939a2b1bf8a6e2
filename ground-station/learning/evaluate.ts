/**
 * `aerie eval`'s engine. An evaluation is a list of sections, each flying the exported ONNX policy (loaded by the
 * onboard runtime's own loader, onboard/policy) somewhere and reporting the same figures. Built in: the vectorised
 * environment, at the onboard rate (50 Hz) with the onboard safety filter between policy and vehicle. A SITL section
 * (full deliveries through the real onboard runtime) plugs in as another EvaluationSection.
 */

import {
  loadPolicy,
  loadShield,
  type ModelSource,
  type PolicyRunner,
  type ShieldRunner,
} from '../../onboard/policy/index.js';
import { INTERVENTION_LAYERS, type InterventionLayer } from '../../shared/experience/index.js';
import { OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { envSafetyConfig } from './env/barrier-probe.js';
import { DeliveryEnv, type EpisodeOutcome, type EpisodeSummary } from './env/delivery-env.js';
import type { EnvConfig } from './env/env-config.js';
import { BREACH_KINDS, type BreachKind } from './env/env-state.js';
import { OnboardSafetyFilter } from './safety-adapter.js';

/** What every section reports (a section may add its own fields). */
export interface SectionReport {
  readonly section: string;
  readonly episodes: number;
  readonly successRate: number;
  readonly timeToDeliverS: { readonly mean: number; readonly p50: number; readonly p95: number } | null;
  /** Constraint cost: per tick (mean), per episode (mean sum) and per second of flight. */
  readonly cost: { readonly perTick: number; readonly perEpisode: number; readonly perSecond: number };
  /** Ticks where each safety layer changed the setpoint, as a share of all ticks. */
  readonly interventionShare: Readonly<Record<InterventionLayer, number>>;
  /** Breaches: share of episodes with any, and share of ticks in each kind (of all ticks, or of airborne ones). */
  readonly breaches: { readonly episodeShare: number; readonly tickShare: Readonly<Record<BreachKind, number>> };
  readonly [extra: string]: unknown;
}

export interface EvaluationContext {
  readonly policy: PolicyRunner;
  readonly shield: ShieldRunner | null;
}

export interface EvaluationSection {
  readonly name: string;
  run(ctx: EvaluationContext): Promise<SectionReport>;
}

export interface EvaluationReport {
  readonly policy: {
    readonly source: string;
    readonly sha256: string;
    readonly metadata: Readonly<Record<string, string>>;
  };
  readonly shield: { readonly source: string; readonly sha256: string } | null;
  readonly sections: Readonly<Record<string, SectionReport>>;
}

export type SafetyMode = 'apply' | 'probe' | 'off';

export interface VectorisedEvalOptions {
  /** Section name in the report (default 'vectorised'). */
  readonly name?: string;
  readonly env: EnvConfig;
  readonly episodes: number;
  readonly seed: number;
  /** Policy rate, Hz (onboard: 50). */
  readonly controlHz: number;
  /** apply: the onboard SafetyFilter flies between policy and vehicle; probe: only its barrier layer counts. */
  readonly safety: SafetyMode;
  /** The shield layer's mode when a shield is given (apply only). */
  readonly shieldMode?: 'off' | 'advisory' | 'enforce';
}

export interface VectorisedReport extends SectionReport {
  readonly controlHz: number;
  readonly safety: SafetyMode;
  readonly outcomes: Readonly<Record<EpisodeOutcome, number>>;
  /** Would-be barrier interventions on the raw policy action (before any filter), share of ticks. */
  readonly probeInterventionShare: number;
  /** Share of ticks with any intervention by the sanity, box, barrier or shield layer (as the control loop counts). */
  readonly interventionShareAny: number;
  /** Episodes with any breach. */
  readonly breachEpisodes: number;
  readonly meanEpisodeS: number;
  readonly meanEnergyWh: number;
  readonly ticks: number;
}

/** filterBits of the layers that act on the policy's own setpoint (the monitor's overrides aside). */
const POLICY_LAYER_BITS = (['sanity', 'box', 'barrier', 'shield'] as const).reduce(
  (bits, layer) => bits | (1 << INTERVENTION_LAYERS.indexOf(layer)),
  0,
);

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The built-in section: `episodes` deliveries in the vectorised environment, all flown at once. */
export function vectorisedSection(options: VectorisedEvalOptions): EvaluationSection {
  return {
    name: options.name ?? 'vectorised',
    async run(ctx) {
      const n = options.episodes;
      const safetyConfig = envSafetyConfig(options.env, {
        shieldMode: ctx.shield && options.safety === 'apply' ? (options.shieldMode ?? 'enforce') : 'off',
      });
      const filter = options.safety === 'apply' ? new OnboardSafetyFilter(n, safetyConfig) : null;
      // The env's own box layer stays off: with 'apply' the onboard filter has it, with 'off' the raw policy flies.
      // Evaluation probes with the filter's own margins (probeExtraMarginM is a training device).
      const envConfig = {
        ...options.env,
        barrierProbe: options.safety !== 'off',
        rateLimit: false,
        probeExtraMarginM: 0,
      };
      const env = new DeliveryEnv(n, envConfig, options.seed, {
        autoReset: false,
        setpointFilter: filter,
      });
      const dtS = 1 / options.controlHz;
      const obs = new Float32Array(n * OBSERVATION_SIZE);
      const actions = new Float32Array(n * 3);
      const layerTicks = new Float64Array(INTERVENTION_LAYERS.length);
      let ticks = 0;
      let probeTicks = 0;
      let anyTicks = 0;
      const episodes: EpisodeSummary[] = [];
      while (env.activeCount > 0) {
        for (let i = 0; i < n; i++) {
          if (env.state.active[i] === 0) continue;
          const row = obs.subarray(i * OBSERVATION_SIZE, (i + 1) * OBSERVATION_SIZE);
          env.observeOne(i, row, 0);
          const a = await ctx.policy.run(row);
          actions.set(a, i * 3);
          if (filter && ctx.shield) filter.shieldScores[i] = await ctx.shield.cost(row, a);
        }
        const active = Uint8Array.from(env.state.active);
        env.step(actions, dtS);
        for (let i = 0; i < n; i++) {
          if (active[i] === 0) continue;
          ticks++;
          if (env.interventionMS[i] > 0) probeTicks++;
          for (let k = 0; k < INTERVENTION_LAYERS.length; k++) if (env.filterBits[i] & (1 << k)) layerTicks[k]++;
          if (env.filterBits[i] & POLICY_LAYER_BITS) anyTicks++;
        }
        episodes.push(...env.takeFinished());
      }
      return summarise(options, episodes, ticks, probeTicks, anyTicks, layerTicks);
    },
  };
}

function summarise(
  options: VectorisedEvalOptions,
  episodes: readonly EpisodeSummary[],
  ticks: number,
  probeTicks: number,
  anyTicks: number,
  layerTicks: Float64Array,
): VectorisedReport {
  const count = episodes.length;
  const delivered = episodes.map((e) => e.deliverTimeS).filter((t): t is number => t !== null);
  const successes = episodes.filter((e) => e.success);
  const sorted = delivered.slice().sort((a, b) => a - b);
  const totalCost = episodes.reduce((s, e) => s + e.cost, 0);
  const flightS = episodes.reduce((s, e) => s + e.durationS, 0);
  const outcomes: Record<EpisodeOutcome, number> = { delivered: 0, timeout: 0, crash: 0, lost: 0 };
  for (const e of episodes) outcomes[e.outcome]++;
  const breached = episodes.filter((e) => Object.values(e.breachTicks).some((x) => x > 0)).length;
  const tickShare = Object.fromEntries(
    BREACH_KINDS.map((k) => [k, episodes.reduce((s, e) => s + e.breachTicks[k], 0) / Math.max(ticks, 1)]),
  ) as Record<BreachKind, number>;
  const interventionShare = Object.fromEntries(
    INTERVENTION_LAYERS.map((layer, k) => [layer, layerTicks[k] / Math.max(ticks, 1)]),
  ) as Record<InterventionLayer, number>;
  return {
    section: options.name ?? 'vectorised',
    episodes: count,
    controlHz: options.controlHz,
    safety: options.safety,
    successRate: count ? successes.length / count : Number.NaN,
    outcomes,
    timeToDeliverS: sorted.length
      ? {
          mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
          p50: quantile(sorted, 0.5),
          p95: quantile(sorted, 0.95),
        }
      : null,
    cost: {
      perTick: totalCost / Math.max(ticks, 1),
      perEpisode: count ? totalCost / count : Number.NaN,
      perSecond: totalCost / Math.max(flightS, 1e-9),
    },
    interventionShare,
    probeInterventionShare: probeTicks / Math.max(ticks, 1),
    interventionShareAny: anyTicks / Math.max(ticks, 1),
    breachEpisodes: breached,
    breaches: { episodeShare: count ? breached / count : 0, tickShare },
    meanEpisodeS: count ? flightS / count : Number.NaN,
    meanEnergyWh: count ? episodes.reduce((s, e) => s + e.energyWh, 0) / count : Number.NaN,
    ticks,
  };
}

export interface EvaluateOptions {
  readonly policy: ModelSource;
  readonly shield?: ModelSource | null;
  readonly sections: readonly EvaluationSection[];
}

/** Load the policy (and shield) through the onboard loader, run every section, release the models. */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationReport> {
  const policy = await loadPolicy(options.policy, { label: 'policy' });
  const shield = options.shield ? await loadShield(options.shield, { label: 'shield' }) : null;
  try {
    const sections: Record<string, SectionReport> = {};
    for (const section of options.sections) sections[section.name] = await section.run({ policy, shield });
    return {
      policy: { source: policy.info.source, sha256: policy.info.sha256, metadata: policy.info.metadata },
      shield: shield ? { source: shield.info.source, sha256: shield.info.sha256 } : null,
      sections,
    };
  } finally {
    await policy.release();
    await shield?.release();
  }
}
