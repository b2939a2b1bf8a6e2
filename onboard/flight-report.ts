/**
 * The report `aerie fly` prints: built from tick reports and the vehicle state as the flight goes.
 */
import type { LoopSummary, TickReport } from './control/index.js';
import type { VehicleState } from './link/index.js';
import type { MissionOutcome } from './mission/index.js';

export interface FlightReport {
  readonly outcome: MissionOutcome;
  readonly reason: string;
  readonly durationS: number;
  /** Seconds spent in each mission phase. */
  readonly phaseDurationsS: Readonly<Record<string, number>>;
  readonly distanceFlownM: number;
  readonly maxGroundSpeedMS: number;
  readonly maxAltitudeM: number;
  /** Ticks on which each safety layer changed the setpoint. */
  readonly interventionsByLayer: LoopSummary['interventionTicksByLayer'];
  readonly interventionsByReason: LoopSummary['interventionsByReason'];
  readonly interventionShare: number;
  readonly minSeparationM: number;
  readonly minZoneClearanceM: number;
  readonly minFenceMarginM: number;
  readonly policyLatencyUs: LoopSummary['policyLatencyUs'];
  readonly tickUs: LoopSummary['tickUs'];
  readonly policyFaults: number;
  readonly monitorTransitions: readonly string[];
  readonly events: readonly string[];
}

export class FlightRecorder {
  private startMs = Number.NaN;
  private lastMs = Number.NaN;
  private phase = '';
  private phaseStartMs = 0;
  private readonly phaseTimes: Record<string, number> = {};
  private last: [number, number, number] | null = null;
  private distanceM = 0;
  private maxSpeed = 0;
  private maxAlt = 0;
  private readonly events: string[] = [];

  record(report: TickReport, state: Readonly<VehicleState>): void {
    const nowMs = report.timeUs / 1000;
    if (Number.isNaN(this.startMs)) this.startMs = nowMs;
    this.lastMs = nowMs;
    if (report.phase !== this.phase) {
      if (this.phase)
        this.phaseTimes[this.phase] = (this.phaseTimes[this.phase] ?? 0) + (nowMs - this.phaseStartMs) / 1000;
      this.phase = report.phase;
      this.phaseStartMs = nowMs;
    }
    for (const e of report.events) {
      this.events.push(
        `${((nowMs - this.startMs) / 1000).toFixed(1)}s ${e.kind} ${e.phase}${e.detail ? `: ${e.detail}` : ''}`,
      );
    }
    const p = state.positionNedM;
    if (Number.isFinite(p.n)) {
      if (this.last) this.distanceM += Math.hypot(p.n - this.last[0], p.e - this.last[1], p.d - this.last[2]);
      this.last = [p.n, p.e, p.d];
      this.maxAlt = Math.max(this.maxAlt, -p.d);
    }
    const v = state.velocityNedMS;
    if (Number.isFinite(v.n)) this.maxSpeed = Math.max(this.maxSpeed, Math.hypot(v.n, v.e));
  }

  finish(outcome: MissionOutcome, reason: string, loop: LoopSummary): FlightReport {
    if (this.phase)
      this.phaseTimes[this.phase] = (this.phaseTimes[this.phase] ?? 0) + (this.lastMs - this.phaseStartMs) / 1000;
    return {
      outcome,
      reason,
      durationS: Number.isNaN(this.startMs) ? 0 : (this.lastMs - this.startMs) / 1000,
      phaseDurationsS: { ...this.phaseTimes },
      distanceFlownM: this.distanceM,
      maxGroundSpeedMS: this.maxSpeed,
      maxAltitudeM: this.maxAlt,
      interventionsByLayer: loop.interventionTicksByLayer,
      interventionsByReason: loop.interventionsByReason,
      interventionShare: loop.interventionShare,
      minSeparationM: loop.minClearanceM.separation,
      minZoneClearanceM: loop.minClearanceM.zone,
      minFenceMarginM: loop.minClearanceM.fence,
      policyLatencyUs: loop.policyLatencyUs,
      tickUs: loop.tickUs,
      policyFaults: loop.policyFaults,
      monitorTransitions: loop.monitorTransitions,
      events: [...this.events],
    };
  }
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

export function formatFlightReport(r: FlightReport): string {
  const layers = Object.entries(r.interventionsByLayer)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const phases = Object.entries(r.phaseDurationsS)
    .map(([k, v]) => `${k} ${fmt(v)} s`)
    .join(', ');
  return [
    `outcome:            ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`,
    `duration:           ${fmt(r.durationS)} s  [${phases}]`,
    `distance flown:     ${fmt(r.distanceFlownM)} m, max ground speed ${fmt(r.maxGroundSpeedMS)} m/s, max altitude ${fmt(r.maxAltitudeM)} m`,
    `interventions:      ${layers} (ticks); ${fmt(r.interventionShare * 100)} % of policy ticks`,
    `min separation:     ${fmt(r.minSeparationM)} m; min zone clearance ${fmt(r.minZoneClearanceM)} m; min fence margin ${fmt(r.minFenceMarginM)} m`,
    `policy latency:     p50 ${fmt(r.policyLatencyUs.p50, 0)} us, p99 ${fmt(r.policyLatencyUs.p99, 0)} us; tick p99 ${fmt(r.tickUs.p99, 0)} us`,
    `faults:             ${r.policyFaults} policy faults; monitor ${r.monitorTransitions.join('; ') || 'quiet'}`,
  ].join('\n');
}
