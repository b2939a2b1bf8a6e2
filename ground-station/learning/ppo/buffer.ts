/** One rollout of T steps from N environments, step-major (index t * N + i), in typed arrays reused each iteration. */
import { ACTION_SIZE, OBSERVATION_SIZE } from '../../../shared/policy/index.js';

export const PREV_NONE = 0;
export const PREV_SETPOINT = 1;
export const PREV_OBSERVATION = 2;

export class RolloutBuffer {
  readonly steps: number;
  readonly envs: number;
  readonly size: number;
  readonly obs: Float32Array;
  /** Sampled (unclipped) actions. */
  readonly actions: Float32Array;
  readonly logProbs: Float32Array;
  readonly rewardValues: Float32Array;
  readonly costValues: Float32Array;
  readonly rewards: Float32Array;
  readonly costs: Float32Array;
  readonly dones: Uint8Array;
  readonly truncated: Uint8Array;
  /** Where truncated: critic values of the final observation. */
  readonly truncRewardValues: Float32Array;
  readonly truncCostValues: Float32Array;
  readonly lastRewardValues: Float32Array;
  readonly lastCostValues: Float32Array;
  /**
   * What the smoothness loss compares each sample's mean setpoint with: PREV_NONE (nothing: the first step of a
   * rollout in mid-episode), PREV_SETPOINT (a fixed setpoint: the one flown before a leg began, e.g. the mission's
   * climb) or PREV_OBSERVATION (the mean setpoint at the previous step's observation, same episode).
   */
  readonly prevKind: Uint8Array;
  /** Where prevKind is PREV_OBSERVATION: the previous step's observation. */
  readonly prevObs: Float32Array;
  /** Where prevKind is PREV_SETPOINT: that setpoint, NED m/s. */
  readonly prevSetpoint: Float32Array;
  /** The kickstarting teacher's action at each observation (filled only when the teacher is on). */
  readonly teacherActions: Float32Array;
  // Filled by the update.
  readonly rewardAdv: Float32Array;
  readonly rewardRet: Float32Array;
  readonly costAdv: Float32Array;
  readonly costRet: Float32Array;

  constructor(steps: number, envs: number) {
    this.steps = steps;
    this.envs = envs;
    const n = steps * envs;
    this.size = n;
    this.obs = new Float32Array(n * OBSERVATION_SIZE);
    this.actions = new Float32Array(n * ACTION_SIZE);
    this.logProbs = new Float32Array(n);
    this.rewardValues = new Float32Array(n);
    this.costValues = new Float32Array(n);
    this.rewards = new Float32Array(n);
    this.costs = new Float32Array(n);
    this.dones = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.truncRewardValues = new Float32Array(n);
    this.truncCostValues = new Float32Array(n);
    this.lastRewardValues = new Float32Array(envs);
    this.lastCostValues = new Float32Array(envs);
    this.prevKind = new Uint8Array(n);
    this.prevObs = new Float32Array(n * OBSERVATION_SIZE);
    this.prevSetpoint = new Float32Array(n * 3);
    this.teacherActions = new Float32Array(n * ACTION_SIZE);
    this.rewardAdv = new Float32Array(n);
    this.rewardRet = new Float32Array(n);
    this.costAdv = new Float32Array(n);
    this.costRet = new Float32Array(n);
  }
}
