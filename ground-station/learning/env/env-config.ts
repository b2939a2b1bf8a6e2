/**
 * The training environment's configuration, declared once (name, type, default, unit, range, meaning) through
 * shared/config: the `env` section of a training config file. Defaults are the committed default policy's task.
 */
import { type ConfigOf, configHelp, declareConfig, parseConfig } from '../../../shared/config/index.js';
import { AerieError } from '../../../shared/errors.js';

export const ENV_CONFIG_SCHEMA = declareConfig({
  controlDtS: {
    type: 'number',
    default: 0.1,
    unit: 's',
    min: 0.01,
    max: 0.5,
    doc: 'Control step: the action is held this long while the dynamics sub-step at 20 ms (onboard runs 0.02).',
  },
  legs: { type: 'integer', default: 2, min: 1, max: 2, doc: '1: depot to drop point; 2: and back to the depot.' },
  cruiseAltMinM: { type: 'number', default: 25, unit: 'm', min: 5, max: 200, doc: 'Lowest cruise altitude.' },
  cruiseAltMaxM: { type: 'number', default: 45, unit: 'm', min: 5, max: 200, doc: 'Highest cruise altitude.' },
  altitudeFloorM: {
    type: 'number',
    default: 15,
    unit: 'm',
    min: 0,
    max: 150,
    doc: 'Cruise altitude floor above home (a breach below it).',
  },
  deliveryMinM: { type: 'number', default: 60, unit: 'm', min: 5, max: 5000, doc: 'Shortest depot-drop distance.' },
  deliveryMaxM: { type: 'number', default: 250, unit: 'm', min: 5, max: 5000, doc: 'Longest depot-drop distance.' },
  startJitterM: { type: 'number', default: 3, unit: 'm', min: 0, max: 50, doc: 'Random start offset from the depot.' },
  arrivalRadiusM: {
    type: 'number',
    default: 2,
    unit: 'm',
    min: 0.5,
    max: 20,
    doc: "Horizontal arrival radius (the onboard mission's arrivalRadiusM: it hands over to its scripted descent there).",
  },
  arrivalVerticalM: { type: 'number', default: 2, unit: 'm', min: 0.2, max: 20, doc: 'Vertical arrival tolerance.' },
  arrivalSpeedMS: {
    type: 'number',
    default: 2,
    unit: 'm/s',
    min: 0.1,
    max: 10,
    doc: 'Arrival means slower than this (a sixth of cruise; PX4 stops from it within 1 m).',
  },
  minAverageSpeedMS: {
    type: 'number',
    default: 3,
    unit: 'm/s',
    min: 0.5,
    max: 20,
    doc: 'Time limit: the flown legs at this speed, plus the slack.',
  },
  timeLimitSlackS: { type: 'number', default: 30, unit: 's', min: 0, max: 3600, doc: 'Time limit slack.' },
  handoverProbability: {
    type: 'number',
    default: 0.8,
    min: 0,
    max: 1,
    doc: 'Share of legs that start as the onboard mission hands them over: just below cruise, still climbing (else hovering).',
  },
  handoverClimbMS: {
    type: 'number',
    default: 2,
    unit: 'm/s',
    min: 0,
    max: 10,
    doc: "Climb speed at the handover (the mission's climbSpeedMS); it is also the setpoint the rate limit starts from.",
  },
  handoverBelowM: {
    type: 'number',
    default: 0.5,
    unit: 'm',
    min: 0,
    max: 5,
    doc: 'Height below cruise altitude at the handover (the mission hands over at cruise - 0.5 m).',
  },
  windMaxMS: { type: 'number', default: 7, unit: 'm/s', min: 0, max: 25, doc: 'Largest mean wind (uniform speed).' },
  gustStdMaxMS: { type: 'number', default: 1.5, unit: 'm/s', min: 0, max: 10, doc: 'Largest turbulence intensity.' },
  windEstimateProbability: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'Share of episodes with a wind estimate in the observation (else absent, as on a vehicle without one).',
  },
  zoneMaxCount: { type: 'integer', default: 2, min: 0, max: 4, doc: 'Most no-fly zones (cylinders) per episode.' },
  zoneProbability: { type: 'number', default: 0.6, min: 0, max: 1, doc: 'Chance of each zone slot being used.' },
  zoneOnPathProbability: {
    type: 'number',
    default: 0.6,
    min: 0,
    max: 1,
    doc: 'Chance a zone sits across the straight route (a detour is needed).',
  },
  zoneRadiusMinM: { type: 'number', default: 10, unit: 'm', min: 1, max: 500, doc: 'Smallest zone radius.' },
  zoneRadiusMaxM: { type: 'number', default: 30, unit: 'm', min: 1, max: 500, doc: 'Largest zone radius.' },
  fenceWidthMinM: {
    type: 'number',
    default: 40,
    unit: 'm',
    min: 10,
    max: 2000,
    doc: 'Least half-width of the geofence corridor beyond the route and its zones.',
  },
  fenceWidthMaxM: { type: 'number', default: 100, unit: 'm', min: 10, max: 2000, doc: 'Largest such half-width.' },
  fenceCeilingAboveCruiseM: {
    type: 'number',
    default: 30,
    unit: 'm',
    min: 5,
    max: 500,
    doc: 'Geofence ceiling above the cruise altitude.',
  },
  neighbourMaxCount: { type: 'integer', default: 2, min: 0, max: 4, doc: 'Most crossing drones per leg.' },
  neighbourProbability: { type: 'number', default: 0.5, min: 0, max: 1, doc: 'Chance of each neighbour slot.' },
  neighbourSpeedMinMS: { type: 'number', default: 3, unit: 'm/s', min: 0, max: 30, doc: 'Slowest crossing drone.' },
  neighbourSpeedMaxMS: { type: 'number', default: 10, unit: 'm/s', min: 0, max: 30, doc: 'Fastest crossing drone.' },
  neighbourNominalSpeedMS: {
    type: 'number',
    default: 8,
    unit: 'm/s',
    min: 1,
    max: 30,
    doc: 'Ground speed assumed for us when timing a neighbour to cross our path.',
  },
  separationM: { type: 'number', default: 5, unit: 'm', min: 0.5, max: 100, doc: 'Minimum separation (breach).' },
  batteryMin: { type: 'number', default: 0.5, min: 0.05, max: 1, doc: 'Lowest start charge (uniform to 1).' },
  maxHorizontalSpeedMS: {
    type: 'number',
    default: 10,
    unit: 'm/s',
    min: 1,
    max: 30,
    doc: 'Action scale, horizontal (the onboard control.maxHorizontalSpeedMS an action of 1 maps to).',
  },
  maxUpMS: { type: 'number', default: 3, unit: 'm/s', min: 0.2, max: 10, doc: 'Action scale, climb.' },
  maxDownMS: { type: 'number', default: 1.5, unit: 'm/s', min: 0.2, max: 10, doc: 'Action scale, descent.' },
  progressRewardPerM: { type: 'number', default: 0.1, min: 0, max: 10, doc: 'Reward per metre closer to the goal.' },
  verticalDistanceWeight: {
    type: 'number',
    default: 2,
    min: 0,
    max: 10,
    doc: 'Weight of the vertical error in the distance progress is paid on.',
  },
  nearGoalShapingM: {
    type: 'number',
    default: 10,
    unit: 'm',
    min: 0,
    max: 1000,
    doc: 'Extra potential of the last metres: progress pays on d + this * (1 - exp(-d / nearGoalScaleM)).',
  },
  nearGoalScaleM: { type: 'number', default: 5, unit: 'm', min: 0.1, max: 1000, doc: 'Scale of that bowl.' },
  arrivalReward: { type: 'number', default: 5, min: 0, max: 1000, doc: 'Reward on reaching a leg goal.' },
  timePenaltyPerS: { type: 'number', default: 0.02, min: 0, max: 10, doc: 'Penalty per second of flight.' },
  energyPenaltyPerS: {
    type: 'number',
    default: 0.01,
    min: 0,
    max: 10,
    doc: 'Penalty per second at hover power (scales with electrical power).',
  },
  jerkPenalty: {
    type: 'number',
    default: 0.00002,
    min: 0,
    max: 1,
    doc: 'Penalty per (m/s)^2/s of setpoint change: sum |dv|^2 / dt, so smooth flight costs the same at any step.',
  },
  rateLimit: {
    type: 'boolean',
    default: false,
    doc:
      "Fly the policy's setpoint through the onboard filter's box layer (speed and rate limits), as onboard. Off for " +
      'training (it turns exploration noise into a random walk); validation and evaluation always fly it.',
  },
  rateLimitPenalty: {
    type: 'number',
    default: 0,
    min: 0,
    max: 100,
    doc: 'Penalty per m/s the box layer takes off the sampled setpoint (the mean is smoothed by train.smoothnessCoef).',
  },
  crashPenalty: { type: 'number', default: 5, min: 0, max: 1000, doc: 'Penalty on a crash or a lost vehicle.' },
  breachCost: { type: 'number', default: 1, min: 0, max: 100, doc: 'Cost of a tick with any constraint breached.' },
  interventionCost: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 100,
    doc: 'Cost of a tick where the safety filter barrier layer would change the setpoint.',
  },
  probeExtraMarginM: {
    type: 'number',
    default: 0,
    unit: 'm',
    min: 0,
    max: 50,
    doc:
      "Training only: the cost's barrier probe keeps this much more than the filter's zone, fence and separation " +
      'margins, so a policy trained to avoid the cost stays clear of where the onboard filter would act. ' +
      "Evaluation probes with the filter's own margins.",
  },
  barrierProbe: {
    type: 'boolean',
    default: true,
    doc: "Run the onboard safety filter's barrier layer on every action to count its would-be interventions.",
  },
  lostDistanceM: {
    type: 'number',
    default: 150,
    unit: 'm',
    min: 10,
    max: 10000,
    doc: 'Outside the geofence by this much ends the episode as lost.',
  },
});

