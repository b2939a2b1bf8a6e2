/**
 * What the safety filter returns each tick, and the decision it returns when a bug threw inside the layers.
 */
import type { Ned } from '../../shared/geo/index.js';
import type { BarrierStatus, BarrierSummary } from './barrier.js';
import type { MonitorReport } from './monitor.js';
import type { ShieldDecision } from './shield.js';
import type { Intervention, MonitorAction, SafetyLayer } from './types.js';
import { ZERO_NED } from './vec.js';

export interface BarrierReport extends BarrierSummary {
  readonly status: BarrierStatus;
  /** Half-spaces given to the QP this tick. */
  readonly constraintCount: number;
  readonly qpIterations: number;
  /** Malformed geometry ignored this tick. */
  readonly issues: readonly string[];
  readonly neighbourStale: boolean;
}

/** What to send and why. */
export interface SafetyDecision {
  /** The tick's time as the filter used it (us; sanitised to be monotonic). */
  readonly timeUs: number;
  /** The velocity setpoint to send (NED m/s): finite, inside the speed limits. */
  readonly velocityNedMS: Ned;
  /** Yaw setpoint (rad) or null to leave yaw alone. */
  readonly yawRad: number | null;
  /** The monitor's action: the driver switches PX4 mode for return/land (hold is flown by this setpoint). */
  readonly action: MonitorAction;
  readonly interventions: readonly Intervention[];
  /** Which layers changed or overrode the setpoint this tick (for metrics). */
  readonly layers: Readonly<Record<SafetyLayer, boolean>>;
  readonly policyFault: boolean;
  /** The action clipped to [-1, 1]; null on a policy fault. */
  readonly actionClipped: readonly [number, number, number] | null;
  readonly shield: ShieldDecision;
  readonly barrier: BarrierReport;
  readonly monitor: MonitorReport;
  /** An internal error the filter survived (a bug to report); null normally. */
  readonly error: string | null;
}

/** A barrier report for a tick on which no barrier could be judged. */
export function noStateBarrierReport(): BarrierReport {
  const inf = Number.POSITIVE_INFINITY;
  return {
    clearanceM: { fence: inf, ceiling: inf, zone: inf, floor: inf, separation: inf },
    breached: [],
    nearMiss: [],
    status: 'no_state',
    constraintCount: 0,
    qpIterations: 0,
    issues: [],
    neighbourStale: false,
  };
}

/**
 * The decision after an internal error: brake to hover, at least hold, and the message for the driver to report.
 * Built from constants only, so it cannot throw itself.
 */
export function survivalDecision(
  timeUs: number,
  current: MonitorAction,
  policyFault: boolean,
  windowMs: number,
  message: string,
): SafetyDecision {
  const action: MonitorAction = current === 'return' || current === 'land' ? current : 'hold';
  const z = { count: 0, sumMagnitudeMS: 0, maxMagnitudeMS: 0 };
  return {
    timeUs,
    velocityNedMS: ZERO_NED,
    yawRad: null,
    action,
    interventions: [{ layer: 'monitor', reason: 'internal_error', magnitudeMS: 0 }],
    layers: { sanity: false, box: false, barrier: false, shield: false, monitor: true },
    policyFault,
    actionClipped: null,
    shield: { veto: false, wouldVeto: false, reason: null, score: null },
    barrier: noStateBarrierReport(),
    monitor: {
      action,
      latchedAction: action,
      activeRules: [],
      fired: [],
      released: [],
      transition: null,
      reset: null,
      counters: {
        policyFaultStreak: 0,
        shieldVetoStreak: 0,
        barrierFallbackStreak: 0,
        breachEvents: { fence: 0, ceiling: 0, zone: 0, floor: 0, separation: 0 },
        window: { windowMs, layers: { sanity: z, box: z, barrier: z, shield: z, monitor: z }, nearMisses: 0 },
      },
    },
    error: message,
  };
}
