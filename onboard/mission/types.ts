/**
 * Types of the delivery mission: what it reads of the vehicle, what it asks the driver to do, what it reports.
 */
import type { Px4ModeName } from '../../shared/mavlink/index.js';

export type Vec3 = readonly [number, number, number];

/** What the mission reads of the vehicle each step. NED metres from home; altitude up = -d. */
export interface MissionVehicleView {
  readonly positionNedM: Vec3;
  readonly velocityNedMS: Vec3;
  readonly armed: boolean;
  readonly modeName: string;
  readonly landed: boolean;
  /** 0..1, NaN when unknown. */
  readonly batteryRemaining: number;
  /** The autopilot reports a usable position estimate and a GPS fix. */
  readonly positionValid: boolean;
}

export interface MissionPlan {
  /** Drop point, NE metres from home. */
  readonly dropNeM: readonly [number, number];
  /** Where to come back to, NE metres from home (the depot; usually 0,0). */
  readonly returnNeM: readonly [number, number];
  /** Cruise altitude above home (m). */
  readonly cruiseAltM: number;
  /** Altitude above home at which the parcel is released (m); ignored when releaseBy = 'land'. */
  readonly releaseAltM: number;
  /** Lower the parcel on a winch from a hover, or land, disarm and take off again. */
  readonly releaseBy: 'hover' | 'land';
  /** Horizontal distance at which a waypoint counts as reached (m). */
  readonly arrivalRadiusM: number;
}

export interface MissionTiming {
  /** Setpoints stream this long before the switch to OFFBOARD and arming (PX4 needs > 1 s). */
  readonly streamWarmupMs: number;
  /** Give up arming (estimator not ready, checks failing) after this long. */
  readonly armTimeoutMs: number;
  /** Time spent hovering at the release altitude to lower the parcel. */
  readonly releaseHoldMs: number;
  /** Give up any single phase (takeoff, cruise leg, landing) after this long. */
  readonly phaseTimeoutMs: number;
  /** Pause between re-issued commands that were refused for now. */
  readonly commandRetryPauseMs: number;
}

export type MissionCommand =
  | { readonly kind: 'set-mode'; readonly mode: Px4ModeName }
  | { readonly kind: 'arm' }
  | { readonly kind: 'disarm' }
  | { readonly kind: 'land' }
  | { readonly kind: 'return' }
  | { readonly kind: 'hold' };

export interface CommandOutcome {
  readonly command: MissionCommand['kind'];
  readonly ok: boolean;
  /** 'timeout' | 'denied' | 'rejected' | ... as the commander reports it. */
  readonly reason?: string;
}

/** How the driver should produce this tick's velocity setpoint (always passed through the safety filter). */
export type Guidance =
  | { readonly kind: 'hold' }
  | { readonly kind: 'velocity'; readonly velocityNedMS: Vec3 }
  | { readonly kind: 'policy'; readonly goalNedM: Vec3 };

export type MissionPhase =
  | 'idle'
  | 'preflight'
  | 'warmup'
  | 'offboard'
  | 'arming'
  | 'takeoff'
  | 'cruise-out'
  | 'descend'
  | 'release'
  | 'landed-release'
  | 'climb'
  | 'cruise-back'
  | 'landing'
  | 'failsafe'
  | 'done';

export type MissionOutcome = 'delivered' | 'aborted' | 'failed';

export interface MissionEvent {
  readonly kind: 'phase' | 'released' | 'command-refused' | 'outcome';
  readonly phase: MissionPhase;
  readonly timeMs: number;
  readonly detail?: string;
  readonly outcome?: MissionOutcome;
}

/** Operator or monitor requests that change the mission from outside. */
export type MissionRequest = 'abort' | 'return' | 'land' | 'hold';

export interface MissionOutput {
  readonly phase: MissionPhase;
  /** Whether offboard setpoints should stream this tick. */
  readonly stream: boolean;
  /** The safety filter's altitude floor applies only in cruise phases. */
  readonly cruising: boolean;
  readonly guidance: Guidance;
  /** A command for the driver to send now (at most one in flight; the outcome comes back via `commandDone`). */
  readonly command: MissionCommand | null;
  readonly events: readonly MissionEvent[];
}
