/**
 * Counters and timings of the control loop, as PX4's perf counters: cheap to record every tick, summarised on
 * demand (p50/p99 over a ring of recent ticks, totals since start).
 */
import { SAFETY_LAYERS, type SafetyDecision, type SafetyLayer } from '../safety/index.js';

/** A fixed-size ring of samples with percentiles. */
export class SampleRing {
  private readonly values: Float64Array;
  private count = 0;
  private next = 0;

  constructor(capacity = 4096) {
    this.values = new Float64Array(capacity);
  }

  push(value: number): void {
    if (!Number.isFinite(value)) return;
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.values.length;
    if (this.count < this.values.length) this.count++;
  }

  get size(): number {
    return this.count;
  }

  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const sorted = this.values.slice(0, this.count).sort();
    return sorted[Math.min(this.count - 1, Math.max(0, Math.ceil((p / 100) * this.count) - 1))];
  }

  max(): number {
    if (this.count === 0) return Number.NaN;
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.count; i++) m = Math.max(m, this.values[i]);
    return m;
  }
}

export interface TickSample {
  /** Vehicle state snapshot, mission step and its command (from the tick's start). */
  readonly missionUs: number;
  readonly observationUs: number;
  readonly inferenceUs: number;
  readonly filterUs: number;
  readonly sendUs: number;
  /** The whole tick, from its start to the setpoint sent. */
  readonly totalUs: number;
  readonly decision: SafetyDecision;
  readonly policyRan: boolean;
  readonly policyLatencyUs: number;
  readonly sent: boolean;
}

export interface LoopSummary {
  readonly ticks: number;
  readonly setpointsSent: number;
  readonly policyTicks: number;
  readonly policyFaults: number;
  readonly stalls: number;
  /** Ticks on which each layer changed the setpoint. */
  readonly interventionTicksByLayer: Readonly<Record<SafetyLayer, number>>;
  /** Interventions by reason ('layer:reason'), counted once per tick each. */
  readonly interventionsByReason: Readonly<Record<string, number>>;
  /** Share of policy ticks with any intervention by the sanity, box, barrier or shield layer. */
  readonly interventionShare: number;
  readonly tickUs: { readonly p50: number; readonly p99: number };
  readonly stageUs: Readonly<
    Record<'mission' | 'observation' | 'inference' | 'filter' | 'send', { readonly p50: number; readonly p99: number }>
  >;
  readonly policyLatencyUs: { readonly p50: number; readonly p99: number };
  /** Smallest clearances the barrier layer saw (m). */
  readonly minClearanceM: Readonly<Record<'fence' | 'ceiling' | 'zone' | 'floor' | 'separation', number>>;
  readonly monitorTransitions: readonly string[];
}

const CLEARANCE_KINDS = ['fence', 'ceiling', 'zone', 'floor', 'separation'] as const;

const emptyLayerCounts = (): Record<SafetyLayer, number> => ({ sanity: 0, box: 0, barrier: 0, shield: 0, monitor: 0 });

export class LoopStats {
  ticks = 0;
  setpointsSent = 0;
  policyTicks = 0;
  policyFaults = 0;
  stalls = 0;
  private interventionPolicyTicks = 0;
  private readonly layerTicks = emptyLayerCounts();
  private readonly total = new SampleRing();
  private readonly stages = {
    mission: new SampleRing(),
    observation: new SampleRing(),
    inference: new SampleRing(),
    filter: new SampleRing(),
    send: new SampleRing(),
  };
  private readonly policyLatency = new SampleRing();
  private readonly minClearance = {
    fence: Infinity,
    ceiling: Infinity,
    zone: Infinity,
    floor: Infinity,
    separation: Infinity,
  };
  private readonly transitions: string[] = [];
  private readonly reasons: Record<string, number> = {};
  /** The 'layer:reason' keys, made once per pair rather than once per intervention. */
  private readonly reasonKeys = new Map<string, Map<string, string>>();

  /** Monotonic microseconds for stage timing. */
  clockUs(): number {
    return performance.now() * 1000;
  }

  recordTick(s: TickSample): void {
    this.ticks++;
    if (s.sent) this.setpointsSent++;
    this.total.push(s.totalUs);
    this.stages.mission.push(s.missionUs);
    this.stages.observation.push(s.observationUs);
    this.stages.inference.push(s.inferenceUs);
    this.stages.filter.push(s.filterUs);
    this.stages.send.push(s.sendUs);
    const d = s.decision;
    for (let j = 0; j < SAFETY_LAYERS.length; j++) if (d.layers[SAFETY_LAYERS[j]]) this.layerTicks[SAFETY_LAYERS[j]]++;
    for (let j = 0; j < d.interventions.length; j++) {
      const i = d.interventions[j];
      const key = this.reasonKey(i.layer, i.reason);
      this.reasons[key] = (this.reasons[key] ?? 0) + 1;
    }
    if (s.policyRan) {
      this.policyTicks++;
      this.policyLatency.push(s.policyLatencyUs);
      if (d.policyFault) this.policyFaults++;
      if (d.layers.sanity || d.layers.box || d.layers.barrier || d.layers.shield) this.interventionPolicyTicks++;
    }
    const c = d.barrier.clearanceM;
    for (let j = 0; j < CLEARANCE_KINDS.length; j++) {
      const k = CLEARANCE_KINDS[j];
      if (c[k] < this.minClearance[k]) this.minClearance[k] = c[k];
    }
    const t = d.monitor.transition;
    if (t) this.transitions.push(`${t.from}->${t.to} (${d.monitor.activeRules.join(', ') || 'cleared'})`);
  }

  private reasonKey(layer: string, reason: string): string {
    let byReason = this.reasonKeys.get(layer);
    if (!byReason) {
      byReason = new Map();
      this.reasonKeys.set(layer, byReason);
    }
    let key = byReason.get(reason);
    if (key === undefined) {
      key = `${layer}:${reason}`;
      byReason.set(reason, key);
    }
    return key;
  }

  summary(): LoopSummary {
    const pp = (r: SampleRing) => ({ p50: r.percentile(50), p99: r.percentile(99) });
    return {
      ticks: this.ticks,
      setpointsSent: this.setpointsSent,
      policyTicks: this.policyTicks,
      policyFaults: this.policyFaults,
      stalls: this.stalls,
      interventionTicksByLayer: { ...this.layerTicks },
      interventionsByReason: { ...this.reasons },
      interventionShare: this.policyTicks === 0 ? 0 : this.interventionPolicyTicks / this.policyTicks,
      tickUs: pp(this.total),
      stageUs: {
        mission: pp(this.stages.mission),
        observation: pp(this.stages.observation),
        inference: pp(this.stages.inference),
        filter: pp(this.stages.filter),
        send: pp(this.stages.send),
      },
      policyLatencyUs: pp(this.policyLatency),
      minClearanceM: { ...this.minClearance },
      monitorTransitions: [...this.transitions],
    };
  }
}
