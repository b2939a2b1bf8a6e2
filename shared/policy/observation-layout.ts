/**
 * The observation layout of the policy contract: one named slot per feature, with its unit, its fixed transform
 * and scale, and the value it takes when its source is absent. Pure: no I/O. See contract.ts for the rules.
 */
/** How a raw quantity becomes a feature. `scale` is in the field's unit. */
export type FeatureTransform =
  /** value / scale. */
  | 'linear'
  /** tanh(value / scale): about linear below the scale, saturating to +-1 beyond. */
  | 'tanh'
  /** ln(1 + value / scale) for a value >= 0: resolves both metres and kilometres. */
  | 'log1p'
  /** A component of a unit direction (or 0 when there is no direction); no scale. */
  | 'unit'
  /** A component of v * tanh(|v| / scale) / |v| over the field's vector group: length squashed, direction kept. */
  | 'vector-tanh'
  /** A component of v / |v| * exp(-|v| / scale): 1 in contact, fading to 0 far away (so "absent" reads as far). */
  | 'proximity'
  /** A component of inward * (1 - tanh(margin / scale)): 0 deep inside, 1 on the boundary, up to 2 outside. */
  | 'repulsion'
  /** A value already in [0, 1], clamped. */
  | 'fraction';

export interface ObservationField {
  /** Position in the observation vector. */
  readonly index: number;
  /** Stable snake_case name (used in metadata, logs and dashboards). */
  readonly name: string;
  /** Unit of the raw quantity before the transform ('1' for dimensionless). */
  readonly unit: 'm' | 'm/s' | 'rad' | '1';
  readonly transform: FeatureTransform;
  /** Scale of the transform, in `unit` (1 where the transform has none). */
  readonly scale: number;
  /** The feature's value when its source is absent (no goal wind estimate, no zone, no fence, no neighbour). */
  readonly absentValue: number;
  readonly description: string;
}

/** Scales of the transforms, named so the trainer, tests and docs quote the same numbers. */
export const OBSERVATION_SCALES = Object.freeze({
  goalHorizontalM: 25,
  goalVerticalM: 10,
  goalDistanceM: 100,
  horizontalSpeedMS: 10,
  verticalSpeedMS: 5,
  attitudeRad: 0.5,
  altitudeAboveGroundM: 20,
  windMS: 10,
  zoneClearanceM: 100,
  fenceMarginM: 50,
  neighbourProximityM: 20,
  neighbourRelativeSpeedMS: 10,
});

/** Neighbours farther than this (3-D, m) read as absent. Their velocity fades out from NEIGHBOUR_FADE_START_M. */
export const NEIGHBOUR_RANGE_M = 100;
export const NEIGHBOUR_FADE_START_M = 60;
/** How many neighbours the observation holds (nearest first). */
export const NEIGHBOUR_SLOTS = 2;
/** A no-fly zone counts when the drone is within this height (m) of its vertical band. */
export const ZONE_VERTICAL_MARGIN_M = 10;

type FieldDecl = Omit<ObservationField, 'index'>;

const S = OBSERVATION_SCALES;

function neighbourFields(k: number): FieldDecl[] {
  const who = k === 1 ? 'nearest neighbour' : `neighbour number ${k} by distance`;
  return [
    ...(['n', 'e', 'd'] as const).map(
      (axis): FieldDecl => ({
        name: `neighbour${k}_proximity_${axis}`,
        unit: 'm',
        transform: 'proximity',
        scale: S.neighbourProximityM,
        absentValue: 0,
        description: `Relative position of the ${who} (its position minus ours), as direction * exp(-distance/scale).`,
      }),
    ),
    ...(['n', 'e', 'd'] as const).map(
      (axis): FieldDecl => ({
        name: `neighbour${k}_relative_velocity_${axis}`,
        unit: 'm/s',
        transform: 'linear',
        scale: S.neighbourRelativeSpeedMS,
        absentValue: 0,
        description: `Velocity of the ${who} minus ours; faded to 0 between ${NEIGHBOUR_FADE_START_M} and ${NEIGHBOUR_RANGE_M} m.`,
      }),
    ),
  ];
}

