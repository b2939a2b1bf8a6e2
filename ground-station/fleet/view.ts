/**
 * A drone as the JSON API shows it (GET /api/fleet): identity, online, last state, health, battery, task, policy.
 */
import type { DroneHealth, DroneState, FleetRegistry } from './registry.js';

export interface DroneView {
  readonly id: string;
  readonly online: boolean;
  readonly sessionId: string | null;
  readonly policyVersion: string | null;
  readonly health: DroneHealth;
  /** 0..1, or null when unknown. */
  readonly battery: number | null;
  /** The task the station gave it (open order), else the one the drone reports, else null. */
  readonly task: string | null;
  readonly state: {
    readonly mode: string;
    readonly armed: boolean;
    readonly landed: boolean;
    readonly missionPhase: string;
    readonly geo: { latDeg: number; lonDeg: number; altAmslM: number } | null;
    readonly velocityNedMS: { n: number; e: number; d: number } | null;
    readonly gpsFixType: number;
    /** Drone clock of the telemetry (Unix ms) and its age when served (ms, by the station's receive time). */
    readonly timeMs: number;
    readonly ageMs: number;
  } | null;
  readonly home: { latDeg: number; lonDeg: number; altAmslM: number } | null;
  readonly capabilities: readonly string[];
  readonly lastSeenMs: number | null;
  readonly birthAtMs: number | null;
  readonly eventsMissed: number;
}

export function droneView(
  registry: FleetRegistry,
  d: DroneState,
  nowMs: number,
  assignedTask: string | null = null,
): DroneView {
  const t = d.telemetry;
  return {
    id: d.id,
    online: d.online,
    sessionId: d.sessionId,
    policyVersion: d.policyVersion,
    health: registry.health(d, nowMs),
    battery: t?.batteryRemaining ?? null,
    task: assignedTask ?? t?.taskId ?? null,
    state: t
      ? {
          mode: t.mode,
          armed: t.armed,
          landed: t.landed,
          missionPhase: t.missionPhase,
          geo: t.geo,
          velocityNedMS: t.velocityNedMS,
          gpsFixType: t.gpsFixType,
          timeMs: t.timeMs,
          ageMs: d.telemetryAtMs === null ? 0 : Math.max(0, nowMs - d.telemetryAtMs),
        }
      : null,
    home: d.home,
    capabilities: d.capabilities,
    lastSeenMs: d.lastSeenMs,
    birthAtMs: d.birthAtMs,
    eventsMissed: d.eventsMissed,
  };
}
