/** Helpers for the learning folder's tests: tiny configurations and a scripted go-to-goal driver. */
import { goToGoalWeights, OBSERVATION_SIZE } from '../../shared/policy/index.js';
import type { DeliveryEnv } from './env/delivery-env.js';
import { type EnvConfig, parseEnvConfig } from './env/env-config.js';
import { parseTrainConfig, type TrainConfig } from './train-config.js';

/** Short deliveries, so episodes end within a few hundred ticks. */
export function shortEnv(overrides: Partial<Record<keyof EnvConfig, unknown>> = {}): EnvConfig {
  return parseEnvConfig({ deliveryMinM: 20, deliveryMaxM: 40, ...overrides });
}

export function tinyConfig(train: Record<string, unknown> = {}, env: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    env: { deliveryMinM: 20, deliveryMaxM: 40, ...env },
    train: {
      envs: 8,
      rolloutSteps: 16,
      iterations: 2,
      minibatchSize: 64,
      epochs: 2,
      actorHidden: '16',
      criticHidden: '16',
      shieldHidden: '8',
      checkpointEvery: 0,
      finalEvalEpisodes: 0,
      ...train,
    },
  });
}

/** The go-to-goal controller's actions for every environment's current observation. */
export function goToGoalActions(env: DeliveryEnv, obs: Float32Array, actions: Float32Array): void {
  const w = goToGoalWeights();
  env.observe(obs);
  for (let i = 0; i < env.count; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < OBSERVATION_SIZE; k++) s += obs[i * OBSERVATION_SIZE + k] * w[k * 3 + j];
      actions[i * 3 + j] = Math.max(-1, Math.min(1, s));
    }
  }
}
