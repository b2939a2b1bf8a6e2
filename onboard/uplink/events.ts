/**
 * Tick reports -> protocol events. Mission events and monitor transitions go out as they happen; interventions and
 * faults, which can fire every tick, are aggregated into at most one event each per window (default 1 s). Pure: time
 * is passed in.
 */
import type { DroneEvent } from '../../shared/protocol/index.js';
import type { SafetyLayer } from '../safety/index.js';
import type { UplinkTick } from './ports.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event without the envelope the uplink adds (schema, id, sessionId, seq, timeMs). */
export type EventBody = DistributiveOmit<DroneEvent, 'schema' | 'id' | 'sessionId' | 'seq' | 'timeMs'>;

/** Monitor transitions sent per window at most; more (a flapping rule) are counted into one alert. */
const MAX_TRANSITIONS_PER_WINDOW = 10;

const zeroLayers = (): Record<SafetyLayer, number> => ({ sanity: 0, box: 0, barrier: 0, shield: 0, monitor: 0 });

function monitorLevel(to: string): 'info' | 'warning' | 'critical' {
  if (to === 'none') return 'info';
  return to === 'warn' ? 'warning' : 'critical';
}

export class EventAggregator {
  private windowStartMs: number | null = null;
  private ticks = 0;
  private interventionTicks = 0;
  private byLayer = zeroLayers();
  private byReason: Record<string, number> = {};
  private maxMagnitudeMS = 0;
  private policyFaults = 0;
  private filterErrors = 0;
  private firstFilterError = '';
  private transitions = 0;
  private suppressedTransitions = 0;

  constructor(private readonly windowMs: number) {}

  /** One tick: the events to send now; interventions and faults are kept for `flush`. */
  observe(tick: UplinkTick, nowMs: number, taskId: string | null): EventBody[] {
    this.windowStartMs ??= nowMs;
    const out: EventBody[] = [];
    for (const e of tick.events) {
      out.push({
        kind: 'mission',
        missionEvent: e.kind,
        phase: e.phase,
        taskId,
        ...(e.detail !== undefined ? { detail: e.detail.slice(0, 1024) } : {}),
        ...(e.outcome !== undefined ? { outcome: e.outcome } : {}),
      });
    }
    const d = tick.decision;
    const t = d.monitor.transition;
    if (t) {
      if (this.transitions < MAX_TRANSITIONS_PER_WINDOW) {
        this.transitions++;
        out.push({
          kind: 'alert',
          level: monitorLevel(t.to),
          code: 'monitor-transition',
          message: `runtime monitor ${t.from} -> ${t.to}${t.rules.length ? ` (${t.rules.join(', ')})` : ''}`,
          monitor: { from: t.from, to: t.to, rules: [...t.rules].slice(0, 32) },
        });
      } else this.suppressedTransitions++;
    }
    this.ticks++;
    let any = false;
    for (const layer of Object.keys(this.byLayer) as SafetyLayer[]) {
      if (d.layers[layer]) {
        this.byLayer[layer]++;
        any = true;
      }
    }
    if (any) this.interventionTicks++;
    for (const i of d.interventions) {
      const key = `${i.layer}:${i.reason}`;
      this.byReason[key] = (this.byReason[key] ?? 0) + 1;
      if (Number.isFinite(i.magnitudeMS)) this.maxMagnitudeMS = Math.max(this.maxMagnitudeMS, i.magnitudeMS);
    }
    if (d.policyFault && tick.policy !== null) this.policyFaults++;
    if (d.error !== null) {
      if (this.filterErrors === 0) this.firstFilterError = d.error;
      this.filterErrors++;
    }
    return out;
  }

  /** Close the window when it has run its length (or `force`): the aggregated events, if anything happened. */
  flush(nowMs: number, force = false): EventBody[] {
    if (this.windowStartMs === null) return [];
    const windowMs = nowMs - this.windowStartMs;
    if (!force && windowMs < this.windowMs) return [];
    const out: EventBody[] = [];
    if (this.interventionTicks > 0) {
      out.push({
        kind: 'intervention',
        windowMs,
        ticks: this.ticks,
        interventionTicks: this.interventionTicks,
        byLayer: this.byLayer,
        byReason: this.byReason,
        maxMagnitudeMS: this.maxMagnitudeMS,
      });
    }
    if (this.policyFaults > 0) {
      out.push({ kind: 'fault', source: 'policy', code: 'policy-fault', count: this.policyFaults, windowMs });
    }
    if (this.filterErrors > 0) {
      out.push({
        kind: 'fault',
        source: 'filter',
        code: 'filter-internal-error',
        count: this.filterErrors,
        windowMs,
        message: this.firstFilterError.slice(0, 1024),
      });
    }
    if (this.suppressedTransitions > 0) {
      out.push({
        kind: 'alert',
        level: 'warning',
        code: 'monitor-flapping',
        message: `${this.suppressedTransitions} more runtime monitor transitions in ${Math.round(windowMs)} ms not sent one by one`,
      });
    }
    this.windowStartMs = null;
    this.ticks = 0;
    this.interventionTicks = 0;
    this.byLayer = zeroLayers();
    this.byReason = {};
    this.maxMagnitudeMS = 0;
    this.policyFaults = 0;
    this.filterErrors = 0;
    this.firstFilterError = '';
    this.transitions = 0;
    this.suppressedTransitions = 0;
    return out;
  }
}
