/**
 * The runtime monitor's rule table, PX4-failsafe style: each rule names a condition over the monitor's inputs and
 * state, the action it asks for, how long the condition must hold before it fires (hold-off) and how long it must
 * be clear before a non-latching rule lets go (release, the hysteresis). The most severe active rule wins; hold and
 * above latch until reset (monitor.ts). The README prints this table.
 */
import type { BarrierKind } from './barrier-geometry.js';
import type { SafetyConfig } from './config.js';
import type { WindowStats } from './monitor-window.js';
import type { Intervention, MissionPhase, MonitorAction, Mutable } from './types.js';

/** What the rules read each tick. */
export interface MonitorInput {
  readonly timeUs: number;
  readonly armed: boolean;
  readonly landed: boolean;
  readonly phase: MissionPhase;
  readonly emergencyStop: boolean;
  /** Operator cleared a latched action (edge). */
  readonly operatorClear: boolean;
  readonly autopilotHeartbeatAgeMs: number;
  readonly groundLinkUp: boolean;
  readonly batteryRemaining01: number;
  readonly batteryVoltageV: number;
  readonly statusAgeMs: number;
  readonly gpsFixOk: boolean;
  readonly positionAgeMs: number;
  /** Position, velocity and altitude are finite numbers. */
  readonly stateValid: boolean;
  readonly policyFault: boolean;
  readonly shieldVeto: boolean;
  /** The barrier layer flew its rule fallback (no velocity met every barrier). */
  readonly barrierFallback: boolean;
  readonly breached: readonly BarrierKind[];
  readonly nearMiss: readonly BarrierKind[];
  readonly neighbourStale: boolean;
  readonly airspaceIssueCount: number;
  /** This tick's interventions by layers 1-4. */
  readonly interventions: readonly Intervention[];
}

const NO_KINDS: readonly BarrierKind[] = Object.freeze([]);

/** A monitor input with nothing known yet, for filling in place every tick (the monitor copies what it keeps). */
export function emptyMonitorInput(): Mutable<MonitorInput> {
  return {
    timeUs: 0,
    armed: false,
    landed: false,
    phase: 'ground',
    emergencyStop: false,
    operatorClear: false,
    autopilotHeartbeatAgeMs: Number.NaN,
    groundLinkUp: false,
    batteryRemaining01: Number.NaN,
    batteryVoltageV: Number.NaN,
    statusAgeMs: Number.NaN,
    gpsFixOk: false,
    positionAgeMs: Number.NaN,
    stateValid: false,
    policyFault: false,
    shieldVeto: false,
    barrierFallback: false,
    breached: NO_KINDS,
    nearMiss: NO_KINDS,
    neighbourStale: false,
    airspaceIssueCount: 0,
    interventions: [],
  };
}

/** The inputs plus what the monitor keeps between ticks. */
export interface MonitorView extends MonitorInput {
  readonly airborne: boolean;
  readonly policyFaultStreak: number;
  readonly shieldVetoStreak: number;
  readonly barrierFallbackStreak: number;
  readonly window: WindowStats;
}

export type MonitorRuleName =
  | 'emergency_stop'
  | 'autopilot_link_lost'
  | 'battery_critical'
  | 'battery_low'
  | 'battery_status_stale'
  | 'gps_lost'
  | 'gps_lost_long'
  | 'state_stale'
  | 'state_lost'
  | 'policy_fault_streak'
  | 'policy_fault_persistent'
  | 'fence_breach'
  | 'zone_breach'
  | 'floor_breach'
  | 'separation_breach'
  | 'barrier_infeasible'
  | 'shield_veto_streak'
  | 'ground_link_down'
  | 'ground_link_lost'
  | 'near_miss'
  | 'interventions_excessive'
  | 'neighbour_stale'
  | 'airspace_invalid';

