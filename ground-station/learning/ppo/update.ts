/**
 * The PPO-Lagrangian update (Ray, Achiam and Amodei 2019): clipped PPO on the advantage (A_r - lambda A_c) /
 * (1 + lambda), both critics regressed on their GAE returns in the same step, and the multiplier lambda raised while
 * the cost per tick exceeds its limit and lowered (to 0) while under it. The shield regresses on the discounted cost
 * rate of the same rollout.
 */
import { ACTION_SIZE, OBSERVATION_SIZE, type VelocityLimits } from '../../../shared/policy/index.js';
import type { Rng } from '../../../shared/random/index.js';
import { tf } from '../nn/tf.js';
import type { TrainSection } from '../train-config.js';
import { type Agent, LOG_2PI } from './agent.js';
import { PREV_NONE, PREV_OBSERVATION, type RolloutBuffer } from './buffer.js';
import { computeGae, discountedCostRate, meanStd } from './gae.js';
import { teacherSampleWeights } from './teacher.js';

export interface UpdateStats {
  readonly policyLoss: number;
  /** The smoothness loss of the last minibatch (0 when off). */
  readonly smoothLoss: number;
  readonly valueLoss: number;
  readonly approxKl: number;
  readonly clipFraction: number;
  readonly gradNorm: number;
  readonly gradientSteps: number;
}

/** A random permutation of 0..n-1 (Fisher-Yates on the run's stream). */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

function gather(src: Float32Array, width: number, idx: Uint32Array, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * width);
  for (let r = from; r < to; r++) out.set(src.subarray(idx[r] * width, idx[r] * width + width), (r - from) * width);
  return out;
}

function gather8(src: Uint8Array, idx: Uint32Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  for (let r = from; r < to; r++) out[r - from] = src[idx[r]];
  return out;
}

/** The new multiplier after an iteration whose cost per tick was `costRate`. */
export function updateLagrange(lambda: number, costRate: number, cfg: TrainSection): number {
  const limit = Math.max(cfg.costLimit, 1e-6);
  const excess = Math.min(costRate / limit - 1, 10);
  return Math.min(cfg.lagrangeMax, Math.max(0, lambda + cfg.lagrangeLearningRate * excess));
}

/** How the mean action maps to a setpoint and how fast that setpoint may change (the smoothness loss). */
export interface SmoothnessSpec {
  /** Weight of the loss this update (the trainer ramps train.smoothnessCoef up over its warm-up). */
  readonly coef: number;
  /** Weight of the teacher's distillation loss this update (0: off). */
  readonly teacherCoef: number;
  readonly limits: VelocityLimits;
  /** Time between consecutive samples, s. */
  readonly dtS: number;
}

/**
 * The setpoint (NED m/s) the contract maps a mean action to, as a differentiable tensor: north/east scaled by the
 * horizontal limit and kept within it by norm, down by the descent or the climb limit (shared/policy's
 * actionToVelocityNedMS, without its clamp: a tanh mean is inside [-1, 1]).
 */
export function setpointOf(mu: tf.Tensor2D, limits: VelocityLimits): { h: tf.Tensor2D; d: tf.Tensor1D } {
  const [ne, down] = tf.split(mu, [2, 1], 1) as [tf.Tensor2D, tf.Tensor2D];
  const h = tf.mul(ne, limits.maxHorizontalMS) as tf.Tensor2D;
  const norm = tf.sqrt(tf.add(tf.sum(tf.square(h), 1, true), 1e-12));
  const k = tf.minimum(1, tf.div(limits.maxHorizontalMS, norm));
  const a = tf.reshape(down, [-1]) as tf.Tensor1D;
  const d = tf.where(tf.greaterEqual(a, 0), tf.mul(a, limits.maxDownMS), tf.mul(a, limits.maxUpMS)) as tf.Tensor1D;
  return { h: tf.mul(h, k) as tf.Tensor2D, d };
}

/**
 * The smoothness loss (in the spirit of CAPS, Mysore et al. 2021): how far the mean setpoint's change from the
 * previous step exceeds smoothAccelMS2 x dt, horizontally (norm) and vertically, in units of that allowance, averaged
 * over the samples that have a previous step. The exported policy is the mean, and onboard the box layer counts an
 * intervention at every tick it has to rate-limit it, so this shapes exactly what flies. Hinge, not square: a jump at
 * a handover would otherwise swamp the policy gradient.
 */
