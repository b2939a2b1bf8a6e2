/**
 * The trainer's configuration: a JSON file `{ "env": {...}, "train": {...} }`, each section declared once through
 * shared/config (unknown keys refused at every level), plus its hash, which goes into the exported model's metadata.
 */
import { createHash } from 'node:crypto';
import { type ConfigOf, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';
import { ENV_CONFIG_SCHEMA, type EnvConfig, parseEnvConfig } from './env/env-config.js';

export const TRAIN_CONFIG_SCHEMA = declareConfig({
  seed: { type: 'integer', default: 1, min: 0, max: 2 ** 31 - 1, doc: 'Seed of everything random in the run.' },
  envs: { type: 'integer', default: 512, min: 1, max: 65536, doc: 'Vehicles stepped together.' },
  rolloutSteps: { type: 'integer', default: 64, min: 2, max: 4096, doc: 'Steps per vehicle per iteration.' },
  iterations: { type: 'integer', default: 300, min: 1, max: 1_000_000, doc: 'Most PPO iterations.' },
  maxWallS: { type: 'number', default: 0, unit: 's', min: 0, max: 1e7, doc: 'Stop after this long (0: no limit).' },
  targetSuccess: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    doc: 'Stop once the success rate reaches this for stopAfterIterations iterations in a row (0: never).',
  },
  targetCostRate: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1e6,
    doc: 'With targetSuccess: the cost per tick must also be at or below this to stop.',
  },
  stopAfterIterations: { type: 'integer', default: 3, min: 1, max: 1000, doc: 'Iterations in a row at target.' },
  actorHidden: { type: 'string', default: '64,64', doc: 'Hidden layer widths of the policy, comma-separated.' },
  criticHidden: { type: 'string', default: '64,64', doc: 'Hidden layer widths of the reward/cost critic.' },
  activation: { type: 'enum', values: ['tanh', 'relu'] as const, default: 'tanh', doc: 'Hidden activation.' },
  learningRate: { type: 'number', default: 0.0003, min: 1e-7, max: 1, doc: 'Adam step size (actor and critic).' },
  learningRateEnd: {
    type: 'number',
    default: 0.3,
    min: 0,
    max: 1,
    doc: 'Step size at the last iteration as a fraction of the first (linear decay).',
  },
  discountHorizonS: {
    type: 'number',
    default: 10,
    unit: 's',
    min: 0.1,
    max: 1000,
    doc: 'Discount as a time constant: gamma = exp(-dt / horizon), the same at any control step.',
  },
  gaeLambda: { type: 'number', default: 0.95, min: 0, max: 1, doc: 'GAE lambda per step.' },
  clipRatio: { type: 'number', default: 0.2, min: 0.01, max: 1, doc: 'PPO ratio clip.' },
  epochs: { type: 'integer', default: 4, min: 1, max: 100, doc: 'Passes over each rollout.' },
  minibatchSize: { type: 'integer', default: 4096, min: 8, max: 1_000_000, doc: 'Samples per gradient step.' },
  valueCoef: { type: 'number', default: 0.5, min: 0, max: 100, doc: 'Weight of the critics loss.' },
  entropyCoef: { type: 'number', default: 0, min: 0, max: 1, doc: 'Weight of the entropy bonus.' },
  maxGradNorm: { type: 'number', default: 0.5, min: 0.001, max: 1e6, doc: 'Global gradient norm clip.' },
  initialStd: { type: 'number', default: 0.4, min: 0.01, max: 2, doc: 'Initial action noise std.' },
  minStd: { type: 'number', default: 0.05, min: 0.001, max: 2, doc: 'Least action noise std.' },
  finalMaxStd: {
    type: 'number',
    default: 0,
    min: 0,
    max: 2,
    doc: 'Upper bound of the noise std at the last iteration, lowered linearly from 2 x initialStd (0: no annealing).',
  },
  teacherStartSteps: {
    type: 'integer',
    default: 0,
    min: 0,
    max: 100_000,
    doc: 'Kickstarted start: steps per vehicle the teacher flies (with the policy noise) before training (0: none).',
  },
  teacherStartEpochs: {
    type: 'integer',
    default: 10,
    min: 0,
    max: 10_000,
    doc: "Passes of regression onto the teacher's actions (and of the critics onto the returns flown) over that data.",
  },
  teacherLead: {
    type: 'enum',
    values: ['speed', 'vector'] as const,
    default: 'speed',
    doc: "The teacher's ramp: lead the speed along the wanted direction, or the whole velocity (turns ramped too).",
  },
  teacherCoef: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1e4,
    doc: "Kickstarting: weight of the squared distance from the mean action to the smooth go-to-goal teacher's (0: off).",
  },
  teacherDecay: {
    type: 'number',
    default: 0.5,
    min: 0.01,
    max: 100,
    doc:
      'Share of the planned iterations over which the teacher weight falls linearly to 0 (above 1 it ends at ' +
      '1 - 1/teacherDecay of teacherCoef: the student stays anchored to the teacher).',
  },
  teacherNearWeight: {
    type: 'number',
    default: 1,
    min: 1,
    max: 1000,
    doc: "Weight of the teacher's loss on states near a no-fly zone, the geofence or another drone (1: as elsewhere).",
  },
  teacherNearM: {
    type: 'number',
    default: 15,
    unit: 'm',
    min: 0,
    max: 100,
    doc: 'How near a zone edge, the geofence margin or another drone a state counts as near (teacherNearWeight).',
  },
  stdAnnealShare: {
    type: 'number',
    default: 1,
    min: 0.01,
    max: 1,
    doc: 'Share of the planned iterations over which the noise bound falls to finalMaxStd (then stays there).',
  },
  smoothnessCoef: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1e4,
    doc: 'Weight of the smoothness loss on the mean setpoint (what is exported) between consecutive steps.',
  },
  smoothnessWarmup: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    doc: 'Share of the planned iterations over which smoothnessCoef rises linearly from 0 (learn the task first).',
  },
  smoothAccelMS2: {
    type: 'number',
    default: 1.5,
    unit: 'm/s^2',
    min: 0.05,
    max: 30,
    doc: 'The smoothness loss charges mean-setpoint changes faster than this (below the onboard 2.5 m/s^2 rate limit).',
  },
  validateEvery: {
    type: 'integer',
    default: 0,
    min: 0,
    max: 1_000_000,
    doc: 'Iterations between validations of the mean policy on a fixed set of deliveries (0: never).',
  },
  validateEpisodes: { type: 'integer', default: 128, min: 1, max: 100_000, doc: 'Deliveries per validation.' },
  targetInterventionShare: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    doc: 'With validation: stop only once the validated share of ticks rate-limited or barrier-changed is at most this.',
  },
  keepBest: {
    type: 'boolean',
    default: true,
    doc: 'With validation: export the best validated policy rather than the last one.',
  },
  obsStdFloor: { type: 'number', default: 0.1, min: 1e-4, max: 10, doc: 'Least std the observation is divided by.' },
  costLimit: {
    type: 'number',
    default: 0.01,
    min: 0,
    max: 100,
    doc: 'Constraint: average cost per tick (share of ticks in breach or intervened, weighted) at or below this.',
  },
  lagrangeInit: { type: 'number', default: 0, min: 0, max: 1e6, doc: 'Initial Lagrange multiplier.' },
  lagrangeLearningRate: {
    type: 'number',
    default: 0.05,
    min: 0,
    max: 100,
    doc: 'Multiplier step per iteration per unit of relative excess cost (cost / limit - 1, capped at 10).',
  },
  lagrangeMax: { type: 'number', default: 20, min: 0, max: 1e6, doc: 'Largest multiplier.' },
  shieldHidden: { type: 'string', default: '64,64', doc: 'Hidden layer widths of the shield (cost critic).' },
  shieldHorizonS: {
    type: 'number',
    default: 1,
    unit: 's',
    min: 0.05,
    max: 100,
    doc: "Shield target: the cost rate discounted over this time constant, so 1 means 'cost all of the next ~1 s'.",
  },
  shieldLearningRate: { type: 'number', default: 0.001, min: 1e-7, max: 1, doc: 'Shield Adam step size.' },
  shieldEpochs: { type: 'integer', default: 1, min: 0, max: 100, doc: 'Shield passes over each rollout.' },
  checkpointEvery: { type: 'integer', default: 10, min: 0, max: 1_000_000, doc: 'Iterations between checkpoints.' },
  finalEvalEpisodes: {
    type: 'integer',
    default: 200,
    min: 0,
    max: 100_000,
    doc: 'Episodes of the exported policy evaluated for the final metrics (0: skip).',
  },
  offlineEpochs: {
    type: 'integer',
    default: 20,
    min: 0,
    max: 10_000,
    doc: 'With --dataset: behaviour-cloning and critic warm-start passes over the recorded experience.',
  },
});

