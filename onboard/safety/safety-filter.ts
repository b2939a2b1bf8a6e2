/**
 * The safety filter: the five layers in order, once per tick, time passed in.
 *
 *   1 sanity   the policy output is numbers (else brake to hover, policy fault)
 *   2 box      speed limits and a rate limit on the policy's setpoint
 *   3 barrier  CBF half-spaces from the airspace and the neighbours, smallest change by QP, rule fallback
 *   4 shield   the learned critic's veto (score passed in), replaced by layer 3's safe hover
 *   5 monitor  the rule table and emergency ladder; hold/return fly a safe hover, land a safe descent
 *
 * `update` never throws and always returns a finite setpoint inside the speed limits. The rate limit shapes the
 * policy only: barriers, fallbacks and the monitor may change the setpoint faster, because stopping in time outranks
 * smoothness (PX4 still limits the acceleration). Logging is the driver's: the decision carries every transition.
 */
import type { Ned } from '../../shared/geo/index.js';
import {
  type BarrierConstraint,
  barrierConstraints,
  breachedKinds,
  filterVelocityInto,
  leastClearances,
  nearMissKinds,
  newBarrierResult,
} from './barrier.js';
import { type BarrierFunction, type BarrierGeometryOptions, barrierGeometryInto } from './barrier-geometry.js';
import { boxVelocity, limitSpeed, withinSpeedLimits } from './box.js';
import { DEFAULT_SAFETY_CONFIG, type SafetyConfig } from './config.js';
import { RuntimeMonitor } from './monitor.js';
import { emptyMonitorInput } from './monitor-rules.js';
import { type BarrierReport, noStateBarrierReport, type SafetyDecision, survivalDecision } from './safety-decision.js';
import { applySanity } from './sanity.js';
import { evaluateShield } from './shield.js';
import { newStateReading, readStateInto } from './state-reading.js';
import {
  actionSeverity,
  type Intervention,
  type MonitorAction,
  type PolicyProposal,
  SAFETY_LAYERS,
  type SafetyInput,
  type SafetyLayer,
} from './types.js';
import { changeMS, clearList, ZERO_NED } from './vec.js';

export type { BarrierReport, SafetyDecision };

const NO_POLICY: PolicyProposal = { action: null, velocityNedMS: null };
const NO_CONSTRAINTS: readonly BarrierConstraint[] = Object.freeze([]);
const NO_ISSUES: readonly string[] = Object.freeze([]);

/** The `layers` record of a decision for each set of layers (bit i for SAFETY_LAYERS[i]), made once and shared. */
const LAYER_SETS: readonly Readonly<Record<SafetyLayer, boolean>>[] = Array.from(
  { length: 1 << SAFETY_LAYERS.length },
  (_, mask) =>
    Object.freeze(
      Object.fromEntries(SAFETY_LAYERS.map((l, i) => [l, (mask & (1 << i)) !== 0])) as Record<SafetyLayer, boolean>,
    ),
);
const LAYER_BIT: Readonly<Record<SafetyLayer, number>> = Object.freeze(
  Object.fromEntries(SAFETY_LAYERS.map((l, i) => [l, 1 << i])) as Record<SafetyLayer, number>,
);

export class SafetyFilter {
  readonly config: SafetyConfig;
  private readonly monitor: RuntimeMonitor;
  private previousSetpoint: Ned | null = null;
  private lastTimeUs: number | null = null;
  /** The barrier geometry's options with the altitude floor on (cruise) and off, made once. */
  private readonly geometryCruise: BarrierGeometryOptions;
  private readonly geometryOther: BarrierGeometryOptions;
  /** Per-tick scratch, emptied and refilled every tick; none of it leaves in a decision. */
  private readonly barriers: BarrierFunction[] = [];
  private readonly issues: string[] = [];
  /** The tick's interventions as the layers add them; the decision gets a copy of exactly its length. */
  private readonly interventions: Intervention[] = [];
  private readonly constraints: BarrierConstraint[] = [];
  /** The constraint records, rewritten every tick (constraints never leave the tick). */
  private readonly constraintPool: BarrierConstraint[] = [];
  private readonly monitorInput = emptyMonitorInput();
  private readonly state = newStateReading();
  /** The barrier layer's answer, and the hover's (shield veto, monitor hold) when it solves again. */
  private readonly barrierResult = newBarrierResult();
  private readonly hoverResult = newBarrierResult();
  /** The tick length advanceTime found (s). */
  private dtS = 0;