const FIELD_DECLS: readonly FieldDecl[] = [
  {
    name: 'goal_n',
    unit: 'm',
    transform: 'vector-tanh',
    scale: S.goalHorizontalM,
    absentValue: 0,
    description: 'Goal north of us; with goal_e the horizontal goal vector, length squashed to tanh(distance/scale).',
  },
  {
    name: 'goal_e',
    unit: 'm',
    transform: 'vector-tanh',
    scale: S.goalHorizontalM,
    absentValue: 0,
    description: 'Goal east of us (see goal_n).',
  },
  {
    name: 'goal_d',
    unit: 'm',
    transform: 'tanh',
    scale: S.goalVerticalM,
    absentValue: 0,
    description: 'Goal below us (positive: the goal is lower, fly down).',
  },
  {
    name: 'goal_distance_h',
    unit: 'm',
    transform: 'log1p',
    scale: S.goalDistanceM,
    absentValue: 0,
    description: 'Horizontal distance to the goal.',
  },
  {
    name: 'velocity_n',
    unit: 'm/s',
    transform: 'linear',
    scale: S.horizontalSpeedMS,
    absentValue: 0,
    description: 'Our velocity north.',
  },
  {
    name: 'velocity_e',
    unit: 'm/s',
    transform: 'linear',
    scale: S.horizontalSpeedMS,
    absentValue: 0,
    description: 'Our velocity east.',
  },
  {
    name: 'velocity_d',
    unit: 'm/s',
    transform: 'linear',
    scale: S.verticalSpeedMS,
    absentValue: 0,
    description: 'Our velocity down.',
  },
  {
    name: 'roll',
    unit: 'rad',
    transform: 'linear',
    scale: S.attitudeRad,
    absentValue: 0,
    description: 'Roll angle, right wing down positive.',
  },
  {
    name: 'pitch',
    unit: 'rad',
    transform: 'linear',
    scale: S.attitudeRad,
    absentValue: 0,
    description: 'Pitch angle, nose up positive.',
  },
  {
    name: 'yaw_sin',
    unit: '1',
    transform: 'unit',
    scale: 1,
    absentValue: 0,
    description: 'sin(yaw), yaw from north towards east.',
  },
  {
    name: 'yaw_cos',
    unit: '1',
    transform: 'unit',
    scale: 1,
    absentValue: 1,
    description: 'cos(yaw).',
  },
  {
    name: 'altitude_above_ground',
    unit: 'm',
    transform: 'tanh',
    scale: S.altitudeAboveGroundM,
    absentValue: 1,
    description: 'Height above the ground under us.',
  },
  {
    name: 'wind_n',
    unit: 'm/s',
    transform: 'linear',
    scale: S.windMS,
    absentValue: 0,
    description: 'Estimated wind towards north (air moving north); 0 without an estimate.',
  },
  {
    name: 'wind_e',
    unit: 'm/s',
    transform: 'linear',
    scale: S.windMS,
    absentValue: 0,
    description: 'Estimated wind towards east; 0 without an estimate.',
  },
  {
    name: 'zone_away_n',
    unit: '1',
    transform: 'unit',
    scale: 1,
    absentValue: 0,
    description: 'North part of the unit direction that increases clearance from the nearest no-fly zone.',
  },
  {
    name: 'zone_away_e',
    unit: '1',
    transform: 'unit',
    scale: 1,
    absentValue: 0,
    description: 'East part of that direction.',
  },
  {
    name: 'zone_clearance',
    unit: 'm',
    transform: 'tanh',
    scale: S.zoneClearanceM,
    absentValue: 1,
    description: `Signed horizontal clearance from the nearest no-fly zone within ${ZONE_VERTICAL_MARGIN_M} m of our height (negative inside).`,
  },
  {
    name: 'fence_push_n',
    unit: 'm',
    transform: 'repulsion',
    scale: S.fenceMarginM,
    absentValue: 0,
    description: 'North part of inward * (1 - tanh(geofence margin / scale)); 0 deep inside or without a geofence.',
  },
  {
    name: 'fence_push_e',
    unit: 'm',
    transform: 'repulsion',
    scale: S.fenceMarginM,
    absentValue: 0,
    description: 'East part of the geofence push (see fence_push_n).',
  },
  ...neighbourFields(1),
  ...neighbourFields(2),
  {
    name: 'battery_remaining',
    unit: '1',
    transform: 'fraction',
    scale: 1,
    absentValue: 0,
    description: 'Remaining battery charge, 0 (empty) to 1 (full).',
  },
];

/** The observation layout: one entry per slot, in slot order. */
export const OBSERVATION_LAYOUT: readonly ObservationField[] = Object.freeze(
  FIELD_DECLS.map((f, index) => Object.freeze({ ...f, index })),
);

/** Slot index by field name. */
export const OBSERVATION_INDEX: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(OBSERVATION_LAYOUT.map((f) => [f.name, f.index])),
);

/** The index of a named slot; throws on a name the layout does not have (a programming error). */
export function observationIndex(name: string): number {
  const index = OBSERVATION_INDEX[name];
  if (index === undefined) throw new RangeError(`no observation field named ${name}`);
  return index;
}

/** The observation with every source absent: what a drone sees with no goal offset, wind, airspace or neighbours. */
export const ABSENT_OBSERVATION: Readonly<Float32Array> = Float32Array.from(OBSERVATION_LAYOUT, (f) => f.absentValue);
