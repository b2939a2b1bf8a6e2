/** The telemetry message from the vehicle state: NaN (unknown) becomes null, units as in the protocol. Pure. */
import { PROTOCOL_VERSION, type Telemetry } from '../../shared/protocol/index.js';
import type { VehicleState } from '../link/index.js';

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

export interface TelemetryContext {
  readonly id: string;
  readonly sessionId: string;
  readonly seq: number;
  readonly timeMs: number;
  readonly missionPhase: string;
  readonly taskId: string | null;
  readonly policyVersion: string;
  readonly autopilotUp: boolean;
  readonly autopilotLinkDowns: number;
  readonly queue: { readonly queuedRecords: number; readonly queueBytes: number };
}

export function buildTelemetry(state: Readonly<VehicleState>, ctx: TelemetryContext): Telemetry {
  const p = state.positionNedM;
  const v = state.velocityNedMS;
  const g = state.globalPosition;
  const counters = state.linkCounters;
  const battery = num(state.batteryRemaining);
  return {
    schema: PROTOCOL_VERSION,
    id: ctx.id,
    sessionId: ctx.sessionId,
    timeMs: ctx.timeMs,
    seq: ctx.seq,
    positionNedM:
      Number.isFinite(p.n) && Number.isFinite(p.e) && Number.isFinite(p.d) ? { n: p.n, e: p.e, d: p.d } : null,
    geo: g && Number.isFinite(g.latDeg) && Number.isFinite(g.lonDeg) && Number.isFinite(g.altAmslM) ? { ...g } : null,
    velocityNedMS:
      Number.isFinite(v.n) && Number.isFinite(v.e) && Number.isFinite(v.d) ? { n: v.n, e: v.e, d: v.d } : null,
    yawRad: num(state.yawRad),
    armed: state.armed,
    mode: state.mode.name,
    landed: state.landedState === 'on-ground',
    batteryRemaining: battery === null ? null : Math.min(1, Math.max(0, battery)),
    batteryVoltageV: num(state.batteryVoltageV) === null ? null : Math.max(0, state.batteryVoltageV),
    gpsFixType: Number.isInteger(state.gpsFixType) ? Math.min(255, Math.max(0, state.gpsFixType)) : 0,
    missionPhase: ctx.missionPhase,
    taskId: ctx.taskId,
    policyVersion: ctx.policyVersion,
    linkQuality: {
      autopilotUp: ctx.autopilotUp,
      heartbeatAgeMs: num(state.heartbeatAgeMs),
      mavlinkFrames: counters?.parse.frames ?? 0,
      mavlinkBadCrc: counters?.parse.badCrc ?? 0,
      autopilotLinkDowns: ctx.autopilotLinkDowns,
    },
    uplink: { queuedRecords: ctx.queue.queuedRecords, queueBytes: ctx.queue.queueBytes },
  };
}