export type EnvConfig = ConfigOf<typeof ENV_CONFIG_SCHEMA>;

/** Validate the env section (unknown keys refused) and the pairs that must be ordered. */
export function parseEnvConfig(raw: Record<string, unknown> = {}): EnvConfig {
  const cfg = parseConfig(ENV_CONFIG_SCHEMA, raw);
  const pairs: [keyof EnvConfig, keyof EnvConfig][] = [
    ['cruiseAltMinM', 'cruiseAltMaxM'],
    ['deliveryMinM', 'deliveryMaxM'],
    ['zoneRadiusMinM', 'zoneRadiusMaxM'],
    ['fenceWidthMinM', 'fenceWidthMaxM'],
    ['neighbourSpeedMinMS', 'neighbourSpeedMaxMS'],
    ['altitudeFloorM', 'cruiseAltMinM'],
  ];
  for (const [lo, hi] of pairs) {
    if ((cfg[lo] as number) > (cfg[hi] as number)) {
      throw new AerieError('CONFIG_CONFLICT', `env.${lo} (${cfg[lo]}) must not exceed env.${hi} (${cfg[hi]})`, {
        [lo]: cfg[lo],
        [hi]: cfg[hi],
      });
    }
  }
  return cfg;
}

export const DEFAULT_ENV_CONFIG: EnvConfig = parseEnvConfig({});

export const envConfigHelp = (): string => configHelp(ENV_CONFIG_SCHEMA);
