/**
 * Records flights as experience (shared/experience): one record every `everyTicks` policy ticks, with the reward
 * and cost the trainer can learn from. Pure: tick reports in, records out; the uplink sends them to the station.
 *
 * Reward: metres of progress towards the leg's goal since the previous record, +10 when the leg ends at its goal.
 * Cost: the breaches the barrier layer saw, plus 1 when the barrier or shield layer had to change the action (the
 * trainer's constraint signal counts the filter's interventions the same way).
 */
import type { ExperienceRecord } from '../../shared/experience/index.js';
import { type VelocityLimits, velocityNedMSToAction } from '../../shared/policy/index.js';
import type { TickReport } from '../control/index.js';

export interface RecorderOptions {
  /** Record one policy tick in this many (1 = every tick at the loop rate). */
  readonly everyTicks: number;
  readonly limits: VelocityLimits;
  readonly policyVersion: () => string;
}

const ARRIVAL_BONUS = 10;

export class ExperienceRecorder {
  private episode = 0;
  private step = 0;
  private policyTicks = 0;
  private lastDistanceM = Number.NaN;
  private inLeg = false;

  constructor(private readonly options: RecorderOptions) {}

  /** The record for this tick, or null when this tick is not recorded. */
  onTick(report: TickReport): ExperienceRecord | null {
    if (report.observation === null) return this.inLeg ? this.finishLeg(report) : null;
    // A faulted policy tick has no action to learn from; the fault shows in the next record's interventions.
    if (report.policy === null || !report.policy.ok) return null;
    if (!this.inLeg) {
      this.inLeg = true;
      this.episode++;
      this.step = 0;
      this.policyTicks = 0;
      this.lastDistanceM = report.goalDistanceM;
    }
    if (this.policyTicks++ % this.options.everyTicks !== 0) return null;
    const reward = Number.isFinite(this.lastDistanceM) ? this.lastDistanceM - report.goalDistanceM : 0;
    this.lastDistanceM = report.goalDistanceM;
    return this.record(report, report.observation, Array.from(report.policy.action), reward, false);
  }

  /** The policy leg ended: close the episode, with the arrival bonus when it reached its goal. */
  private finishLeg(report: TickReport): ExperienceRecord | null {
    this.inLeg = false;
    const arrived = report.phase === 'descend' || report.phase === 'landing';
    return {
      ...this.base(report, new Array(32).fill(0), [0, 0, 0]),
      reward: arrived ? ARRIVAL_BONUS : 0,
      done: arrived,
      truncated: !arrived,
    };
  }

  private record(
    report: TickReport,
    observation: Float32Array,
    action: number[],
    reward: number,
    done: boolean,
  ): ExperienceRecord {
    return { ...this.base(report, Array.from(observation), action), reward, done, truncated: false };
  }

  private base(report: TickReport, observation: number[], action: number[]) {
    const d = report.decision;
    const filtered = velocityNedMSToAction(
      [d.velocityNedMS.n, d.velocityNedMS.e, d.velocityNedMS.d],
      this.options.limits,
    );
    const cost = d.barrier.breached.length + (d.layers.barrier || d.layers.shield ? 1 : 0);
    return {
      timestampUs: Math.round(Date.now() * 1000),
      episode: this.episode >>> 0,
      step: this.step++ >>> 0,
      observation,
      action,
      filteredAction: Array.from(filtered),
      cost,
      interventions: { ...d.layers },
      policyVersion: this.options.policyVersion(),
    };
  }
}
