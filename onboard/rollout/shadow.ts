/**
 * Shadow mode: the candidate policy runs beside the active one on the same observation, every policy tick, without
 * being actuated. Its would-be action goes through a side copy of the safety filter's first three layers (sanity,
 * box, barrier: no shield, no monitor, so nothing it does can latch or count on the real filter) to count would-be
 * interventions, and its distance from the active action is measured in m/s (mean and p95 per metrics window).
 *
 * It runs after the tick's setpoint is sent (a tick listener) and never blocks a tick: while one shadow inference is
 * still running, the next tick's is skipped and counted. A shadow fault is a value here and nothing else.
 */
import type { Airspace, Ned } from '../../shared/geo/index.js';
import { componentLogger, type Logger } from '../../shared/log/index.js';
import { actionToVelocityNedMS } from '../../shared/policy/index.js';
import { SampleRing } from '../control/index.js';
import type { PolicyRunner } from '../policy/index.js';
import {
  applyBox,
  applySanity,
  barrierConstraints,
  barrierGeometry,
  filterVelocity,
  limitSpeed,
  type MissionPhase,
  type Neighbour,
  readState,
  type SafetyConfig,
  type SafetyVehicleState,
} from '../safety/index.js';

/** The layers the shadow copy runs. */
export const SHADOW_LAYERS = ['sanity', 'box', 'barrier'] as const;
export type ShadowLayer = (typeof SHADOW_LAYERS)[number];

/** What a metrics window says of the shadow policy (the uplink's metrics `shadow` field). */
export interface ShadowWindow {
  readonly policyVersion: string;
  /** Policy ticks on which the candidate answered (or faulted) beside the active policy. */
  readonly ticks: number;
  /** Mean and 95th percentile of |v_candidate - v_active| (m/s), over ticks where both answered; 0 with none. */
  readonly divergenceMeanMps: number;
  readonly divergenceP95Mps: number;
  /** Ticks on which the side filter would have changed the candidate's action. */
  readonly wouldBeInterventionTicks: number;
  readonly wouldBeInterventionsByLayer: Readonly<Record<ShadowLayer, number>>;
  /** Ticks skipped because the previous shadow inference was still running. */
  readonly skippedTicks: number;
  /** Candidate inference faults (non-finite or failed answers). */
  readonly faults: number;
}

export interface SpeedLimitsMS {
  readonly maxHorizontalMS: number;
  readonly maxUpMS: number;
  readonly maxDownMS: number;
}

/** One tick as the shadow sees it: copies, so the loop may reuse its buffers at once. */
export interface ShadowTick {
  readonly timeUs: number;
  readonly observation: Float32Array;
  /** The active policy's action this tick, or null when it faulted. */
  readonly activeAction: Float32Array | null;
  readonly vehicle: SafetyVehicleState;
  readonly airspace: Airspace;
  readonly neighbours: readonly Neighbour[];
  readonly phase: MissionPhase;
}

const zeroLayers = (): Record<ShadowLayer, number> => ({ sanity: 0, box: 0, barrier: 0 });

