/**
 * Validation during training: the deterministic mean policy (what is exported) flies a fixed set of deliveries in
 * the environment, with the onboard box layer between it and the vehicle, all vehicles batched through the actor.
 * The training episodes fly a noisy policy, which stumbles into the arrival box where the mean may stop short; this
 * measures the policy that ships, so the stop criterion and the choice of the exported weights rest on it.
 */
import { OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { DeliveryEnv, type EpisodeSummary } from './env/delivery-env.js';
import type { EnvConfig } from './env/env-config.js';
import type { Agent } from './ppo/agent.js';

export interface ValidationResult {
  readonly episodes: number;
  readonly successRate: number;
  /** Share of ticks where the box layer rate-limited the mean setpoint. */
  readonly rateLimitShare: number;
  /** Share of ticks where the barrier layer would have changed it. */
  readonly barrierShare: number;
  /** Share of ticks with either (what the onboard filter would count as an intervention, the monitor aside). */
  readonly interventionShare: number;
  /** Share of episodes with any constraint breach. */
  readonly breachEpisodeShare: number;
  readonly costPerTick: number;
  /** Mean time to reach the drop point over the episodes that reached it, s (null when none; JSON has no NaN). */
  readonly timeToDeliverMeanS: number | null;
}

/** Fly `episodes` deliveries of scenario seed `seed` with the agent's mean policy at the env's control step. */
export function validatePolicy(agent: Agent, env: EnvConfig, episodes: number, seed: number): ValidationResult {
  const sim = new DeliveryEnv(episodes, { ...env, rateLimit: true, barrierProbe: true, probeExtraMarginM: 0 }, seed, {
    autoReset: false,
  });
  const obs = new Float32Array(episodes * OBSERVATION_SIZE);
  const finished: EpisodeSummary[] = [];
  let ticks = 0;
  let rateLimited = 0;
  let barrier = 0;
  let either = 0;
  let cost = 0;
  while (sim.activeCount > 0) {
    sim.observe(obs);
    const actions = agent.policyMean(obs, episodes);
    const active = Uint8Array.from(sim.state.active);
    sim.step(actions);
    for (let i = 0; i < episodes; i++) {
      if (active[i] === 0) continue;
      ticks++;
      const r = sim.rateLimitMS[i] > 0;
      const b = sim.interventionMS[i] > 0;
      if (r) rateLimited++;
      if (b) barrier++;
      if (r || b) either++;
      cost += sim.costs[i];
    }
    finished.push(...sim.takeFinished());
  }
  const delivered = finished.filter((e) => e.success);
  const times = finished.map((e) => e.deliverTimeS).filter((t): t is number => t !== null);
  const breached = finished.filter((e) => Object.values(e.breachTicks).some((x) => x > 0));
  const share = (x: number): number => x / Math.max(ticks, 1);
  return {
    episodes: finished.length,
    successRate: delivered.length / Math.max(finished.length, 1),
    rateLimitShare: share(rateLimited),
    barrierShare: share(barrier),
    interventionShare: share(either),
    breachEpisodeShare: breached.length / Math.max(finished.length, 1),
    costPerTick: share(cost),
    timeToDeliverMeanS: times.length ? times.reduce((a, b) => a + b, 0) / times.length : null,
  };
}

/**
 * How good a validated policy is, for keeping the best: success, less the intervention share above its target
 * (weighted so 1 % too many interventions costs as much as 2 % fewer deliveries), less breaching episodes.
 */
export function validationScore(v: ValidationResult, targetInterventionShare: number): number {
  return v.successRate - 2 * Math.max(0, v.interventionShare - targetInterventionShare) - v.breachEpisodeShare;
}