  constructor(config: SafetyConfig = DEFAULT_SAFETY_CONFIG) {
    this.config = config;
    this.monitor = new RuntimeMonitor(config);
    const geometry = {
      separationM: config.separationM,
      stateExtrapolationMaxMs: config.stateExtrapolationMaxMs,
      neighbourStaleMs: config.neighbourStaleMs,
    };
    this.geometryCruise = Object.freeze({ ...geometry, floorActive: true });
    this.geometryOther = Object.freeze({ ...geometry, floorActive: false });
  }

  /** The monitor's action after the last tick. */
  get action(): MonitorAction {
    return this.monitor.currentAction;
  }

  /** Forget the previous setpoint, time and every monitor state (a new flight). */
  reset(): void {
    this.previousSetpoint = null;
    this.lastTimeUs = null;
    this.monitor.clear();
  }

  /** One tick. Never throws. */
  update(input: SafetyInput): SafetyDecision {
    try {
      return this.step(input);
    } catch (err) {
      return this.survive(input, err);
    }
  }

  /** The tick's time (us); its length goes to this.dtS. */
  private advanceTime(timeUs: unknown): number {
    const nominalUs = this.config.nominalTickMs * 1000;
    const last = this.lastTimeUs;
    const given = typeof timeUs === 'number' && Number.isFinite(timeUs) ? timeUs : null;
    // A missing or backward time still advances by one nominal tick, so hold-offs keep counting.
    const t = last === null ? (given ?? 0) : given !== null && given >= last ? given : last + nominalUs;
    const dtUs = last === null ? nominalUs : Math.min(t - last, this.config.maxTickMs * 1000);
    this.lastTimeUs = t;
    this.dtS = dtUs / 1e6;
    return t;
  }

