/**
 * The safety filter's configuration, declared once (name, type, default, unit, range, meaning), validated at start-up
 * and handed to every layer as one frozen object. Defaults suit a delivery multirotor on PX4 v1.15 defaults
 * (MPC_ACC_HOR 3 m/s^2, velocity tracking lag ~0.3 s).
 */

import { type ConfigOf, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';

export const SAFETY_CONFIG_SCHEMA = declareConfig({
  // Layer 2: box.
  maxHorizontalSpeedMS: {
    type: 'number',
    default: 12,
    unit: 'm/s',
    min: 0.5,
    max: 30,
    doc: 'Horizontal speed limit (norm of north/east).',
  },
  maxAxisSpeedMS: {
    type: 'number',
    default: 12,
    unit: 'm/s',
    min: 0.5,
    max: 30,
    doc: 'Per-axis limit on the north and the east speed.',
  },
  maxClimbSpeedMS: { type: 'number', default: 3, unit: 'm/s', min: 0.2, max: 10, doc: 'Climb speed limit (up).' },
  maxDescentSpeedMS: { type: 'number', default: 2, unit: 'm/s', min: 0.2, max: 10, doc: 'Descent speed limit (down).' },
  maxHorizontalAccelMS2: {
    type: 'number',
    default: 2.5,
    unit: 'm/s^2',
    min: 0.1,
    max: 30,
    doc: 'Rate limit on the horizontal change of the policy setpoint; keep below PX4 MPC_ACC_HOR so the vehicle keeps up.',
  },
  maxVerticalAccelMS2: {
    type: 'number',
    default: 2.5,
    unit: 'm/s^2',
    min: 0.1,
    max: 30,
    doc: 'Rate limit on the vertical change of the policy setpoint; keep below the vehicle vertical acceleration.',
  },
  nominalTickMs: {
    type: 'number',
    default: 20,
    unit: 'ms',
    min: 1,
    max: 1000,
    doc: 'Tick period assumed when the time input is missing or goes backwards.',
  },
  maxTickMs: {
    type: 'number',
    default: 100,
    unit: 'ms',
    min: 1,
    max: 5000,
    doc: 'Longest tick the rate limit credits (a stalled loop does not unlock a jump).',
  },
  // Layer 3: barriers.
  barrierAlphaPerS: {
    type: 'number',
    default: 0.8,
    unit: '1/s',
    min: 0.05,
    max: 10,
    doc: 'CBF gain: closing speed allowed per metre of slack near a barrier.',
  },
  brakeAccelMS2: {
    type: 'number',
    default: 2.5,
    unit: 'm/s^2',
    min: 0.2,
    max: 10,
    doc: 'Deceleration the barriers plan stopping distance with; keep below PX4 MPC_ACC_HOR.',
  },
  barrierVelocityGain: {
    type: 'number',
    default: 3,
    unit: '1',
    min: 0,
    max: 20,
    doc: 'Extra braking commanded per m/s the vehicle closes faster than a barrier allows (lag, wind).',
  },
  trackingLagS: {
    type: 'number',
    default: 0.3,
    unit: 's',
    min: 0,
    max: 2,
    doc: "Vehicle's velocity tracking lag, added to the stopping distance.",
  },
  fenceMarginM: {
    type: 'number',
    default: 3,
    unit: 'm',
    min: 0,
    max: 200,
    doc: 'Buffer kept inside the geofence polygon.',
  },
  verticalMarginM: {
    type: 'number',
    default: 2,
    unit: 'm',
    min: 0,
    max: 100,
    doc: 'Buffer kept below the ceiling and above the cruise altitude floor.',
  },
  zoneMarginM: {
    type: 'number',
    default: 3,
    unit: 'm',
    min: 0,
    max: 200,
    doc: 'Buffer kept outside every no-fly zone (3-D distance).',
  },
  separationM: {
    type: 'number',
    default: 5,
    unit: 'm',
    min: 0.5,
    max: 200,
    doc: 'Minimum distance to another drone; closer is a breach.',
  },
  separationMarginM: {
    type: 'number',
    default: 3,
    unit: 'm',
    min: 0,
    max: 200,
    doc: 'Buffer kept beyond the minimum separation.',
  },
  recoverySpeedMS: {
    type: 'number',
    default: 2,
    unit: 'm/s',
    min: 0.1,
    max: 10,
    doc: 'Fastest push back out of a barrier margin once inside it.',
  },
  maxBarrierConstraints: {
    type: 'integer',
    default: 24,
    min: 1,
    max: 64,
    doc: 'Most barrier half-spaces given to the QP per tick (the nearest win).',
  },
  stateExtrapolationMaxMs: {
    type: 'number',
    default: 500,
    unit: 'ms',
    min: 0,
    max: 5000,
    doc: "Longest age a position (own or a neighbour's) is extrapolated over.",
  },
  neighbourStaleMs: {
    type: 'number',
    default: 2000,
    unit: 'ms',
    min: 0,
    max: 60000,
    doc: 'Neighbour report age that raises a warning (the neighbour is still avoided).',
  },
  // Layer 4: shield.
  shieldMode: {
    type: 'enum',
    values: ['off', 'advisory', 'enforce'] as const,
    default: 'off',
    doc: 'off: ignore the critic; advisory: report only; enforce: veto above the threshold.',
  },
  shieldThreshold: {
    type: 'number',
    default: 0.5,
    unit: 'cost',
    min: -1e6,
    max: 1e6,
    doc: 'Critic cost above which the policy action is vetoed.',
  },
  // Layer 5: monitor.
  heartbeatTimeoutMs: {
    type: 'number',
    default: 3000,
    unit: 'ms',
    min: 100,
    max: 60000,
    doc: 'Autopilot HEARTBEAT age that counts as the link lost.',
  },
  groundLinkLostMs: {
    type: 'number',
    default: 10000,
    unit: 'ms',
    min: 0,
    max: 600000,
    doc: 'Ground link down this long => return (warn at once).',
  },
  batteryLowFraction: {
    type: 'number',
    default: 0.25,
    unit: '0..1',
    min: 0,
    max: 1,
    doc: 'Remaining charge below which the drone returns.',
  },
  batteryCriticalFraction: {
    type: 'number',
    default: 0.12,
    unit: '0..1',
    min: 0,
    max: 1,
    doc: 'Remaining charge below which the drone lands.',
  },
  batteryLowVoltageV: {
    type: 'number',
    default: 0,
    unit: 'V',
    min: 0,
    max: 100,
    doc: 'Pack voltage counted as low as well (0: off).',
  },
  batteryCriticalVoltageV: {
    type: 'number',
    default: 0,
    unit: 'V',
    min: 0,
    max: 100,
    doc: 'Pack voltage counted as critical as well (0: off).',
  },
  batteryHoldOffMs: {
    type: 'number',
    default: 2000,
    unit: 'ms',
    min: 0,
    max: 60000,
    doc: 'A battery level must stay low this long before it acts (load sag).',
  },
  batteryStatusStaleMs: {
    type: 'number',
    default: 5000,
    unit: 'ms',
    min: 100,
    max: 600000,
    doc: 'Battery report age that raises a warning.',
  },
  policyFaultHoldTicks: { type: 'integer', default: 5, min: 1, max: 100000, doc: 'Consecutive policy faults => hold.' },
  policyFaultLandTicks: {
    type: 'integer',
    default: 50,
    min: 1,
    max: 100000,
    doc: 'Consecutive policy faults => land.',
  },
  shieldVetoHoldTicks: { type: 'integer', default: 50, min: 1, max: 100000, doc: 'Consecutive shield vetoes => hold.' },
  barrierFallbackHoldTicks: {
    type: 'integer',
    default: 25,
    min: 1,
    max: 100000,
    doc: 'Consecutive infeasible barrier ticks (rule fallback flown) => hold.',
  },
  gpsLossHoldOffMs: {
    type: 'number',
    default: 500,
    unit: 'ms',
    min: 0,
    max: 60000,
    doc: 'GPS fix lost this long in the air => hold.',
  },
  gpsLossLandMs: {
    type: 'number',
    default: 5000,
    unit: 'ms',
    min: 0,
    max: 600000,
    doc: 'GPS fix lost this long in the air => land.',
  },
  stateStaleMs: {
    type: 'number',
    default: 300,
    unit: 'ms',
    min: 10,
    max: 60000,
    doc: 'Position estimate age that counts as stale (=> hold).',
  },
  stateLostLandMs: {
    type: 'number',
    default: 2000,
    unit: 'ms',
    min: 0,
    max: 600000,
    doc: 'Stale or invalid position this long => land.',
  },
  floorBreachHoldOffMs: {
    type: 'number',
    default: 1000,
    unit: 'ms',
    min: 0,
    max: 60000,
    doc: 'Below the cruise floor this long => hold.',
  },
  warnReleaseMs: {
    type: 'number',
    default: 2000,
    unit: 'ms',
    min: 0,
    max: 600000,
    doc: 'A warning stays up this long after its cause clears (hysteresis).',
  },
  monitorWindowMs: {
    type: 'number',
    default: 10000,
    unit: 'ms',
    min: 100,
    max: 600000,
    doc: 'Window over which interventions and near misses are counted.',
  },
  interventionWarnCount: {
    type: 'integer',
    default: 250,
    min: 1,
    max: 1000000,
    doc: 'Barrier+shield interventions within the window that raise a warning.',
  },
  landDescentSpeedMS: {
    type: 'number',
    default: 0.7,
    unit: 'm/s',
    min: 0.1,
    max: 5,
    doc: 'Descent speed of the setpoint while the monitor says land.',
  },
  autoResetOnDisarm: { type: 'boolean', default: true, doc: 'Clear a latched action once landed and disarmed.' },
});

export type SafetyConfig = ConfigOf<typeof SAFETY_CONFIG_SCHEMA>;

/** Validate a raw configuration (unknown keys refused, ranges checked, cross-checks made). Throws at start-up only. */
export function parseSafetyConfig(raw: Record<string, unknown> = {}): SafetyConfig {
  const cfg = parseConfig(SAFETY_CONFIG_SCHEMA, raw);
  const conflict = (message: string, keys: string[]): never => {
    throw new AerieError('CONFIG_CONFLICT', message, { keys });
  };
  if (cfg.batteryCriticalFraction >= cfg.batteryLowFraction && cfg.batteryLowFraction > 0) {
    conflict('batteryCriticalFraction must be below batteryLowFraction', [
      'batteryCriticalFraction',
      'batteryLowFraction',
    ]);
  }
  if (cfg.batteryCriticalVoltageV > 0 && cfg.batteryCriticalVoltageV >= cfg.batteryLowVoltageV) {
    conflict('batteryCriticalVoltageV must be below batteryLowVoltageV', [
      'batteryCriticalVoltageV',
      'batteryLowVoltageV',
    ]);
  }
  if (cfg.policyFaultLandTicks <= cfg.policyFaultHoldTicks) {
    conflict('policyFaultLandTicks must exceed policyFaultHoldTicks', ['policyFaultLandTicks', 'policyFaultHoldTicks']);
  }
  if (cfg.gpsLossLandMs < cfg.gpsLossHoldOffMs) {
    conflict('gpsLossLandMs must not be below gpsLossHoldOffMs', ['gpsLossLandMs', 'gpsLossHoldOffMs']);
  }
  if (cfg.landDescentSpeedMS > cfg.maxDescentSpeedMS) {
    conflict('landDescentSpeedMS must not exceed maxDescentSpeedMS', ['landDescentSpeedMS', 'maxDescentSpeedMS']);
  }
  return cfg;
}

export const DEFAULT_SAFETY_CONFIG: SafetyConfig = parseSafetyConfig({});

/** The `--help` table of the safety configuration. */
export const safetyConfigHelp = (): string => configHelp(SAFETY_CONFIG_SCHEMA);
