/**
 * Training benchmark figures for `npm run bench` (the harness calls trainBenchmark.run()):
 *   train.env_steps_per_s   vectorised environment steps per second (1024 vehicles, observation + barrier probe)
 *   train.updates_per_s     PPO gradient steps per second (the default config's minibatch and networks)
 *   train.wall_s_to_95pct   wall seconds for the default config to reach 95 % training success (goal <= 600 on 2
 *                           cores); a full training run, so it takes minutes; skipped with { full: false }
 */
import { readFile } from 'node:fs/promises';
import { OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { createRng } from '../../shared/random/index.js';
import { DeliveryEnv } from './env/delivery-env.js';
import { parseTrainConfig } from './train-config.js';
import { Trainer } from './trainer.js';

export interface TrainFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note: string;
}

/** The committed default policy's training config (onboard/policies/default/config.json). */
export const DEFAULT_TRAIN_CONFIG_URL = new URL('../../../onboard/policies/default/config.json', import.meta.url);

async function defaultConfigRaw(): Promise<Record<string, unknown>> {
  // From source (ground-station/learning) and from dist/ the committed file is found relative to the package root.
  for (const url of [
    DEFAULT_TRAIN_CONFIG_URL,
    new URL('../../onboard/policies/default/config.json', import.meta.url),
  ]) {
    try {
      return JSON.parse(await readFile(url, 'utf8'));
    } catch {
      // try the next
    }
  }
  return {};
}

export function measureEnvStepsPerS(vehicles = 1024, steps = 200): number {
  const config = parseTrainConfig({});
  const env = new DeliveryEnv(vehicles, config.env, 1);
  const rng = createRng(2);
  const obs = new Float32Array(vehicles * OBSERVATION_SIZE);
  const actions = Float32Array.from({ length: vehicles * 3 }, () => rng.next() * 2 - 1);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) {
      env.observe(obs);
      env.step(actions);
    }
    best = Math.min(best, performance.now() - t0);
  }
  return (vehicles * steps) / (best / 1000);
}

export async function trainBenchmarkFigures(options: { full?: boolean } = {}): Promise<TrainFigure[]> {
  const figures: TrainFigure[] = [
    {
      name: 'train.env_steps_per_s',
      value: measureEnvStepsPerS(),
      unit: 'steps/s',
      note: '1024 vehicles: dynamics (20 ms sub-steps of a 0.1 s step), observation, cost and barrier probe',
    },
  ];
  const raw = await defaultConfigRaw();
  const config = parseTrainConfig({
    ...raw,
    train: { ...((raw.train as object) ?? {}), iterations: 3, checkpointEvery: 0 },
  });
  const probe = await Trainer.create({ config });
  try {
    probe.iterate();
    const rates = [probe.iterate(), probe.iterate()].map((r) => r.gradientStepsPerS);
    figures.push({
      name: 'train.updates_per_s',
      value: Math.max(...rates),
      unit: 'updates/s',
      note: `PPO gradient steps of ${config.train.minibatchSize} samples, actor ${config.train.actorHidden}, critic ${config.train.criticHidden}`,
    });
  } finally {
    probe.dispose();
  }
  if (options.full === false) return figures;
  const full = parseTrainConfig({
    ...raw,
    train: { ...((raw.train as object) ?? {}), targetSuccess: 0.95, checkpointEvery: 0, maxWallS: 1200 },
  });
  const trainer = await Trainer.create({ config: full });
  try {
    const r = await trainer.run();
    figures.push({
      name: 'train.wall_s_to_95pct',
      value: r.wallSToTarget ?? Number.POSITIVE_INFINITY,
      unit: 's',
      note: `default config to 95 % success (goal <= 600 on 2 cores); ${r.iterations} iterations, ${r.envSteps} steps`,
    });
  } finally {
    trainer.dispose();
  }
  return figures;
}

/** In the shape of test/bench's Benchmark, for the harness. */
export const trainBenchmark = {
  name: 'train',
  figures: ['train.env_steps_per_s', 'train.updates_per_s', 'train.wall_s_to_95pct'],
  run: (): Promise<TrainFigure[]> => trainBenchmarkFigures(),
};
