/**
 * A kickstarted start: before on-policy training, the teacher (ppo/teacher.ts) flies the training environment with
 * the policy's exploration noise, and the actor is regressed onto the teacher's action at every state visited (noise
 * included, so the student also learns how the teacher recovers from where noise puts it), the observation
 * statistics are fitted to those states, and both critics start from the discounted returns flown. On-policy
 * training then keeps a decaying pull towards the teacher (train.teacherCoef) while the reward and the cost take
 * over. Deterministic: the noise comes from the run's stream and the environment is the trainer's own.
 */
import { ACTION_SIZE, OBSERVATION_SIZE } from '../../shared/policy/index.js';
import type { DeliveryEnv } from './env/delivery-env.js';
import { tf } from './nn/tf.js';
import type { Agent } from './ppo/agent.js';
import type { StateRng } from './ppo/state-rng.js';
import { DEFAULT_TEACHER, teacherActions, teacherSampleWeights } from './ppo/teacher.js';
import { permutation, weightedMean } from './ppo/update.js';
import type { TrainConfig } from './train-config.js';

export interface TeacherStartStats {
  readonly samples: number;
  readonly episodes: number;
  /** Share of the teacher's episodes that delivered (noise included). */
  readonly teacherSuccessRate: number;
  readonly cloneLoss: number;
  readonly criticLoss: number;
}

export function teacherStart(agent: Agent, env: DeliveryEnv, config: TrainConfig, rng: StateRng): TeacherStartStats {
  const t = config.train;
  const n = env.count;
  const steps = t.teacherStartSteps;
  const size = n * steps;
  const obs = new Float32Array(size * OBSERVATION_SIZE);
  const labels = new Float32Array(size * ACTION_SIZE);
  const rewards = new Float32Array(size);
  const costs = new Float32Array(size);
  const ends = new Uint8Array(size);
  const actions = new Float32Array(n * ACTION_SIZE);
  const std = agent.std;
  let episodes = 0;
  let delivered = 0;
  for (let s = 0; s < steps; s++) {
    const base = s * n;
    const o = obs.subarray(base * OBSERVATION_SIZE, (base + n) * OBSERVATION_SIZE);
    env.observe(o);
    const label = labels.subarray(base * ACTION_SIZE, (base + n) * ACTION_SIZE);
    teacherActions(o, n, env.limits, { ...DEFAULT_TEACHER, lead: t.teacherLead }, label);
    for (let k = 0; k < n * ACTION_SIZE; k++) actions[k] = label[k] + std[k % ACTION_SIZE] * rng.normal();
    env.step(actions);
    rewards.set(env.rewards, base);
    costs.set(env.costs, base);
    for (let i = 0; i < n; i++) ends[base + i] = env.dones[i] | env.truncated[i];
    for (const e of env.takeFinished()) {
      episodes++;
      if (e.success) delivered++;
    }
  }
  agent.normaliser.update(obs, size);
  agent.refreshNormalisation();

  // Discounted reward and cost returns per environment, backwards in time (the data's last step is cut short).
  const gamma = Math.exp(-config.env.controlDtS / t.discountHorizonS);
  const returns = new Float32Array(2 * size);
  for (let i = 0; i < n; i++) {
    let r = 0;
    let c = 0;
    for (let s = steps - 1; s >= 0; s--) {
      const k = s * n + i;
      if (ends[k]) {
        r = 0;
        c = 0;
      }
      r = rewards[k] + gamma * r;
      c = costs[k] + gamma * c;
      returns[2 * k] = r;
      returns[2 * k + 1] = c;
    }
  }

  const batch = Math.min(t.minibatchSize, size);
  const pick = (src: Float32Array, width: number, idx: Uint32Array, from: number): Float32Array => {
    const out = new Float32Array(batch * width);
    for (let r = 0; r < batch; r++)
      out.set(src.subarray(idx[from + r] * width, (idx[from + r] + 1) * width), r * width);
    return out;
  };
  let cloneLoss = Number.NaN;
  let criticLoss = Number.NaN;
  for (let epoch = 0; epoch < t.teacherStartEpochs; epoch++) {
    const idx = permutation(size, rng);
    for (let from = 0; from + batch <= size; from += batch) {
      const parts: tf.Scalar[] = [];
      tf.tidy(() => {
        const rows = pick(obs, OBSERVATION_SIZE, idx, from);
        const x0 = tf.tensor2d(rows, [batch, OBSERVATION_SIZE]);
        const w = tf.tensor1d(teacherSampleWeights(rows, batch, t.teacherNearWeight, t.teacherNearM));
        const y = tf.tensor2d(pick(labels, ACTION_SIZE, idx, from), [batch, ACTION_SIZE]);
        const ret = tf.tensor2d(pick(returns, 2, idx, from), [batch, 2]);
        agent.optimizer.minimize(() => {
          const x = agent.normalise(x0);
          const clone = weightedMean(tf.sum(tf.square(tf.sub(agent.meanAction(x), y)), 1), w);
          const critic = tf.mean(tf.square(tf.sub(agent.critic.apply(x), ret))) as tf.Scalar;
          parts.push(tf.keep(clone), tf.keep(critic));
          return tf.add(clone, tf.mul(critic, t.valueCoef)) as tf.Scalar;
        });
      });
      [cloneLoss, criticLoss] = parts.map((p) => p.dataSync()[0]);
      tf.dispose(parts);
    }
  }
  return {
    samples: size,
    episodes,
    teacherSuccessRate: episodes ? delivered / episodes : Number.NaN,
    cloneLoss,
    criticLoss,
  };
}
