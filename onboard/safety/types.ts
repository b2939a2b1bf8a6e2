/**
 * The safety filter's inputs and outputs. Frames: NED metres / m/s from home; altitudes are metres above home (up
 * positive); times are microseconds (timeUs) or millisecond ages (…AgeMs).
 */
import type { Airspace, Ned } from '../../shared/geo/index.js';

/** Where the mission is: the altitude floor applies while cruising only (takeoff and landing cross it). */
export type MissionPhase = 'ground' | 'takeoff' | 'cruise' | 'landing';

/** The vehicle state the filter reads each tick. Any number may be NaN; the filter fails closed on it. */
export interface SafetyVehicleState {
  /** Local position estimate, NED m from home. */
  readonly positionNedM: Ned;
  /** Velocity estimate, NED m/s. */
  readonly velocityNedMS: Ned;
  /** Height above home (m, up positive): -positionNedM.d unless the driver fuses a better source. */
  readonly altitudeAboveHomeM: number;
  readonly armed: boolean;
  readonly landed: boolean;
  /** Battery charge left, 0..1; NaN when unknown. */
  readonly batteryRemaining01: number;
  /** Pack voltage (V); NaN when unknown. */
  readonly batteryVoltageV: number;
  /** A 3-D fix (or better) and a usable global position. */
  readonly gpsFixOk: boolean;
  /** Age of the position/velocity estimate at timeUs (ms); Infinity when never received. */
  readonly positionAgeMs: number;
  /** Age of the battery/status report at timeUs (ms). */
  readonly statusAgeMs: number;
}

/** What the policy stage produced this tick. */
export interface PolicyProposal {
  /** The raw action (nominally 3 values in [-1, 1]); null when the policy produced nothing. */
  readonly action: ArrayLike<number> | null;
  /**
   * The velocity setpoint the driver mapped from `action` (NED m/s), e.g. with shared/policy actionToVelocityNedMS;
   * null when there is none. The box layer enforces the limits whatever the mapping did.
   */
  readonly velocityNedMS: Ned | null;
  /** Optional yaw setpoint (rad, 0 = north); null or absent leaves yaw to PX4. */
  readonly yawRad?: number | null;
  /** The driver saw the policy fail this tick (exception, timeout, contract mismatch). */
  readonly fault?: boolean;
}

/** Another drone, as last reported (by the ground station or directly). */
export interface Neighbour {
  readonly id: string;
  /** NED m in this drone's home frame. */
  readonly positionNedM: Ned;
  readonly velocityNedMS: Ned;
  /** Age of this report at timeUs (ms); the filter extrapolates the position over it. */
  readonly ageMs: number;
}

/**
 * The learned cost critic's score for (observation, proposed action), computed by the driver (which owns the ONNX
 * session). Higher is more dangerous; compared with `shieldThreshold`.
 */
export interface ShieldVerdict {
  readonly score: number;
}

export interface LinkHealth {
  /** Time since the autopilot's last HEARTBEAT (ms); Infinity when never. */
  readonly autopilotHeartbeatAgeMs: number;
  /** The MQTT link to the ground station is connected. */
  readonly groundLinkUp: boolean;
}

/** Everything the filter reads on one tick. */
export interface SafetyInput {
  /** Monotonic time of this tick (us). */
  readonly timeUs: number;
  readonly vehicle: SafetyVehicleState;
  readonly policy: PolicyProposal;
  readonly airspace: Airspace;
  readonly neighbours: readonly Neighbour[];
  /** The shield's verdict on the policy action, when a shield runs. */
  readonly shield?: ShieldVerdict | null;
  readonly link: LinkHealth;
  /** Operator or hardware emergency stop: land now. */
  readonly emergencyStop: boolean;
  readonly phase: MissionPhase;
  /** Operator cleared a latched action this tick (an edge, not a level). */
  readonly operatorClear?: boolean;
}

/** The layers, in the order the filter applies them. */
export type SafetyLayer = 'sanity' | 'box' | 'barrier' | 'shield' | 'monitor';
export const SAFETY_LAYERS: readonly SafetyLayer[] = ['sanity', 'box', 'barrier', 'shield', 'monitor'];

export type InterventionReason =
  | 'policy_fault_reported'
  | 'action_missing'
  | 'action_shape'
  | 'action_non_finite'
  | 'velocity_non_finite'
  | 'action_out_of_range'
  | 'yaw_non_finite'
  | 'axis_speed_limit'
  | 'horizontal_speed_limit'
  | 'climb_speed_limit'
  | 'descent_speed_limit'
  | 'rate_limit'
  | 'barrier_projection'
  | 'barrier_fallback'
  | 'state_invalid'
  | 'shield_veto'
  | 'shield_score_invalid'
  | 'shield_missing'
  | 'monitor_hold'
  | 'monitor_return'
  | 'monitor_land'
  | 'internal_error';

/** One change a layer made to the setpoint. */
export interface Intervention {
  readonly layer: SafetyLayer;
  readonly reason: InterventionReason;
  /** Size of the change to the velocity setpoint (m/s); 0 when only a flag (e.g. a clipped action). */
  readonly magnitudeMS: number;
}

/** A record type with its fields writable (the per-tick records the safety layers and the loop fill in place). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The emergency ladder, least to most severe. */
export type MonitorAction = 'none' | 'warn' | 'hold' | 'return' | 'land';
export const MONITOR_ACTIONS: readonly MonitorAction[] = ['none', 'warn', 'hold', 'return', 'land'];
export const actionSeverity = (a: MonitorAction): number => MONITOR_ACTIONS.indexOf(a);