export type TrainSection = ConfigOf<typeof TRAIN_CONFIG_SCHEMA>;

export interface TrainConfig {
  readonly env: EnvConfig;
  readonly train: TrainSection;
}

/** Parse a hidden-layer list like "64,64". */
export function parseHidden(text: string, key: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const sizes = parts.map(Number);
  if (parts.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 4096)) {
    throw new AerieError('CONFIG_INVALID_VALUE', `train.${key}: expected widths like "64,64" (1..4096)`, {
      key,
      raw: text,
    });
  }
  return sizes;
}

/** Validate a whole configuration object (a parsed JSON file, possibly with flag overrides merged in). */
export function parseTrainConfig(raw: unknown): TrainConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AerieError('CONFIG_INVALID_VALUE', 'a training config is a JSON object { "env": {...}, "train": {...} }');
  }
  const obj = raw as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => k !== 'env' && k !== 'train');
  if (unknown.length > 0) {
    throw new AerieError(
      'CONFIG_UNKNOWN_KEY',
      `unknown configuration section(s): ${unknown.join(', ')}; known: env, train`,
      {
        unknown,
      },
    );
  }
  const section = (name: string): Record<string, unknown> => {
    const v = obj[name] ?? {};
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new AerieError('CONFIG_INVALID_VALUE', `${name}: expected an object`);
    }
    return v as Record<string, unknown>;
  };
  const env = parseEnvConfig(section('env'));
  const train = parseConfig(TRAIN_CONFIG_SCHEMA, section('train'));
  parseHidden(train.actorHidden, 'actorHidden');
  parseHidden(train.criticHidden, 'criticHidden');
  parseHidden(train.shieldHidden, 'shieldHidden');
  if (train.minStd > train.initialStd) {
    throw new AerieError('CONFIG_CONFLICT', 'train.minStd must not exceed train.initialStd');
  }
  return Object.freeze({ env, train });
}

/** Canonical JSON: keys sorted at every level, so the hash names the content, not its formatting. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** sha256 of the full (defaults filled) configuration, 'sha256:<hex>'. */
export function configHash(config: TrainConfig): string {
  return `sha256:${createHash('sha256').update(canonical(config)).digest('hex')}`;
}

export function trainConfigHelp(): string {
  return `train section:\n${configHelp(TRAIN_CONFIG_SCHEMA)}\n\nenv section:\n${configHelp(ENV_CONFIG_SCHEMA)}`;
}
