/**
 * The rollout state machine, pure (time and the fleet passed in): shadow -> canary (a share of the online fleet) ->
 * staged steps -> completed at 100 %; automatic promote or rollback of the whole fleet from the step's analysis;
 * manual promote, pause, resume and abort. Every transition is appended to the history with its reason.
 *
 *   shadow --(shadow ticks reached)--> canary --(promote)--> staged --(promote)--> ... --> completed
 *      \______________________________ \___________________ \__(worse, guard)__> rolled-back
 *   any live state --(pause)--> paused --(resume)--> the state it left;  any live state --(abort)--> aborted
 *
 * A/B mode holds one share and reports effect sizes; it rolls back automatically but promotes only by hand.
 */
import { createHash } from 'node:crypto';
import {
  type AnalysisConfig,
  addWindow,
  analyse,
  DEFAULT_ANALYSIS_CONFIG,
  type MetricsWindow,
} from './analysis/index.js';
import {
  DEFAULT_AB_SHARE,
  DEFAULT_STEPS,
  type DroneArm,
  emptySamples,
  emptyShadow,
  isTerminal,
  type Rollout,
  type RolloutState,
  type StartRolloutRequest,
} from './rollout.js';

export interface CreateInput {
  readonly id: string;
  readonly request: StartRolloutRequest;
  readonly baseline: string;
  readonly candidateSha256: string | null;
  /** Online drones able to take part, in any order. */
  readonly online: readonly string[];
  readonly nowMs: number;
}

