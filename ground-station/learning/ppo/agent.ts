/**
 * The learner: a Gaussian policy whose mean is tanh(actor MLP) over the normalised observation, with a learned
 * state-independent log std; a critic with two heads (reward value, cost value); and the shield, a cost critic over
 * (observation, action). The exported policy is the deterministic mean (the same tanh), the exported shield the cost
 * critic; both apply the observation normalisation inside the ONNX graph.
 */
import {
  ACTION_SIZE,
  buildMlpModel,
  METADATA_KEYS,
  OBSERVATION_SIZE,
  SHIELD_INTERFACE,
} from '../../../shared/policy/index.js';
import type { Rng } from '../../../shared/random/index.js';
import { Adam } from '../nn/adam.js';
import { Mlp, readVariables, writeVariables } from '../nn/mlp.js';
import { RunningNormaliser } from '../nn/normaliser.js';
import { tf } from '../nn/tf.js';
import { parseHidden, type TrainSection } from '../train-config.js';

export const LOG_2PI = Math.log(2 * Math.PI);

export interface AgentState {
  readonly actor: Float32Array[];
  readonly critic: Float32Array[];
  readonly shield: Float32Array[];
  readonly logStd: Float32Array;
  readonly normaliser: { count: number; mean: number[]; m2: number[] };
  readonly optimizer: { step: number; m: Float32Array[]; v: Float32Array[] };
  readonly shieldOptimizer: { step: number; m: Float32Array[]; v: Float32Array[] };
}

/** The weights and statistics an exported policy and shield are made of. */
export interface PolicySnapshot {
  readonly actor: Float32Array[];
  readonly shield: Float32Array[];
  readonly normaliser: { count: number; mean: number[]; m2: number[] };
}

export class Agent {
  readonly cfg: TrainSection;
  readonly actor: Mlp;
  readonly critic: Mlp;
  readonly shield: Mlp;
  readonly logStd: tf.Variable;
  readonly normaliser: RunningNormaliser;
  readonly optimizer: Adam;
  readonly shieldOptimizer: Adam;
  #mean: tf.Tensor1D;
  #std: tf.Tensor1D;

  constructor(cfg: TrainSection, rng: Rng) {
    this.cfg = cfg;
    this.maxStd = cfg.initialStd * 2;
    const act = cfg.activation;
    this.actor = new Mlp(
      'actor',
      [OBSERVATION_SIZE, ...parseHidden(cfg.actorHidden, 'actorHidden'), ACTION_SIZE],
      act,
      rng.fork(1),
      0.01,
    );
    this.critic = new Mlp(
      'critic',
      [OBSERVATION_SIZE, ...parseHidden(cfg.criticHidden, 'criticHidden'), 2],
      act,
      rng.fork(2),
    );
    this.shield = new Mlp(
      'shield',
      [SHIELD_INTERFACE.inputSize, ...parseHidden(cfg.shieldHidden, 'shieldHidden'), 1],
      act,
      rng.fork(3),
    );
    // Half the noise on the vertical axis: its action scale is asymmetric (3 m/s up, 1.5 down), so symmetric noise
    // drifts the vehicle upwards, and altitude errors cost more time to undo than horizontal ones.
    const initialLogStd = [cfg.initialStd, cfg.initialStd, cfg.initialStd / 2].map(Math.log);
    this.logStd = tf.variable(tf.tensor1d(initialLogStd), true);
    this.normaliser = new RunningNormaliser(OBSERVATION_SIZE, cfg.obsStdFloor);
    const policyVars = [...this.actor.variables, this.logStd];
    this.optimizer = new Adam([...policyVars, ...this.critic.variables], cfg.learningRate, cfg.maxGradNorm, [
      ...policyVars.map(() => 0),
      ...this.critic.variables.map(() => 1),
    ]);
    this.shieldOptimizer = new Adam(this.shield.variables, cfg.shieldLearningRate, cfg.maxGradNorm);
    this.#mean = tf.tensor1d(this.normaliser.meanF32());
    this.#std = tf.tensor1d(this.normaliser.stdF32());
  }

  /** Take the normaliser's current statistics into the networks' input. */
  refreshNormalisation(): void {
    this.#mean.dispose();
    this.#std.dispose();
    this.#mean = tf.tensor1d(this.normaliser.meanF32());
    this.#std = tf.tensor1d(this.normaliser.stdF32());
  }

