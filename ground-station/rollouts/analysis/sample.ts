/**
 * A version's sample over an analysis window: the sums of the drones' metrics windows flown with that version
 * (episodes, successes, return, ticks, interventions, violations, policy faults), the per-episode moments the Welch
 * and mixture tests need, and the current policy-fault streak of each drone. Plain JSON, so a rollout persists it and
 * resumes where it was after a station restart.
 *
 * The unit of the return and intervention tests is one drone's span of windows up to the window in which an episode
 * ended: a window holds the rewards and ticks of its few seconds only, so an episode's return and intervention rate
 * are summed over the windows it spanned (and windows of one flight, strongly correlated, count once).
 */
import { addMoment, emptyMoments, type Moments } from './stats.js';

/** One drone's metrics window, as the protocol's metrics message carries it (interventions summed over layers). */
export interface MetricsWindow {
  readonly droneId: string;
  readonly policyVersion: string;
  readonly timeMs: number;
  readonly episodes: number;
  readonly successes: number;
  readonly returnSum: number;
  readonly ticks: number;
  readonly policyTicks: number;
  readonly interventions: number;
  readonly violations: number;
  readonly policyFaults: number;
}

export interface VersionSample {
  windows: number;
  episodes: number;
  successes: number;
  returnSum: number;
  ticks: number;
  policyTicks: number;
  interventions: number;
  violations: number;
  policyFaults: number;
  /** Return per episode of each span that finished an episode (summed over the span's windows). */
  returnPerEpisode: Moments;
  /** Interventions per policy tick of each span that finished an episode and flew the policy. */
  interventionsPerTick: Moments;
  /** Per drone, the windows since its last finished episode, summed. */
  open?: Record<string, { returnSum: number; interventions: number; policyTicks: number }>;
  /** Consecutive windows with a policy fault, per drone (0 once a clean window comes). */
  faultStreaks: Record<string, number>;
  /** Longest streak seen. */
  maxFaultStreak: number;
  firstMs: number | null;
  lastMs: number | null;
}

export const emptySample = (): VersionSample => ({
  windows: 0,
  episodes: 0,
  successes: 0,
  returnSum: 0,
  ticks: 0,
  policyTicks: 0,
  interventions: 0,
  violations: 0,
  policyFaults: 0,
  returnPerEpisode: emptyMoments(),
  interventionsPerTick: emptyMoments(),
  open: {},
  faultStreaks: {},
  maxFaultStreak: 0,
  firstMs: null,
  lastMs: null,
});

/** Add one window (mutates `s`). Windows with nothing flown still break or extend a fault streak. */
export function addWindow(s: VersionSample, w: MetricsWindow): void {
  s.windows++;
  s.episodes += w.episodes;
  s.successes += Math.min(w.successes, w.episodes);
  s.returnSum += w.returnSum;
  s.ticks += w.ticks;
  s.policyTicks += w.policyTicks;
  s.interventions += w.interventions;
  s.violations += w.violations;
  s.policyFaults += w.policyFaults;
  s.open ??= {};
  s.open[w.droneId] ??= { returnSum: 0, interventions: 0, policyTicks: 0 };
  const span = s.open[w.droneId];
  span.returnSum += w.returnSum;
  span.interventions += w.interventions;
  span.policyTicks += w.policyTicks;
  if (w.episodes > 0) {
    addMoment(s.returnPerEpisode, span.returnSum / w.episodes);
    if (span.policyTicks > 0) addMoment(s.interventionsPerTick, span.interventions / span.policyTicks);
    delete s.open[w.droneId];
  }
  const streak = w.policyFaults > 0 ? (s.faultStreaks[w.droneId] ?? 0) + 1 : 0;
  s.faultStreaks[w.droneId] = streak;
  s.maxFaultStreak = Math.max(s.maxFaultStreak, streak);
  s.firstMs = s.firstMs === null ? w.timeMs : Math.min(s.firstMs, w.timeMs);
  s.lastMs = s.lastMs === null ? w.timeMs : Math.max(s.lastMs, w.timeMs);
}

/** What the API and dashboard show of a sample. Rates are null without data. */
export interface SampleSummary {
  readonly episodes: number;
  readonly successRate: number | null;
  readonly meanReturn: number | null;
  readonly interventionsPerTick: number | null;
  readonly violations: number;
  readonly policyFaults: number;
}

export function summarise(s: VersionSample): SampleSummary {
  return {
    episodes: s.episodes,
    successRate: s.episodes > 0 ? s.successes / s.episodes : null,
    meanReturn: s.episodes > 0 ? s.returnSum / s.episodes : null,
    interventionsPerTick: s.policyTicks > 0 ? s.interventions / s.policyTicks : null,
    violations: s.violations,
    policyFaults: s.policyFaults,
  };
}

/** Fold a protocol metrics message into a window (interventions summed over the layers). */
export function windowFromMetrics(m: {
  id: string;
  timeMs: number;
  episodes: number;
  successes: number;
  returnSum: number;
  ticks: number;
  policyTicks: number;
  interventionsByLayer: Readonly<Record<string, number>>;
  violations: number;
  policyFaults: number;
  policyVersion: string;
}): MetricsWindow {
  let interventions = 0;
  for (const n of Object.values(m.interventionsByLayer)) if (Number.isFinite(n)) interventions += n;
  return {
    droneId: m.id,
    policyVersion: m.policyVersion,
    timeMs: m.timeMs,
    episodes: m.episodes,
    successes: m.successes,
    returnSum: m.returnSum,
    ticks: m.ticks,
    policyTicks: m.policyTicks,
    interventions,
    violations: m.violations,
    policyFaults: m.policyFaults,
  };
}