export function createRollout(input: CreateInput): Rollout {
  const { request: req, nowMs } = input;
  const steps = [...(req.steps ?? (req.mode === 'ab' ? [DEFAULT_AB_SHARE] : DEFAULT_STEPS))];
  const analysed = steps.filter((s) => s < 1).length;
  const overrides = req.analysis ?? {};
  const min = req.minEpisodesPerStep;
  // Each analysed step spends an equal part of the rollback error budget, so a whole plan stays within alpha.
  const analysisConfig: AnalysisConfig = {
    ...DEFAULT_ANALYSIS_CONFIG,
    minEpisodes: min,
    minBaselineEpisodes: min,
    minWindows: Math.min(DEFAULT_ANALYSIS_CONFIG.minWindows, Math.max(2, min)),
    ...overrides,
    alpha: (overrides.alpha ?? DEFAULT_ANALYSIS_CONFIG.alpha) / Math.max(1, analysed),
  };
  const state: RolloutState = req.shadowMinTicks > 0 ? 'shadow' : 'canary';
  const r: Rollout = {
    id: input.id,
    candidate: req.candidate,
    candidateSha256: input.candidateSha256,
    baseline: input.baseline,
    mode: req.mode,
    state,
    pausedFrom: null,
    stepIndex: 0,
    steps,
    share: state === 'shadow' ? 0 : steps[0],
    shadowMinTicks: req.shadowMinTicks,
    minEpisodesPerStep: min,
    analysisConfig,
    drones: {},
    stepStartedAtMs: nowMs,
    samples: emptySamples(),
    shadow: emptyShadow(),
    analysis: null,
    pending: {},
    refused: {},
    history: [],
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
  for (const id of input.online) r.drones[id] = 'baseline';
  topUp(r, input.online);
  record(r, null, state, nowMs, `started: ${req.mode} ${req.candidate} against ${input.baseline}`);
  return r;
}

function record(r: Rollout, from: RolloutState | null, to: RolloutState, nowMs: number, reason: string): void {
  r.history.push({ atMs: nowMs, from, to, stepIndex: r.stepIndex, reason });
  r.state = to;
  r.updatedAtMs = nowMs;
}

/** Order drones stably per rollout (a hash of rollout and drone id), so canaries are spread, not the first ids. */
function canaryOrder(rolloutId: string, ids: readonly string[]): string[] {
  const key = (id: string) => createHash('sha256').update(`${rolloutId}/${id}`).digest('hex');
  return [...ids].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Drones the plan wants on the candidate (or in shadow) at the current share: at least one, and one left below 100 %. */
export function targetCount(share: number, online: number): number {
  if (online === 0) return 0;
  if (share >= 1) return online;
  return Math.min(online - 1, Math.max(1, Math.round(share * online)));
}

/**
 * Put more online drones on the candidate (or in shadow) until the current share is met; drones already on it stay
 * (a drone going offline does not move the canary elsewhere). Refused drones are not chosen again.
 */
export function topUp(r: Rollout, online: readonly string[]): string[] {
  if (isTerminal(r.state) || r.state === 'paused') return [];
  const arm: DroneArm = r.state === 'shadow' ? 'shadow' : 'candidate';
  const share = r.state === 'shadow' ? r.steps[0] : r.share;
  for (const id of online) r.drones[id] ??= 'baseline';
  const eligible = online.filter((id) => r.refused[id] === undefined);
  const on = eligible.filter((id) => r.drones[id] !== 'baseline');
  const want = targetCount(share, online.length);
  const added: string[] = [];
  for (const id of canaryOrder(
    r.id,
    eligible.filter((x) => r.drones[x] === 'baseline'),
  )) {
    if (on.length + added.length >= want) break;
    r.drones[id] = arm;
    added.push(id);
  }
  return added;
}

/** The next step, or completion at 100 %: fresh samples, more drones. */
export function advance(r: Rollout, online: readonly string[], nowMs: number, reason: string): void {
  const from = r.state === 'paused' ? (r.pausedFrom ?? r.state) : r.state;
  r.pausedFrom = null;
  // A new step starts a new window; the last analysis stays on show when the rollout completes.
  const last = r.analysis;
  r.samples = emptySamples();
  r.analysis = null;
  r.stepStartedAtMs = nowMs;
  if (from === 'shadow') {
    for (const [id, arm] of Object.entries(r.drones)) if (arm === 'shadow') r.drones[id] = 'candidate';
    r.share = r.steps[0];
    record(r, r.state, r.steps[0] >= 1 ? 'completed' : 'canary', nowMs, reason);
    if (r.state === 'completed') setAll(r, 'candidate');
    else topUp(r, online);
    return;
  }
  const next = r.mode === 'ab' ? r.steps.length : r.stepIndex + 1;
  if (next >= r.steps.length || r.steps[next] >= 1) {
    r.stepIndex = Math.min(next, r.steps.length - 1);
    r.share = 1;
    for (const id of online) r.drones[id] ??= 'baseline';
    setAll(r, 'candidate');
    r.analysis = last;
    record(r, r.state, 'completed', nowMs, reason);
    return;
  }
  r.stepIndex = next;
  r.share = r.steps[next];
  record(r, r.state, 'staged', nowMs, reason);
  topUp(r, online);
}

function setAll(r: Rollout, arm: DroneArm): void {
  for (const id of Object.keys(r.drones)) r.drones[id] = r.refused[id] !== undefined ? 'baseline' : arm;
}

/** The whole fleet back to the baseline. */
export function rollBack(r: Rollout, nowMs: number, reason: string): void {
  setAll(r, 'baseline');
  for (const id of Object.keys(r.drones)) r.drones[id] = 'baseline';
  r.pausedFrom = null;
  record(r, r.state, 'rolled-back', nowMs, reason);
}

export type ManualAction = 'promote' | 'pause' | 'resume' | 'abort';

/** An operator's action; a reason string when it does not apply to the rollout's state. */
export function manual(
  r: Rollout,
  action: ManualAction,
  online: readonly string[],
  nowMs: number,
  by = 'operator',
): string | null {
  if (isTerminal(r.state)) return `rollout ${r.id} is ${r.state}`;
  switch (action) {
    case 'promote':
      advance(r, online, nowMs, `promoted by ${by}`);
      return null;
    case 'pause':
      if (r.state === 'paused') return `rollout ${r.id} is already paused`;
      r.pausedFrom = r.state;
      record(r, r.state, 'paused', nowMs, `paused by ${by}`);
      return null;
    case 'resume': {
      if (r.state !== 'paused' || r.pausedFrom === null) return `rollout ${r.id} is not paused`;
      const to = r.pausedFrom;
      r.pausedFrom = null;
      record(r, 'paused', to, nowMs, `resumed by ${by}`);
      topUp(r, online);
      return null;
    }
    case 'abort':
      setAll(r, 'baseline');
      for (const id of Object.keys(r.drones)) r.drones[id] = 'baseline';
      r.pausedFrom = null;
      record(r, r.state, 'aborted', nowMs, `aborted by ${by}`);
      return null;
  }
}

/** Shadow gate: the candidate's would-be interventions may not exceed max(3 x baseline share, baseline + 5 points). */
export function shadowVerdict(r: Rollout): { ok: boolean; reason: string } {
  const s = r.shadow;
  const would = s.ticks > 0 ? s.wouldBeInterventionTicks / s.ticks : 0;
  const base = s.baselinePolicyTicks > 0 ? s.baselineInterventions / s.baselinePolicyTicks : 0;
  const limit = Math.max(3 * base, base + 0.05);
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const detail = `${s.ticks} shadow ticks, would-be interventions ${pct(would)} against ${pct(base)} for the baseline`;
  return would > limit
    ? { ok: false, reason: `shadow: ${detail} (limit ${pct(limit)})` }
    : { ok: true, reason: detail };
}

/**
 * The timer's step: top up the canary share from the online drones, then let shadow or the analysis decide. Returns
 * true when something changed that should be persisted.
 */
export function evaluate(r: Rollout, online: readonly string[], nowMs: number): boolean {
  if (isTerminal(r.state) || r.state === 'paused') return false;
  let changed = topUp(r, online).length > 0;
  if (r.state === 'shadow') {
    if (r.shadow.ticks < r.shadowMinTicks) return changed;
    const v = shadowVerdict(r);
    if (v.ok) advance(r, online, nowMs, `shadow passed: ${v.reason}`);
    else rollBack(r, nowMs, v.reason);
    return true;
  }
  const a = analyse(r.samples.candidate, r.samples.baseline, r.analysisConfig);
  const before = r.analysis?.decision;
  r.analysis = { ...a, atMs: nowMs };
  changed ||= before !== a.decision;
  if (a.decision === 'rollback') {
    rollBack(r, nowMs, `rolled back at step ${r.stepIndex} (${pctShare(r.share)}): ${a.reasons.join('; ')}`);
    return true;
  }
  if (a.decision === 'promote' && r.mode === 'staged') {
    advance(r, online, nowMs, `promoted from step ${r.stepIndex} (${pctShare(r.share)}): ${a.reasons.join('; ')}`);
    return true;
  }
  return changed;
}

const pctShare = (s: number) => `${Math.round(s * 100)} %`;

/** Shadow metrics of one window (the protocol's `shadow` block). */
export interface ShadowWindow {
  readonly policyVersion: string;
  readonly ticks: number;
  readonly wouldBeInterventionTicks: number;
  readonly divergenceMeanMps: number | null;
}

/**
 * Count one drone metrics window received at nowMs: the candidate's windows from candidate drones, the baseline's
 * from the others, shadow blocks of the candidate. Windows of other versions, or from before the step, do not count.
 */
export function ingestWindow(r: Rollout, w: MetricsWindow, shadow: ShadowWindow | undefined, nowMs: number): boolean {
  if (isTerminal(r.state) || nowMs < r.stepStartedAtMs) return false;
  const arm = r.drones[w.droneId] ?? 'baseline';
  let used = false;
  if (w.policyVersion === r.candidate && arm === 'candidate') {
    addWindow(r.samples.candidate, w);
    used = true;
  } else if (w.policyVersion === r.baseline && arm !== 'candidate') {
    addWindow(r.samples.baseline, w);
    used = true;
  }
  if (shadow && shadow.policyVersion === r.candidate && shadow.ticks > 0 && w.policyVersion === r.baseline) {
    const s = r.shadow;
    if (shadow.divergenceMeanMps !== null) {
      const prior = s.divergenceMeanMps ?? 0;
      s.divergenceMeanMps = (prior * s.ticks + shadow.divergenceMeanMps * shadow.ticks) / (s.ticks + shadow.ticks);
    }
    s.ticks += shadow.ticks;
    s.wouldBeInterventionTicks += shadow.wouldBeInterventionTicks;
    s.baselineInterventions += w.interventions;
    s.baselinePolicyTicks += w.policyTicks;
    used = true;
  }
  return used;
}
