/**
 * Metrics windows: what the control loop did over the last window (ticks, policy ticks, interventions per layer,
 * violations, faults, inference latency percentiles) plus episodes and rewards. Pure: time is passed in.
 */
import type { Metrics } from '../../shared/protocol/index.js';
import { SampleRing } from '../control/index.js';
import type { SafetyLayer } from '../safety/index.js';
import type { UplinkTick } from './ports.js';

/** A metrics message without the envelope the uplink adds (schema, id, sessionId, seq, timeMs, uplink). */
export type MetricsBody = Omit<Metrics, 'schema' | 'id' | 'sessionId' | 'seq' | 'timeMs' | 'uplink'>;

const zeroLayers = (): Record<SafetyLayer, number> => ({ sanity: 0, box: 0, barrier: 0, shield: 0, monitor: 0 });

export class MetricsWindow {
  private startMs: number;
  private episodes = 0;
  private successes = 0;
  private returnSum = 0;
  private ticks = 0;
  private policyTicks = 0;
  private layers = zeroLayers();
  private violations = 0;
  private policyFaults = 0;
  private latency = new SampleRing(8192);

  constructor(nowMs: number) {
    this.startMs = nowMs;
  }

  observe(tick: UplinkTick): void {
    this.ticks++;
    if (tick.policy !== null) {
      this.policyTicks++;
      if (tick.policy.ok) this.latency.push(tick.policy.latencyUs);
    }
    const d = tick.decision;
    for (const layer of Object.keys(this.layers) as SafetyLayer[]) if (d.layers[layer]) this.layers[layer]++;
    if (d.barrier.breached.length > 0) this.violations++;
    if (d.policyFault && tick.policy !== null) this.policyFaults++;
    for (const e of tick.events) {
      if (e.kind === 'outcome' && e.outcome) {
        this.episodes++;
        if (e.outcome === 'delivered') this.successes++;
      }
    }
  }

  /** Rewards of experience recorded in this window. */
  addReward(reward: number): void {
    if (Number.isFinite(reward)) this.returnSum += reward;
  }

  /** Close the window at `nowMs` and start the next. */
  close(nowMs: number, policyVersion: string): MetricsBody {
    const pct = (p: number) => {
      const v = this.latency.percentile(p);
      return Number.isFinite(v) ? Math.max(0, v) : null;
    };
    const body: MetricsBody = {
      windowS: Math.max(0, (nowMs - this.startMs) / 1000),
      episodes: this.episodes,
      successes: this.successes,
      returnSum: this.returnSum,
      ticks: this.ticks,
      policyTicks: this.policyTicks,
      interventionsByLayer: this.layers,
      violations: this.violations,
      policyFaults: this.policyFaults,
      inferenceLatencyUs: { p50: pct(50), p99: pct(99) },
      policyVersion,
    };
    this.startMs = nowMs;
    this.episodes = 0;
    this.successes = 0;
    this.returnSum = 0;
    this.ticks = 0;
    this.policyTicks = 0;
    this.layers = zeroLayers();
    this.violations = 0;
    this.policyFaults = 0;
    this.latency = new SampleRing(8192);
    return body;
  }
}