export interface MonitorRule {
  readonly name: MonitorRuleName;
  readonly action: MonitorAction;
  /** The condition must hold continuously this long before the rule fires (ms). */
  readonly holdOffMs: number;
  /** A fired, non-latching rule stays up until its condition has been clear this long (ms). */
  readonly releaseMs: number;
  /** The condition in words (README, logs). */
  readonly condition: string;
  /** Reads the view during the call only: the monitor fills one view in place every tick. */
  readonly when: (v: MonitorView) => boolean;
}

const batteryBelow = (v: MonitorView, fraction: number, voltageV: number): boolean =>
  v.batteryRemaining01 < fraction || (voltageV > 0 && v.batteryVoltageV < voltageV);
const stateBad = (v: MonitorView, cfg: SafetyConfig): boolean =>
  v.airborne && (!v.stateValid || !(v.positionAgeMs <= cfg.stateStaleMs));

/** The table, with the thresholds of `cfg`. Order does not matter: the most severe active rule wins. */
export function monitorRules(cfg: SafetyConfig): readonly MonitorRule[] {
  const warn = cfg.warnReleaseMs;
  const rules: MonitorRule[] = [
    {
      name: 'emergency_stop',
      action: 'land',
      holdOffMs: 0,
      releaseMs: 0,
      condition: 'emergency-stop input set',
      when: (v) => v.emergencyStop,
    },
    {
      name: 'autopilot_link_lost',
      action: 'land',
      holdOffMs: 0,
      releaseMs: 0,
      condition: `armed and autopilot HEARTBEAT older than ${cfg.heartbeatTimeoutMs} ms`,
      when: (v) => v.armed && !(v.autopilotHeartbeatAgeMs <= cfg.heartbeatTimeoutMs),
    },
    {
      name: 'battery_critical',
      action: 'land',
      holdOffMs: cfg.batteryHoldOffMs,
      releaseMs: 0,
      condition: `armed and battery < ${cfg.batteryCriticalFraction} (or < ${cfg.batteryCriticalVoltageV} V when set)`,
      when: (v) => v.armed && batteryBelow(v, cfg.batteryCriticalFraction, cfg.batteryCriticalVoltageV),
    },
    {
      name: 'battery_low',
      action: 'return',
      holdOffMs: cfg.batteryHoldOffMs,
      releaseMs: 0,
      condition: `armed and battery < ${cfg.batteryLowFraction} (or < ${cfg.batteryLowVoltageV} V when set)`,
      when: (v) => v.armed && batteryBelow(v, cfg.batteryLowFraction, cfg.batteryLowVoltageV),
    },
    {
      name: 'battery_status_stale',
      action: 'warn',
      holdOffMs: 0,
      releaseMs: warn,
      condition: `armed and battery report older than ${cfg.batteryStatusStaleMs} ms`,
      when: (v) => v.armed && !(v.statusAgeMs <= cfg.batteryStatusStaleMs),
    },
    {
      name: 'gps_lost',
      action: 'hold',
      holdOffMs: cfg.gpsLossHoldOffMs,
      releaseMs: 0,
      condition: 'airborne without a GPS fix',
      when: (v) => v.airborne && !v.gpsFixOk,
    },
    {
      name: 'gps_lost_long',
      action: 'land',
      holdOffMs: cfg.gpsLossLandMs,
      releaseMs: 0,
      condition: 'airborne without a GPS fix',
      when: (v) => v.airborne && !v.gpsFixOk,
    },
    {
      name: 'state_stale',
      action: 'hold',
      holdOffMs: 0,
      releaseMs: 0,
      condition: `airborne and position invalid or older than ${cfg.stateStaleMs} ms`,
      when: (v) => stateBad(v, cfg),
    },
    {
      name: 'state_lost',
      action: 'land',
      holdOffMs: cfg.stateLostLandMs,
      releaseMs: 0,
      condition: 'state_stale, continuously',
      when: (v) => stateBad(v, cfg),
    },
    {
      name: 'policy_fault_streak',
      action: 'hold',
      holdOffMs: 0,
      releaseMs: 0,
      condition: `airborne and >= ${cfg.policyFaultHoldTicks} policy faults in a row`,
      when: (v) => v.airborne && v.policyFaultStreak >= cfg.policyFaultHoldTicks,
    },
    {
      name: 'policy_fault_persistent',
      action: 'land',
      holdOffMs: 0,
      releaseMs: 0,
      condition: `airborne and >= ${cfg.policyFaultLandTicks} policy faults in a row`,
      when: (v) => v.airborne && v.policyFaultStreak >= cfg.policyFaultLandTicks,
    },
    {
      name: 'fence_breach',
      action: 'hold',
      holdOffMs: 0,
      releaseMs: 0,
      condition: 'outside the geofence polygon or above its ceiling',
      when: (v) => v.breached.includes('fence') || v.breached.includes('ceiling'),
    },
    {
      name: 'zone_breach',
      action: 'hold',
      holdOffMs: 0,
      releaseMs: 0,
      condition: 'inside a no-fly zone (its altitude band)',
      when: (v) => v.breached.includes('zone'),
    },
    {
      name: 'floor_breach',
      action: 'hold',
      holdOffMs: cfg.floorBreachHoldOffMs,
      releaseMs: 0,
      condition: 'cruising below the altitude floor',
      when: (v) => v.breached.includes('floor'),
    },
    {
      name: 'separation_breach',
      action: 'hold',
      holdOffMs: 0,
      releaseMs: 0,
      condition: 'airborne and closer than the minimum separation to another drone',
      when: (v) => v.airborne && v.breached.includes('separation'),
    },
    {
      name: 'barrier_infeasible',
      action: 'hold',
      holdOffMs: 0,
      releaseMs: 0,
      condition: `>= ${cfg.barrierFallbackHoldTicks} ticks in a row with no velocity meeting every barrier`,
      when: (v) => v.barrierFallbackStreak >= cfg.barrierFallbackHoldTicks,
    },
    {
      name: 'shield_veto_streak',
      action: 'hold',
      holdOffMs: 0,
      releaseMs: 0,
      condition: `>= ${cfg.shieldVetoHoldTicks} shield vetoes in a row`,
      when: (v) => v.shieldVetoStreak >= cfg.shieldVetoHoldTicks,
    },
    {
      name: 'ground_link_down',
      action: 'warn',
      holdOffMs: 0,
      releaseMs: warn,
      condition: 'ground link down',
      when: (v) => !v.groundLinkUp,
    },
    {
      name: 'ground_link_lost',
      action: 'return',
      holdOffMs: cfg.groundLinkLostMs,
      releaseMs: 0,
      condition: 'airborne and ground link down',
      when: (v) => v.airborne && !v.groundLinkUp,
    },
    {
      name: 'near_miss',
      action: 'warn',
      holdOffMs: 0,
      releaseMs: warn,
      condition: 'inside a barrier margin (not breached)',
      when: (v) => v.nearMiss.length > 0,
    },
    {
      name: 'interventions_excessive',
      action: 'warn',
      holdOffMs: 0,
      releaseMs: warn,
      condition: `>= ${cfg.interventionWarnCount} barrier+shield interventions in ${cfg.monitorWindowMs} ms`,
      when: (v) => v.window.layers.barrier.count + v.window.layers.shield.count >= cfg.interventionWarnCount,
    },
    {
      name: 'neighbour_stale',
      action: 'warn',
      holdOffMs: 0,
      releaseMs: warn,
      condition: `a neighbour report older than ${cfg.neighbourStaleMs} ms`,
      when: (v) => v.neighbourStale,
    },
    {
      name: 'airspace_invalid',
      action: 'warn',
      holdOffMs: 0,
      releaseMs: warn,
      condition: 'some airspace geometry is malformed and ignored',
      when: (v) => v.airspaceIssueCount > 0,
    },
  ];
  return Object.freeze(rules);
}