/** |a - b| of two velocities (m/s). */
export function divergenceMS(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/**
 * The filter's sanity, box and barrier layers on the candidate's action, with their own previous setpoint and time.
 * Pure (time passed in); never throws.
 */
export class ShadowFilter {
  private previous: Ned | null = null;
  private lastTimeUs: number | null = null;

  constructor(private readonly cfg: SafetyConfig) {}

  reset(): void {
    this.previous = null;
    this.lastTimeUs = null;
  }

  /** The layers that would have changed this action (empty: it would have flown as proposed). */
  evaluate(tick: ShadowTick, action: Float32Array | null, velocity: Ned | null): Set<ShadowLayer> {
    const cfg = this.cfg;
    const layers = new Set<ShadowLayer>();
    try {
      const last = this.lastTimeUs;
      const dtS =
        last === null || !(tick.timeUs > last)
          ? cfg.nominalTickMs / 1000
          : Math.min(tick.timeUs - last, cfg.maxTickMs * 1000) / 1e6;
      this.lastTimeUs = tick.timeUs;
      const state = readState(tick.vehicle, cfg.stateExtrapolationMaxMs);
      const previous = this.previous ?? limitSpeed(state.velocityNedMS, cfg);
      const sanity = applySanity(
        action === null ? { action: null, velocityNedMS: null, fault: true } : { action, velocityNedMS: velocity },
        previous,
      );
      if (sanity.interventions.length > 0) layers.add('sanity');
      const box = applyBox(sanity.velocityNedMS, previous, dtS, cfg, !sanity.policyFault);
      if (box.interventions.length > 0) layers.add('box');
      let v = box.velocityNedMS;
      if (state.valid) {
        const geometry = barrierGeometry(state.positionNedM, state.altitudeM, tick.airspace, tick.neighbours, {
          floorActive: tick.phase === 'cruise',
          separationM: cfg.separationM,
          stateExtrapolationMaxMs: cfg.stateExtrapolationMaxMs,
          neighbourStaleMs: cfg.neighbourStaleMs,
        });
        const r = filterVelocity(v, barrierConstraints(geometry.barriers, state.velocityNedMS, cfg), cfg);
        if (r.status !== 'clear') layers.add('barrier');
        v = r.velocityNedMS;
      } else {
        layers.add('barrier');
        v = { n: 0, e: 0, d: 0 };
      }
      this.previous = v;
    } catch {
      // The real filter would have failed safe: count it where a broken proposal lands.
      layers.add('sanity');
    }
    return layers;
  }
}

/** Per-window shadow statistics. Pure. */
export class ShadowStats {
  private ticks = 0;
  private sum = 0;
  private samples = new SampleRing(8192);
  private interventionTicks = 0;
  private layers = zeroLayers();
  private skipped = 0;
  private faults = 0;
  /** Since the shadow started (for events and tests). */
  readonly totals = { ticks: 0, divergenceSumMps: 0, divergenceSamples: 0, interventionTicks: 0, faults: 0 };

  observe(divergence: number | null, layers: ReadonlySet<ShadowLayer>, fault: boolean): void {
    this.ticks++;
    this.totals.ticks++;
    if (divergence !== null && Number.isFinite(divergence)) {
      this.sum += divergence;
      this.samples.push(divergence);
      this.totals.divergenceSumMps += divergence;
      this.totals.divergenceSamples++;
    }
    if (layers.size > 0) {
      this.interventionTicks++;
      this.totals.interventionTicks++;
      for (const l of layers) this.layers[l]++;
    }
    if (fault) {
      this.faults++;
      this.totals.faults++;
    }
  }

  skip(): void {
    this.skipped++;
  }

  /** The window so far, and start the next. Null when nothing was observed nor skipped. */
  close(policyVersion: string): ShadowWindow | null {
    if (this.ticks === 0 && this.skipped === 0) return null;
    const n = this.samples.size;
    const p95 = n > 0 ? this.samples.percentile(95) : 0;
    const out: ShadowWindow = {
      policyVersion,
      ticks: this.ticks,
      divergenceMeanMps: n > 0 ? this.sum / n : 0,
      divergenceP95Mps: p95,
      wouldBeInterventionTicks: this.interventionTicks,
      wouldBeInterventionsByLayer: this.layers,
      skippedTicks: this.skipped,
      faults: this.faults,
    };
    this.ticks = 0;
    this.sum = 0;
    this.samples = new SampleRing(8192);
    this.interventionTicks = 0;
    this.layers = zeroLayers();
    this.skipped = 0;
    this.faults = 0;
    return out;
  }

  get meanDivergenceMps(): number {
    return this.totals.divergenceSamples > 0 ? this.totals.divergenceSumMps / this.totals.divergenceSamples : 0;
  }
}

export interface ShadowRunnerOptions {
  readonly runner: PolicyRunner;
  readonly version: string;
  readonly limits: SpeedLimitsMS;
  readonly safety: SafetyConfig;
  /** The candidate's inference deadline (ms); a late answer counts as a fault. */
  readonly deadlineMs: number;
  readonly log?: Logger;
}

/** The candidate flying in shadow. `observe` after each policy tick; `stop` releases the model. */
export class ShadowRunner {
  readonly version: string;
  readonly stats = new ShadowStats();
  private readonly filter: ShadowFilter;
  private readonly log: Logger;
  private busy: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: ShadowRunnerOptions) {
    this.version = o.version;
    this.filter = new ShadowFilter(o.safety);
    this.log = o.log ?? componentLogger('shadow', { version: o.version });
  }

  /** A new flight: the side filter's previous setpoint is forgotten. */
  resetFlight(): void {
    this.filter.reset();
  }

  /** Run the candidate on this tick's observation, in the background. Never throws. */
  observe(tick: ShadowTick): void {
    if (this.stopped) return;
    if (this.busy) {
      this.stats.skip();
      return;
    }
    this.busy = this.run(tick).finally(() => {
      this.busy = null;
    });
  }

  /** Wait for the inference in flight (tests, stop). */
  async idle(): Promise<void> {
    await this.busy;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.busy;
    await this.o.runner.release().catch((err: unknown) => this.log.warn({ err }, 'releasing the shadow model failed'));
  }

  private async run(tick: ShadowTick): Promise<void> {
    try {
      const out = await this.o.runner.runWithDeadline(tick.observation, this.o.deadlineMs);
      if (this.stopped) return;
      const lim = this.o.limits;
      let action: Float32Array | null = null;
      let velocity: Ned | null = null;
      let divergence: number | null = null;
      if (out.ok) {
        action = out.action;
        const v = actionToVelocityNedMS(out.action, lim);
        velocity = { n: v[0], e: v[1], d: v[2] };
        if (tick.activeAction !== null) {
          divergence = divergenceMS(v, actionToVelocityNedMS(tick.activeAction, lim));
        }
      }
      const layers = this.filter.evaluate(tick, action, velocity);
      this.stats.observe(divergence, layers, !out.ok);
    } catch (err) {
      // Not expected (the runner returns faults as values); a shadow never affects the active policy.
      this.stats.observe(null, new Set<ShadowLayer>(['sanity']), true);
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'shadow tick failed');
    }
  }
}
