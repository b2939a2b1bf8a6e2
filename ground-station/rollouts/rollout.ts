/**
 * A rollout as the station keeps, persists and serves it: the plan (steps, shadow ticks, minimum episodes, analysis
 * settings), where it is (state, step, share), which drones fly what, the current step's samples and analysis, the
 * drone actions in flight, and the history of transitions with their reasons. Plain JSON.
 */
import { z } from 'zod';
import {
  type Analysis,
  type AnalysisConfig,
  DEFAULT_ANALYSIS_CONFIG,
  emptySample,
  type VersionSample,
} from './analysis/index.js';

export const ROLLOUT_MODES = ['staged', 'ab'] as const;
export type RolloutMode = (typeof ROLLOUT_MODES)[number];

export const ROLLOUT_STATES = ['shadow', 'canary', 'staged', 'paused', 'completed', 'rolled-back', 'aborted'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<RolloutState> = new Set(['completed', 'rolled-back', 'aborted']);
export const isTerminal = (s: RolloutState): boolean => TERMINAL_STATES.has(s);

/** What a drone should fly in this rollout. */
export type DroneArm = 'baseline' | 'candidate' | 'shadow';

export const DEFAULT_STEPS: readonly number[] = [0.1, 0.25, 0.5, 1];
export const DEFAULT_AB_SHARE = 0.5;

const version = z.string().min(1).max(64);

/** Settings of the analysis an operator may change per rollout (the rest are the defaults). */
export const ANALYSIS_OVERRIDES_SCHEMA = z
  .object({
    alpha: z.number().gt(0).max(0.5),
    promoteAlpha: z.number().gt(0).max(0.5),
    successMargin: z.number().min(0).max(1),
    interventionsMarginRel: z.number().min(0).max(100),
    returnMarginRel: z.number().min(0).max(100),
    minWindows: z.number().int().min(2).max(100_000),
    faultStreak: z.number().int().min(1).max(1000),
  })
  .partial()
  .strict();

/** POST /api/rollouts. */
export const START_ROLLOUT_SCHEMA = z
  .object({
    candidate: version,
    /** Default: the version most online drones fly now. */
    baseline: version.optional(),
    mode: z.enum(ROLLOUT_MODES).default('staged'),
    /** Shares of the fleet on the candidate, increasing; staged plans end at 1. A/B: one share (default 0.5). */
    steps: z.array(z.number().gt(0).max(1)).min(1).max(10).optional(),
    /** Shadow ticks (summed over the shadow drones) before the canary; 0 skips shadow. */
    shadowMinTicks: z.number().int().min(0).max(1e9).default(600),
    /** Candidate (and baseline) episodes in a step before the analysis may promote or roll back on statistics. */
    minEpisodesPerStep: z.number().int().min(1).max(1e6).default(DEFAULT_ANALYSIS_CONFIG.minEpisodes),
    analysis: ANALYSIS_OVERRIDES_SCHEMA.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const steps = r.steps;
    if (!steps) return;
    for (let i = 1; i < steps.length; i++) {
      if (steps[i] <= steps[i - 1])
        ctx.addIssue({ code: 'custom', path: ['steps', i], message: 'steps must increase' });
    }
    if (r.mode === 'staged' && steps[steps.length - 1] !== 1) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'a staged plan ends at 1 (the whole fleet)' });
    }
    if (r.mode === 'ab' && (steps.length !== 1 || steps[0] >= 1)) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'an A/B rollout has one share below 1' });
    }
  });
export type StartRolloutRequest = z.infer<typeof START_ROLLOUT_SCHEMA>;

export interface Transition {
  readonly atMs: number;
  readonly from: RolloutState | null;
  readonly to: RolloutState;
  /** Step index after the transition. */
  readonly stepIndex: number;
  readonly reason: string;
}

/** A drone action the station sent and awaits the effect of (retried after a while). */
export interface PendingAction {
  readonly kind: DroneActionKind;
  readonly atMs: number;
  readonly attempts: number;
}

export type DroneActionKind = 'install' | 'shadow-on' | 'shadow-off' | 'activate' | 'revert';

/** Shadow-mode totals over the candidate's shadow windows. */
export interface ShadowTotals {
  ticks: number;
  wouldBeInterventionTicks: number;
  /** Tick-weighted mean divergence between the candidate's and the active policy's setpoints (m/s). */
  divergenceMeanMps: number | null;
  /** Interventions per policy tick of the baseline over the same windows, for comparison. */
  baselineInterventions: number;
  baselinePolicyTicks: number;
}

export interface RolloutAnalysisView {
  readonly candidate: Analysis['candidate'];
  readonly baseline: Analysis['baseline'];
  readonly decision: Analysis['decision'];
  readonly reasons: readonly string[];
  readonly effects: Analysis['effects'];
  readonly tests: Analysis['tests'];
  readonly atMs: number;
}

export interface Rollout {
  id: string;
  candidate: string;
  candidateSha256: string | null;
  baseline: string;
  mode: RolloutMode;
  state: RolloutState;
  /** The state a paused rollout resumes to. */
  pausedFrom: RolloutState | null;
  stepIndex: number;
  steps: number[];
  /** Share of the fleet the plan puts on the candidate now (0 in shadow). */
  share: number;
  shadowMinTicks: number;
  minEpisodesPerStep: number;
  analysisConfig: AnalysisConfig;
  drones: Record<string, DroneArm>;
  /** When the current step (or shadow) began: only windows received from then on count. */
  stepStartedAtMs: number;
  samples: { candidate: VersionSample; baseline: VersionSample };
  shadow: ShadowTotals;
  analysis: RolloutAnalysisView | null;
  pending: Record<string, PendingAction>;
  /** Drones that refused the candidate, with the reason (they stay on the baseline). */
  refused: Record<string, string>;
  history: Transition[];
  createdAtMs: number;
  updatedAtMs: number;
}

export const emptyShadow = (): ShadowTotals => ({
  ticks: 0,
  wouldBeInterventionTicks: 0,
  divergenceMeanMps: null,
  baselineInterventions: 0,
  baselinePolicyTicks: 0,
});

export const emptySamples = (): Rollout['samples'] => ({ candidate: emptySample(), baseline: emptySample() });

/** The rollout as GET /api/rollouts shows it (the contract's shape plus the plan and pending drone actions). */
export function rolloutView(r: Rollout): Record<string, unknown> & { id: string } {
  return {
    id: r.id,
    candidate: r.candidate,
    candidateSha256: r.candidateSha256,
    baseline: r.baseline,
    mode: r.mode,
    state: r.state,
    pausedFrom: r.pausedFrom,
    stepIndex: r.stepIndex,
    steps: r.steps,
    share: r.share,
    shadowMinTicks: r.shadowMinTicks,
    minEpisodesPerStep: r.minEpisodesPerStep,
    drones: r.drones,
    pending: r.pending,
    refused: r.refused,
    shadow: r.shadow,
    analysis: r.analysis,
    stepStartedAtMs: r.stepStartedAtMs,
    history: r.history,
    createdAtMs: r.createdAtMs,
    updatedAtMs: r.updatedAtMs,
  };
}