export function smoothnessLoss(
  mu: tf.Tensor2D,
  prevMu: tf.Tensor2D,
  prevKind: tf.Tensor1D,
  prevSetpoint: tf.Tensor2D,
  spec: SmoothnessSpec,
  accelMS2: number,
): tf.Scalar {
  const now = setpointOf(mu, spec.limits);
  const before = setpointOf(prevMu, spec.limits);
  const [fixedH, fixedD] = tf.split(prevSetpoint, [2, 1], 1) as [tf.Tensor2D, tf.Tensor2D];
  const useObs = tf.equal(prevKind, PREV_OBSERVATION);
  const prevH = tf.where(tf.tile(tf.reshape(useObs, [-1, 1]), [1, 2]), before.h, fixedH);
  const prevD = tf.where(useObs, before.d, tf.reshape(fixedD, [-1]));
  const allowance = accelMS2 * spec.dtS;
  const dh = tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(now.h, prevH)), 1), 1e-12));
  const dd = tf.abs(tf.sub(now.d, prevD));
  const excess = tf.add(tf.relu(tf.sub(dh, allowance)), tf.relu(tf.sub(dd, allowance)));
  const valid = tf.cast(tf.notEqual(prevKind, PREV_NONE), 'float32');
  return tf.div(tf.sum(tf.mul(excess, valid)), tf.mul(tf.maximum(tf.sum(valid), 1), allowance)) as tf.Scalar;
}

/** sum(w x) / sum(w) over a batch. */
export const weightedMean = (x: tf.Tensor, w: tf.Tensor1D): tf.Scalar => tf.div(tf.sum(tf.mul(x, w)), tf.sum(w));

export function ppoUpdate(
  agent: Agent,
  buf: RolloutBuffer,
  lambda: number,
  gamma: number,
  rng: Rng,
  smoothness: SmoothnessSpec,
): UpdateStats {
  const cfg = agent.cfg;
  const smooth = smoothness.coef > 0;
  const common = {
    steps: buf.steps,
    envs: buf.envs,
    dones: buf.dones,
    truncated: buf.truncated,
    gamma,
    lambda: cfg.gaeLambda,
  };
  computeGae(
    {
      ...common,
      rewards: buf.rewards,
      values: buf.rewardValues,
      truncatedValues: buf.truncRewardValues,
      lastValues: buf.lastRewardValues,
    },
    buf.rewardAdv,
    buf.rewardRet,
  );
  computeGae(
    {
      ...common,
      rewards: buf.costs,
      values: buf.costValues,
      truncatedValues: buf.truncCostValues,
      lastValues: buf.lastCostValues,
    },
    buf.costAdv,
    buf.costRet,
  );
  const r = meanStd(buf.rewardAdv);
  const c = meanStd(buf.costAdv);
  const adv = new Float32Array(buf.size);
  for (let k = 0; k < buf.size; k++) {
    const ra = (buf.rewardAdv[k] - r.mean) / (r.std + 1e-8);
    const ca = (buf.costAdv[k] - c.mean) / (c.std + 1e-8);
    adv[k] = (ra - lambda * ca) / (1 + lambda);
  }
  const returns = new Float32Array(2 * buf.size);
  for (let k = 0; k < buf.size; k++) {
    returns[2 * k] = buf.rewardRet[k];
    returns[2 * k + 1] = buf.costRet[k];
  }

  const batch = Math.min(cfg.minibatchSize, buf.size);
  let policyLoss = 0;
  let smoothLoss = 0;
  let valueLoss = 0;
  let approxKl = 0;
  let clipFraction = 0;
  let gradNorm = 0;
  let steps = 0;
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const idx = permutation(buf.size, rng);
    for (let from = 0; from + batch <= buf.size; from += batch) {
      const to = from + batch;
      const obs = gather(buf.obs, OBSERVATION_SIZE, idx, from, to);
      const act = gather(buf.actions, ACTION_SIZE, idx, from, to);
      const oldLogp = gather(buf.logProbs, 1, idx, from, to);
      const a = gather(adv, 1, idx, from, to);
      const ret = gather(returns, 2, idx, from, to);
      const kinds = smooth ? Float32Array.from(gather8(buf.prevKind, idx, from, to)) : null;
      const prevObs = smooth ? gather(buf.prevObs, OBSERVATION_SIZE, idx, from, to) : null;
      const prevSp = smooth ? gather(buf.prevSetpoint, 3, idx, from, to) : null;
      const teach = smoothness.teacherCoef > 0 ? gather(buf.teacherActions, ACTION_SIZE, idx, from, to) : null;
      const teachW = teach ? teacherSampleWeights(obs, batch, cfg.teacherNearWeight, cfg.teacherNearM) : null;
      const parts: tf.Scalar[] = [];
      const last = from + 2 * batch > buf.size && epoch === cfg.epochs - 1;
      const res = tf.tidy(() => {
        const obsT = tf.tensor2d(obs, [batch, OBSERVATION_SIZE]);
        const actT = tf.tensor2d(act, [batch, ACTION_SIZE]);
        const oldT = tf.tensor1d(oldLogp);
        const advT = tf.tensor1d(a);
        const retT = tf.tensor2d(ret, [batch, 2]);
        const kindT = kinds ? tf.tensor1d(kinds) : null;
        const prevObsT = prevObs ? tf.tensor2d(prevObs, [batch, OBSERVATION_SIZE]) : null;
        const prevSpT = prevSp ? tf.tensor2d(prevSp, [batch, 3]) : null;
        const teachT = teach ? tf.tensor2d(teach, [batch, ACTION_SIZE]) : null;
        const teachWT = teachW ? tf.tensor1d(teachW) : null;
        return agent.optimizer.minimize(() => {
          const x = agent.normalise(obsT);
          const mu = agent.meanAction(x);
          const z = tf.div(tf.sub(actT, mu), tf.exp(agent.logStd));
          const logp = tf.sub(
            tf.mul(tf.sum(tf.square(z), 1), -0.5),
            tf.add(tf.sum(agent.logStd), (ACTION_SIZE * LOG_2PI) / 2),
          );
          const logRatio = tf.sub(logp, oldT);
          const ratio = tf.exp(logRatio);
          const clipped = tf.clipByValue(ratio, 1 - cfg.clipRatio, 1 + cfg.clipRatio);
          const pg = tf.neg(tf.mean(tf.minimum(tf.mul(ratio, advT), tf.mul(clipped, advT))));
          const v = agent.critic.apply(x);
          const vl = tf.mean(tf.square(tf.sub(v, retT)));
          const entropy = tf.sum(agent.logStd);
          let sl: tf.Scalar = tf.scalar(0);
          if (kindT && prevObsT && prevSpT) {
            const prevMu = agent.meanAction(agent.normalise(prevObsT));
            sl = smoothnessLoss(mu, prevMu, kindT, prevSpT, smoothness, cfg.smoothAccelMS2);
          }
          if (last) {
            // approx KL (k3 estimator) and the clipped share, read once per update for the progress line.
            parts.push(tf.keep(tf.mean(tf.sub(tf.sub(ratio, 1), logRatio)) as tf.Scalar));
            parts.push(
              tf.keep(tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), cfg.clipRatio), 'float32')) as tf.Scalar),
            );
            parts.push(tf.keep(pg as tf.Scalar));
            parts.push(tf.keep(vl as tf.Scalar));
            parts.push(tf.keep(sl));
          }
          let total = tf.add(tf.add(pg, tf.mul(vl, cfg.valueCoef)), tf.mul(sl, smoothness.coef));
          if (teachT && teachWT) {
            const kl = weightedMean(tf.sum(tf.square(tf.sub(mu, teachT)), 1), teachWT);
            total = tf.add(total, tf.mul(kl, smoothness.teacherCoef));
          }
          return tf.sub(total, tf.mul(entropy, cfg.entropyCoef)) as tf.Scalar;
        });
      });
      gradNorm = res.gradNorm;
      steps++;
      if (parts.length === 5) {
        [approxKl, clipFraction, policyLoss, valueLoss, smoothLoss] = parts.map((p) => p.dataSync()[0]);
        tf.dispose(parts);
      }
      agent.clampStd();
    }
  }
  return { policyLoss, smoothLoss, valueLoss, approxKl, clipFraction, gradNorm, gradientSteps: steps };
}

