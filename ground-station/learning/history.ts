/** One row of the learning curve: what an iteration collected and how the update went. */
export interface IterationRecord {
  readonly iteration: number;
  readonly envSteps: number;
  readonly wallS: number;
  readonly episodes: number;
  /** Share of the iteration's finished episodes that delivered (NaN when none finished). */
  readonly successRate: number;
  readonly meanReturn: number;
  /** Mean cost per tick of the rollout. */
  readonly costRate: number;
  readonly breachRate: number;
  readonly interventionRate: number;
  readonly lambda: number;
  readonly std: number;
  readonly approxKl: number;
  readonly valueLoss: number;
  readonly shieldLoss: number;
  readonly envStepsPerS: number;
  /** PPO gradient steps (minibatches) per second of update time. */
  readonly gradientStepsPerS: number;
}