  private step(input: SafetyInput): SafetyDecision {
    const cfg = this.config;
    const t = this.advanceTime(input.timeUs);
    const dtS = this.dtS;
    const vehicle = input.vehicle;
    const state = readStateInto(vehicle, cfg.stateExtrapolationMaxMs, this.state);
    const previous = this.previousSetpoint ?? limitSpeed(state.velocityNedMS, cfg);
    const interventions = this.interventions;
    clearList(interventions);

    // 1. Sanity.
    const sanity = applySanity(input.policy ?? NO_POLICY, previous, interventions);
    // 2. Box (a fault's brake is not rate limited).
    let v = boxVelocity(sanity.velocityNedMS, previous, dtS, cfg, !sanity.policyFault, interventions);

    // 3. Barriers.
    let constraints: readonly BarrierConstraint[] = NO_CONSTRAINTS;
    let barrier: BarrierReport;
    if (state.valid) {
      const barriers = this.barriers;
      const issues = this.issues;
      clearList(barriers);
      clearList(issues);
      const neighbourStale = barrierGeometryInto(
        state.positionNedM,
        state.altitudeM,
        input.airspace,
        input.neighbours,
        input.phase === 'cruise' ? this.geometryCruise : this.geometryOther,
        barriers,
        issues,
      );
      constraints = barrierConstraints(barriers, state.velocityNedMS, cfg, this.constraints, this.constraintPool);
      const r = filterVelocityInto(v, constraints, cfg, this.barrierResult);
      if (r.status !== 'clear') {
        const reason = r.status === 'projected' ? 'barrier_projection' : 'barrier_fallback';
        interventions.push({ layer: 'barrier', reason, magnitudeMS: changeMS(v, r.velocityNedMS) });
      }
      v = r.velocityNedMS;
      const clearanceM = leastClearances(barriers);
      barrier = {
        clearanceM,
        breached: breachedKinds(clearanceM),
        nearMiss: nearMissKinds(clearanceM, cfg),
        status: r.status,
        constraintCount: constraints.length,
        qpIterations: r.qpIterations,
        issues: issues.length === 0 ? NO_ISSUES : issues.slice(),
        neighbourStale,
      };
    } else {
      // Without a position no barrier can be judged: brake to hover.
      interventions.push({ layer: 'barrier', reason: 'state_invalid', magnitudeMS: changeMS(v, ZERO_NED) });
      v = ZERO_NED;
      barrier = noStateBarrierReport();
    }

    // 4. Shield.
    let yawRad = sanity.yawRad;
    const shield = evaluateShield(input.shield, sanity.policyFault, cfg);
    if (shield.veto && shield.reason) {
      const hover = this.safeHover(state.valid, constraints);
      interventions.push({ layer: 'shield', reason: shield.reason, magnitudeMS: changeMS(v, hover) });
      v = hover;
      yawRad = null;
    }

    // 5. Monitor.
    const m = this.monitorInput;
    m.timeUs = t;
    m.armed = vehicle?.armed === true;
    m.landed = vehicle?.landed === true;
    m.phase = input.phase;
    m.emergencyStop = input.emergencyStop === true;
    m.operatorClear = input.operatorClear === true;
    m.autopilotHeartbeatAgeMs = Number(input.link?.autopilotHeartbeatAgeMs);
    m.groundLinkUp = input.link?.groundLinkUp === true;
    m.batteryRemaining01 = Number(vehicle?.batteryRemaining01);
    m.batteryVoltageV = Number(vehicle?.batteryVoltageV);
    m.statusAgeMs = Number(vehicle?.statusAgeMs);
    m.gpsFixOk = vehicle?.gpsFixOk === true;
    m.positionAgeMs = Number(vehicle?.positionAgeMs);
    m.stateValid = state.valid && state.velocityValid;
    m.policyFault = sanity.policyFault;
    m.shieldVeto = shield.veto;
    m.barrierFallback = barrier.status === 'fallback';
    m.breached = barrier.breached;
    m.nearMiss = barrier.nearMiss;
    m.neighbourStale = barrier.neighbourStale;
    m.airspaceIssueCount = barrier.issues.length;
    m.interventions = interventions;
    const monitor = this.monitor.update(m);
    if (actionSeverity(monitor.action) >= actionSeverity('hold')) {
      const target =
        monitor.action === 'land'
          ? state.valid
            ? filterVelocityInto(
                { n: 0, e: 0, d: cfg.landDescentSpeedMS },
                constraints.filter((c) => c.kind !== 'floor'),
                cfg,
                this.hoverResult,
              ).velocityNedMS
            : { n: 0, e: 0, d: cfg.landDescentSpeedMS }
          : this.safeHover(state.valid, constraints);
      const reason =
        monitor.action === 'land' ? 'monitor_land' : monitor.action === 'return' ? 'monitor_return' : 'monitor_hold';
      const override: Intervention = { layer: 'monitor', reason, magnitudeMS: changeMS(v, target) };
      interventions.push(override);
      this.monitor.countIntervention(t, override);
      v = target;
      yawRad = null;
    }

    // Last guard: whatever happened above, what leaves is a finite setpoint inside the limits.
    let error: string | null = null;
    if (!withinSpeedLimits(v, cfg)) {
      error = `setpoint outside limits after the layers: ${JSON.stringify(v)}`;
      v = limitSpeed(v, cfg);
      interventions.push({ layer: 'monitor', reason: 'internal_error', magnitudeMS: 0 });
    }
    this.previousSetpoint = v;
    let layerMask = 0;
    for (let i = 0; i < interventions.length; i++) layerMask |= LAYER_BIT[interventions[i].layer];
    return {
      timeUs: t,
      velocityNedMS: v,
      yawRad,
      action: monitor.action,
      interventions: interventions.slice(),
      layers: LAYER_SETS[layerMask],
      policyFault: sanity.policyFault,
      actionClipped: sanity.actionClipped,
      shield,
      barrier,
      monitor,
      error,
    };
  }

  /** Layer 3's safe hover: hover shaped by the barriers, or plain hover when no barrier can be judged. */
  private safeHover(stateValid: boolean, constraints: readonly BarrierConstraint[]): Ned {
    return stateValid
      ? filterVelocityInto(ZERO_NED, constraints, this.config, this.hoverResult).velocityNedMS
      : ZERO_NED;
  }

  /** A bug threw inside the layers: brake to hover and say so; the monitor's state is left as it was. */
  private survive(input: SafetyInput, err: unknown): SafetyDecision {
    this.previousSetpoint = ZERO_NED;
    let message = 'unknown error';
    try {
      message = err instanceof Error ? err.message : String(err);
    } catch {
      // keep the placeholder
    }
    const policyFault = input?.policy?.fault === true;
    return survivalDecision(
      this.lastTimeUs ?? 0,
      this.monitor.currentAction,
      policyFault,
      this.config.monitorWindowMs,
      message,
    );
  }
}
