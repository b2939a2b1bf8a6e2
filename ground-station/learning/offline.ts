/**
 * Start from recorded experience (shared/experience): before any on-policy iteration, fit the observation
 * statistics to the recorded observations, clone the actions the vehicles actually flew (the safety filter's output,
 * so the start is the safe behaviour), warm-start both critics on the recorded discounted reward and cost returns,
 * and the shield on the recorded discounted cost rate. PPO-Lagrangian then improves on it in the environment.
 */
import { AerieError } from '../../shared/errors.js';
import type { ExperienceRecord } from '../../shared/experience/index.js';
import { ACTION_SIZE, OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { tf } from './nn/tf.js';
import type { Agent } from './ppo/agent.js';
import { discountedCostRate } from './ppo/gae.js';
import type { StateRng } from './ppo/state-rng.js';
import { permutation } from './ppo/update.js';
import type { TrainConfig } from './train-config.js';

export interface OfflineStats {
  readonly records: number;
  readonly episodes: number;
  readonly cloneLoss: number;
  readonly criticLoss: number;
  readonly shieldLoss: number;
}

export interface ExperienceColumns {
  readonly size: number;
  readonly obs: Float32Array;
  readonly actions: Float32Array;
  readonly filteredActions: Float32Array;
  readonly rewards: Float32Array;
  readonly costs: Float32Array;
  /** 1 where an episode ends (done, truncated, or the next record belongs to another episode). */
  readonly ends: Uint8Array;
  readonly episodes: number;
}

/** Records (in file order) as columns with episode ends marked. */
export function experienceColumns(records: readonly ExperienceRecord[]): ExperienceColumns {
  const n = records.length;
  const cols = {
    size: n,
    obs: new Float32Array(n * OBSERVATION_SIZE),
    actions: new Float32Array(n * ACTION_SIZE),
    filteredActions: new Float32Array(n * ACTION_SIZE),
    rewards: new Float32Array(n),
    costs: new Float32Array(n),
    ends: new Uint8Array(n),
    episodes: 0,
  };
  records.forEach((r, k) => {
    cols.obs.set(r.observation, k * OBSERVATION_SIZE);
    cols.actions.set(
      r.action.map((x) => Math.max(-1, Math.min(1, x))),
      k * ACTION_SIZE,
    );
    cols.filteredActions.set(
      r.filteredAction.map((x) => Math.max(-1, Math.min(1, x))),
      k * ACTION_SIZE,
    );
    cols.rewards[k] = r.reward;
    cols.costs[k] = r.cost;
    const next = records[k + 1];
    const end = r.done || r.truncated || next === undefined || next.episode !== r.episode || next.step !== r.step + 1;
    cols.ends[k] = end ? 1 : 0;
    if (end) cols.episodes++;
  });
  return cols;
}

/** Discounted return within each episode, 0 beyond its end. */
function discountedReturns(x: Float32Array, ends: Uint8Array, gamma: number): Float32Array {
  const out = new Float32Array(x.length);
  let next = 0;
  for (let k = x.length - 1; k >= 0; k--) {
    if (ends[k]) next = 0;
    next = x[k] + gamma * next;
    out[k] = next;
  }
  return out;
}

export function offlinePretrain(
  agent: Agent,
  records: readonly ExperienceRecord[],
  config: TrainConfig,
  rng: StateRng,
): OfflineStats {
  const d = experienceColumns(records);
  if (d.size === 0) throw new AerieError('EXPERIENCE_INVALID', 'the dataset holds no records');
  const dt = config.env.controlDtS;
  const gamma = Math.exp(-dt / config.train.discountHorizonS);
  const gammaS = Math.exp(-dt / config.train.shieldHorizonS);
  agent.normaliser.update(d.obs, d.size);
  agent.refreshNormalisation();
  const rewardRet = discountedReturns(d.rewards, d.ends, gamma);
  const costReturns = discountedReturns(d.costs, d.ends, gamma);
  const shieldTargets = new Float32Array(d.size);
  discountedCostRate(d.size, 1, d.costs, d.ends, gammaS, 0, shieldTargets, new Uint8Array(d.size));
  const targets = new Float32Array(2 * d.size);
  for (let k = 0; k < d.size; k++) {
    targets[2 * k] = rewardRet[k];
    targets[2 * k + 1] = costReturns[k];
  }
  const batch = Math.min(config.train.minibatchSize, d.size);
  const pick = (src: Float32Array, width: number, idx: Uint32Array, from: number) => {
    const out = new Float32Array(batch * width);
    for (let r = 0; r < batch; r++)
      out.set(src.subarray(idx[from + r] * width, (idx[from + r] + 1) * width), r * width);
    return out;
  };
  let cloneLoss = Number.NaN;
  let criticLoss = Number.NaN;
  let shieldLoss = Number.NaN;
  for (let epoch = 0; epoch < config.train.offlineEpochs; epoch++) {
    const idx = permutation(d.size, rng);
    for (let from = 0; from + batch <= d.size; from += batch) {
      const obs = tf.tensor2d(pick(d.obs, OBSERVATION_SIZE, idx, from), [batch, OBSERVATION_SIZE]);
      const flown = tf.tensor2d(pick(d.filteredActions, ACTION_SIZE, idx, from), [batch, ACTION_SIZE]);
      const proposed = tf.tensor2d(pick(d.actions, ACTION_SIZE, idx, from), [batch, ACTION_SIZE]);
      const ret = tf.tensor2d(pick(targets, 2, idx, from), [batch, 2]);
      const y = tf.tensor2d(pick(shieldTargets, 1, idx, from), [batch, 1]);
      const parts: tf.Scalar[] = [];
      agent.optimizer.minimize(() => {
        const x = agent.normalise(obs);
        const clone = tf.mean(tf.square(tf.sub(agent.meanAction(x), flown))) as tf.Scalar;
        const critic = tf.mean(tf.square(tf.sub(agent.critic.apply(x), ret))) as tf.Scalar;
        parts.push(tf.keep(clone), tf.keep(critic));
        return tf.add(clone, tf.mul(critic, config.train.valueCoef)) as tf.Scalar;
      });
      [cloneLoss, criticLoss] = parts.map((p) => p.dataSync()[0]);
      shieldLoss = agent.shieldOptimizer.minimize(
        () => tf.mean(tf.square(tf.sub(agent.shieldApply(obs, proposed, batch), y))) as tf.Scalar,
      ).loss;
      tf.dispose([obs, flown, proposed, ret, y, ...parts]);
    }
  }
  return { records: d.size, episodes: d.episodes, cloneLoss, criticLoss, shieldLoss };
}
