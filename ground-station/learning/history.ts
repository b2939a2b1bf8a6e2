import type { ValidationResult } from './validate.js';

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
  /** Share of ticks where the env's box layer rate-limited the sampled setpoint. */
  readonly rateLimitRate?: number;
  /** Smoothness loss of the mean setpoint (last minibatch). */
  readonly smoothLoss?: number;
  readonly lambda: number;
  readonly std: number;
  readonly approxKl: number;
  readonly valueLoss: number;
  readonly shieldLoss: number;
  readonly envStepsPerS: number;
  /** PPO gradient steps (minibatches) per second of update time. */
  readonly gradientStepsPerS: number;
  /** The mean policy's validation, on the iterations that had one. */
  readonly validation?: ValidationResult;
}