/** Regress the shield on the rollout's discounted cost rate; returns its mean squared error. */
export function shieldUpdate(agent: Agent, buf: RolloutBuffer, dtS: number, rng: Rng): number {
  const cfg = agent.cfg;
  if (cfg.shieldEpochs === 0) return Number.NaN;
  const gammaS = Math.exp(-dtS / cfg.shieldHorizonS);
  const tail = Math.min(buf.steps - 1, Math.ceil(3 / (1 - gammaS)));
  const targets = new Float32Array(buf.size);
  const mask = new Uint8Array(buf.size);
  const ends = new Uint8Array(buf.size);
  for (let k = 0; k < buf.size; k++) ends[k] = buf.dones[k] | buf.truncated[k];
  discountedCostRate(buf.steps, buf.envs, buf.costs, ends, gammaS, tail, targets, mask);
  const valid: number[] = [];
  for (let k = 0; k < buf.size; k++) if (mask[k]) valid.push(k);
  if (valid.length === 0) return Number.NaN;
  const clippedActions = Float32Array.from(buf.actions, (x) => Math.max(-1, Math.min(1, x)));
  const batch = Math.min(cfg.minibatchSize, valid.length);
  let loss = 0;
  for (let epoch = 0; epoch < cfg.shieldEpochs; epoch++) {
    const perm = permutation(valid.length, rng);
    const idx = Uint32Array.from(perm, (p) => valid[p]);
    for (let from = 0; from + batch <= idx.length; from += batch) {
      const obs = gather(buf.obs, OBSERVATION_SIZE, idx, from, from + batch);
      const act = gather(clippedActions, ACTION_SIZE, idx, from, from + batch);
      const y = gather(targets, 1, idx, from, from + batch);
      loss = tf.tidy(() => {
        const yT = tf.tensor2d(y, [batch, 1]);
        const o = tf.tensor2d(obs, [batch, OBSERVATION_SIZE]);
        const a = tf.tensor2d(act, [batch, ACTION_SIZE]);
        return agent.shieldOptimizer.minimize(
          () => tf.mean(tf.square(tf.sub(agent.shieldApply(o, a, batch), yT))) as tf.Scalar,
        ).loss;
      });
    }
  }
  return loss;
}
