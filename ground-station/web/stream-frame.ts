/**
 * What the dashboard's live stream carries, as pure functions: a compact view of each drone on the fleet's local
 * NE-metre frame (rounded, so a drone sitting on its pad does not change every frame), and the delta between two
 * frames (drones changed or added, ids gone). The stream sends one delta per batch interval, not per telemetry
 * message.
 */
import { type GeoPoint, geoToNed } from '../../shared/geo/index.js';
import type { Telemetry } from '../../shared/protocol/index.js';

/** One drone as the map and its panel show it. Positions are metres from the fleet origin (the first depot). */
export interface DroneFrame {
  readonly id: string;
  readonly online: boolean;
  /** 'ok' | 'warning' | 'critical' | 'stale' | 'offline' (the registry's health level). */
  readonly health: string;
  /** North and east of the fleet origin, m (0.1 m); null before the first position. */
  readonly northM: number | null;
  readonly eastM: number | null;
  /** Above the origin, m (0.1 m). */
  readonly altM: number | null;
  /** Heading, degrees 0..359 clockwise from north; null when unknown. */
  readonly headingDeg: number | null;
  /** Ground speed, m/s (0.1). */
  readonly speedMps: number | null;
  readonly mode: string | null;
  readonly armed: boolean;
  readonly landed: boolean;
  readonly phase: string | null;
  /** 0..100 %, whole percent. */
  readonly batteryPct: number | null;
  readonly policyVersion: string | null;
  readonly task: string | null;
  /** Autopilot link: heartbeat keeps coming, last heartbeat age (ms, to 100 ms), link losses since start. */
  readonly link: { readonly up: boolean; readonly heartbeatAgeMs: number | null; readonly downs: number } | null;
  /** Age of the last telemetry at the station, s (to 0.5 s). */
  readonly telemetryAgeS: number | null;
}

/** The parts of a registry drone the frame reads (FleetRegistry's DroneState satisfies it). */
export interface DroneSource {
  readonly id: string;
  readonly online: boolean;
  readonly policyVersion: string | null;
  readonly telemetry: Telemetry | null;
  readonly telemetryAtMs: number | null;
}

const round = (x: number, step: number): number => Math.round(x / step) * step;
const r1 = (x: number): number => Math.round(x * 10) / 10;

export function droneFrame(
  d: DroneSource,
  origin: GeoPoint,
  nowMs: number,
  extra: { health: string; task: string | null },
): DroneFrame {
  const t = d.telemetry;
  const ne = t?.geo ? geoToNed(origin, t.geo) : null;
  const v = t?.velocityNedMS ?? null;
  const yaw = t?.yawRad ?? null;
  return {
    id: d.id,
    online: d.online,
    health: extra.health,
    northM: ne ? r1(ne.n) : null,
    eastM: ne ? r1(ne.e) : null,
    altM: ne ? r1(-ne.d) : null,
    headingDeg: yaw === null ? null : (Math.round((yaw * 180) / Math.PI) + 360) % 360,
    speedMps: v ? r1(Math.hypot(v.n, v.e)) : null,
    mode: t?.mode ?? null,
    armed: t?.armed ?? false,
    landed: t?.landed ?? true,
    phase: t?.missionPhase ?? null,
    batteryPct: t?.batteryRemaining == null ? null : Math.round(t.batteryRemaining * 100),
    policyVersion: t?.policyVersion ?? d.policyVersion,
    task: extra.task ?? t?.taskId ?? null,
    link: t
      ? {
          up: t.linkQuality.autopilotUp,
          heartbeatAgeMs: t.linkQuality.heartbeatAgeMs === null ? null : round(t.linkQuality.heartbeatAgeMs, 100),
          downs: t.linkQuality.autopilotLinkDowns,
        }
      : null,
    telemetryAgeS: d.telemetryAtMs === null ? null : round(Math.max(0, nowMs - d.telemetryAtMs) / 1000, 0.5),
  };
}

export interface FleetDelta {
  /** Drones new or changed since the previous frame (all of them in a full frame). */
  readonly upsert: DroneFrame[];
  /** Ids no longer in the fleet. */
  readonly remove: string[];
  /** True when this delta replaces everything the page holds (first frame of a connection). */
  readonly full: boolean;
}

/** A stable text of a frame, to compare two frames of one drone cheaply. */
export const frameKey = (f: DroneFrame): string => JSON.stringify(f);

/**
 * The change from `previous` (id -> frameKey) to `next`; `previous` is updated in place so the caller keeps one map
 * per connection (or one for all connections that started together).
 */
export function fleetDelta(previous: Map<string, string>, next: readonly DroneFrame[], full: boolean): FleetDelta {
  const upsert: DroneFrame[] = [];
  const seen = new Set<string>();
  for (const f of next) {
    seen.add(f.id);
    const key = frameKey(f);
    if (full || previous.get(f.id) !== key) {
      upsert.push(f);
      previous.set(f.id, key);
    }
  }
  const remove: string[] = [];
  for (const id of previous.keys()) {
    if (!seen.has(id)) {
      remove.push(id);
      previous.delete(id);
    }
  }
  return { upsert, remove: full ? [] : remove, full };
}
