/**
 * Collect one rollout: every environment steps rolloutSteps times under the Gaussian policy (mean from the actor,
 * noise from the run's stream), with critic values for GAE, values of truncated episodes' final observations for
 * bootstrapping, and the episodes that finished.
 */
import { ACTION_SIZE, OBSERVATION_SIZE } from '../../../shared/policy/index.js';
import type { DeliveryEnv, EpisodeSummary } from '../env/delivery-env.js';
import { type Agent, LOG_2PI } from './agent.js';
import { PREV_NONE, PREV_OBSERVATION, PREV_SETPOINT, type RolloutBuffer } from './buffer.js';
import type { StateRng } from './state-rng.js';
import { DEFAULT_TEACHER, teacherActions } from './teacher.js';

export interface RolloutStats {
  readonly episodes: EpisodeSummary[];
  /** Mean cost per tick over the rollout. */
  readonly costRate: number;
  /** Share of ticks with any breach / with a would-be barrier intervention. */
  readonly breachRate: number;
  readonly interventionRate: number;
  /** Share of ticks where the env's box layer rate-limited the (sampled) setpoint. */
  readonly rateLimitRate: number;
  readonly meanReward: number;
}

export function collectRollout(
  env: DeliveryEnv,
  agent: Agent,
  buf: RolloutBuffer,
  rng: StateRng,
  withTeacher = false,
): RolloutStats {
  const n = env.count;
  const std = agent.std;
  const logStdSum = std.reduce((s, x) => s + Math.log(x), 0);
  const actions = new Float32Array(n * ACTION_SIZE);
  let cost = 0;
  let breaches = 0;
  let interventions = 0;
  let rateLimited = 0;
  let reward = 0;
  const episodes: EpisodeSummary[] = [];
  for (let t = 0; t < buf.steps; t++) {
    const base = t * n;
    const obs = buf.obs.subarray(base * OBSERVATION_SIZE, (base + n) * OBSERVATION_SIZE);
    env.observe(obs);
    if (withTeacher) {
      teacherActions(
        obs,
        n,
        env.limits,
        { ...DEFAULT_TEACHER, lead: agent.cfg.teacherLead },
        buf.teacherActions.subarray(base * ACTION_SIZE, (base + n) * ACTION_SIZE),
      );
    }
    // The smoothness loss's pairs: a leg's first step against the setpoint flown before it, later steps against the
    // previous step of the same episode.
    for (let i = 0; i < n; i++) {
      const k = base + i;
      if (env.legStart[i] === 1) {
        buf.prevKind[k] = PREV_SETPOINT;
        for (let j = 0; j < 3; j++) buf.prevSetpoint[3 * k + j] = env.state.prevFlownNedMS[3 * i + j];
      } else if (t > 0) {
        buf.prevKind[k] = PREV_OBSERVATION;
        buf.prevObs.set(
          buf.obs.subarray((k - n) * OBSERVATION_SIZE, (k - n + 1) * OBSERVATION_SIZE),
          k * OBSERVATION_SIZE,
        );
      } else {
        buf.prevKind[k] = PREV_NONE;
      }
    }
    const out = agent.act(obs, n);
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let j = 0; j < ACTION_SIZE; j++) {
        const eps = rng.normal();
        sq += eps * eps;
        actions[i * ACTION_SIZE + j] = out.mean[i * ACTION_SIZE + j] + std[j] * eps;
      }
      buf.logProbs[base + i] = -0.5 * sq - logStdSum - (ACTION_SIZE * LOG_2PI) / 2;
    }
    buf.actions.set(actions, base * ACTION_SIZE);
    buf.rewardValues.set(out.rewardValue, base);
    buf.costValues.set(out.costValue, base);
    env.step(actions);
    buf.rewards.set(env.rewards, base);
    buf.costs.set(env.costs, base);
    buf.dones.set(env.dones, base);
    buf.truncated.set(env.truncated, base);
    const cut: number[] = [];
    for (let i = 0; i < n; i++) {
      cost += env.costs[i];
      reward += env.rewards[i];
      if (env.breachBits[i] !== 0) breaches++;
      if (env.interventionMS[i] > 0) interventions++;
      if (env.rateLimitMS[i] > 0) rateLimited++;
      if (env.truncated[i]) cut.push(i);
    }
    if (cut.length > 0) {
      const finals = new Float32Array(cut.length * OBSERVATION_SIZE);
      cut.forEach((i, r) => {
        finals.set(env.terminalObs.subarray(i * OBSERVATION_SIZE, (i + 1) * OBSERVATION_SIZE), r * OBSERVATION_SIZE);
      });
      const v = agent.act(finals, cut.length);
      cut.forEach((i, r) => {
        buf.truncRewardValues[base + i] = v.rewardValue[r];
        buf.truncCostValues[base + i] = v.costValue[r];
      });
    }
    episodes.push(...env.takeFinished());
  }
  const next = new Float32Array(n * OBSERVATION_SIZE);
  env.observe(next);
  const last = agent.act(next, n);
  buf.lastRewardValues.set(last.rewardValue);
  buf.lastCostValues.set(last.costValue);
  const ticks = buf.size;
  return {
    episodes,
    costRate: cost / ticks,
    breachRate: breaches / ticks,
    interventionRate: interventions / ticks,
    rateLimitRate: rateLimited / ticks,
    meanReward: reward / ticks,
  };
}
