/**
 * Generalised advantage estimation (Schulman et al. 2016) over a rollout laid out step-major (index t * n + i), for
 * the reward and the cost alike. An episode that ended by its own outcome (done) has no value after it; one cut by
 * its time limit (truncated) bootstraps from the value of its final observation; the rollout's last step
 * bootstraps from the value of the observation after it.
 */
export interface GaeInput {
  readonly steps: number;
  readonly envs: number;
  readonly rewards: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  readonly dones: ArrayLike<number>;
  readonly truncated: ArrayLike<number>;
  /** Value of the final observation where truncated (read only there). */
  readonly truncatedValues: ArrayLike<number>;
  /** Value of the observation after the rollout's last step, per environment. */
  readonly lastValues: ArrayLike<number>;
  readonly gamma: number;
  readonly lambda: number;
}

/** Writes advantages and returns (advantage + value) into the given arrays (length steps * envs). */
export function computeGae(input: GaeInput, advantages: Float32Array, returns: Float32Array): void {
  const { steps, envs, rewards, values, dones, truncated, truncatedValues, lastValues, gamma, lambda } = input;
  for (let i = 0; i < envs; i++) {
    let nextValue = lastValues[i];
    let nextAdvantage = 0;
    for (let t = steps - 1; t >= 0; t--) {
      const k = t * envs + i;
      let bootstrap: number;
      let carry: number;
      if (dones[k]) {
        bootstrap = 0;
        carry = 0;
      } else if (truncated[k]) {
        bootstrap = truncatedValues[k];
        carry = 0;
      } else {
        bootstrap = nextValue;
        carry = nextAdvantage;
      }
      const delta = rewards[k] + gamma * bootstrap - values[k];
      const advantage = delta + gamma * lambda * carry;
      advantages[k] = advantage;
      returns[k] = advantage + values[k];
      nextAdvantage = advantage;
      nextValue = values[k];
    }
  }
}

/**
 * The shield's regression target: y_t = (1 - g) * sum_k g^k c_(t+k) within the episode, the share of the coming
 * ~1/(1 - g) steps spent in cost. Steps too near the rollout's end to see their horizon get mask 0.
 */
export function discountedCostRate(
  steps: number,
  envs: number,
  costs: ArrayLike<number>,
  ends: ArrayLike<number>,
  gamma: number,
  tailSteps: number,
  targets: Float32Array,
  mask: Uint8Array,
): void {
  for (let i = 0; i < envs; i++) {
    let next = 0;
    for (let t = steps - 1; t >= 0; t--) {
      const k = t * envs + i;
      if (ends[k]) next = 0;
      const y = (1 - gamma) * costs[k] + gamma * next;
      targets[k] = y;
      mask[k] = t < steps - tailSteps ? 1 : 0;
      next = y;
    }
  }
}

/** Mean and standard deviation of a sample. */
export function meanStd(x: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let k = 0; k < x.length; k++) s += x[k];
  const mean = x.length > 0 ? s / x.length : 0;
  let v = 0;
  for (let k = 0; k < x.length; k++) v += (x[k] - mean) ** 2;
  return { mean, std: x.length > 0 ? Math.sqrt(v / x.length) : 0 };
}