  normalise(obs: tf.Tensor2D): tf.Tensor2D {
    return tf.div(tf.sub(obs, this.#mean), this.#std) as tf.Tensor2D;
  }

  /** Policy mean tanh(actor(normalised obs)), [n, ACTION_SIZE]. */
  meanAction(obsN: tf.Tensor2D): tf.Tensor2D {
    return tf.tanh(this.actor.apply(obsN));
  }

  /** Policy mean and critic values for `n` observations (no gradients). */
  act(obs: Float32Array, n: number): { mean: Float32Array; rewardValue: Float32Array; costValue: Float32Array } {
    return tf.tidy(() => {
      const x = this.normalise(tf.tensor2d(obs, [n, OBSERVATION_SIZE]));
      const mean = this.meanAction(x).dataSync() as Float32Array;
      const v = this.critic.apply(x).dataSync() as Float32Array;
      const rewardValue = new Float32Array(n);
      const costValue = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        rewardValue[i] = v[2 * i];
        costValue[i] = v[2 * i + 1];
      }
      return { mean: Float32Array.from(mean), rewardValue, costValue };
    });
  }

  /** The deterministic action for `n` observations (what the exported ONNX policy computes). */
  policyMean(obs: Float32Array, n: number): Float32Array {
    return tf.tidy(() => {
      const x = this.normalise(tf.tensor2d(obs, [n, OBSERVATION_SIZE]));
      return Float32Array.from(this.meanAction(x).dataSync() as Float32Array);
    });
  }

  /** The shield's predicted cost for observation + action pairs (what the exported ONNX shield computes). */
  shieldCost(obs: Float32Array, actions: Float32Array, n: number): Float32Array {
    return tf.tidy(() => Float32Array.from(this.shieldApply(obs, actions, n).dataSync() as Float32Array));
  }

  shieldApply(obs: Float32Array | tf.Tensor2D, actions: Float32Array | tf.Tensor2D, n: number): tf.Tensor2D {
    const o = obs instanceof Float32Array ? tf.tensor2d(obs, [n, OBSERVATION_SIZE]) : obs;
    const a = actions instanceof Float32Array ? tf.tensor2d(actions, [n, ACTION_SIZE]) : actions;
    return this.shield.apply(tf.concat([this.normalise(o), a], 1) as tf.Tensor2D);
  }

  get std(): Float32Array {
    return Float32Array.from(tf.tidy(() => tf.exp(this.logStd).dataSync() as Float32Array));
  }

  /** Upper bound of the noise std (annealed by the trainer; at least minStd). */
  maxStd: number;

  /** Keep the noise within [minStd, maxStd]. */
  clampStd(): void {
    const lo = Math.log(this.cfg.minStd);
    const hi = Math.log(Math.max(this.maxStd, this.cfg.minStd));
    tf.tidy(() => this.logStd.assign(tf.clipByValue(this.logStd, lo, hi)));
  }

  /** What the exported models are made of: actor, shield and the observation statistics. */
  snapshot(): PolicySnapshot {
    return {
      actor: readVariables(this.actor.variables),
      shield: readVariables(this.shield.variables),
      normaliser: this.normaliser.toJSON(),
    };
  }

  /** Run `fn` (an export) with a snapshot's weights in place, then put the current ones back exactly. */
  withSnapshot<T>(snap: PolicySnapshot, fn: () => T): T {
    const current = this.snapshot();
    const load = (s: PolicySnapshot): void => {
      writeVariables(this.actor.variables, s.actor);
      writeVariables(this.shield.variables, s.shield);
      this.normaliser.load(s.normaliser);
      this.refreshNormalisation();
    };
    load(snap);
    try {
      return fn();
    } finally {
      load(current);
    }
  }

  /** The deterministic policy as ONNX (opset 13), normalisation inside, contract metadata plus `metadata`. */
  exportPolicy(metadata: Record<string, string>): Uint8Array {
    return buildMlpModel({
      kind: 'policy',
      inputSize: OBSERVATION_SIZE,
      layers: this.actor.toLayers(),
      obsMean: this.normaliser.meanF32(),
      obsStd: this.normaliser.stdF32(),
      outputActivation: 'tanh',
      graphName: 'aerie_ppo_lagrangian_policy',
      docString: 'Trained by aerie train (ground-station/learning): the mean of a PPO-Lagrangian Gaussian policy.',
      metadata,
    });
  }

  /** The shield as ONNX: input observation_action [batch, 35], output cost [batch, 1]. */
  exportShield(metadata: Record<string, string>): Uint8Array {
    const mean = new Float32Array(SHIELD_INTERFACE.inputSize);
    const std = new Float32Array(SHIELD_INTERFACE.inputSize).fill(1);
    mean.set(this.normaliser.meanF32());
    std.set(this.normaliser.stdF32());
    return buildMlpModel({
      kind: 'shield',
      inputSize: SHIELD_INTERFACE.inputSize,
      layers: this.shield.toLayers(),
      obsMean: mean,
      obsStd: std,
      outputActivation: 'none',
      graphName: 'aerie_cost_shield',
      docString: 'Trained by aerie train: discounted cost-rate critic Q_c(observation, action) from the same rollouts.',
      metadata: {
        [METADATA_KEYS.description]: 'Predicted share of the next ~1 s in breach or intervened.',
        ...metadata,
      },
    });
  }

  state(): AgentState {
    return {
      actor: readVariables(this.actor.variables),
      critic: readVariables(this.critic.variables),
      shield: readVariables(this.shield.variables),
      logStd: Float32Array.from(this.logStd.dataSync() as Float32Array),
      normaliser: this.normaliser.toJSON(),
      optimizer: this.optimizer.state(),
      shieldOptimizer: this.shieldOptimizer.state(),
    };
  }

  restore(s: AgentState): void {
    writeVariables(this.actor.variables, s.actor);
    writeVariables(this.critic.variables, s.critic);
    writeVariables(this.shield.variables, s.shield);
    writeVariables([this.logStd], [s.logStd]);
    this.normaliser.load(s.normaliser);
    this.optimizer.restore(s.optimizer);
    this.shieldOptimizer.restore(s.shieldOptimizer);
    this.refreshNormalisation();
  }

  dispose(): void {
    this.actor.dispose();
    this.critic.dispose();
    this.shield.dispose();
    this.logStd.dispose();
    this.optimizer.dispose();
    this.shieldOptimizer.dispose();
    this.#mean.dispose();
    this.#std.dispose();
  }
}
