/**
 * The fleet registry: which drones exist, which are online, and what each last said. Pure: payloads and the receive
 * time go in, transitions come out; the station's MQTT client feeds it and acts on the transitions.
 *
 * Online/offline follows Sparkplug-style session pairing: a birth opens a session; a death closes it only if it
 * carries that session's id, so a late death of an old session (a will the broker publishes after the drone already
 * reconnected) never marks the newer session offline.
 */
import type { DroneBirth, DroneDeath, DroneStatus, Telemetry } from '../../shared/protocol/index.js';
import type { DroneRecord } from '../storage/index.js';

export type HealthLevel = 'ok' | 'warning' | 'critical' | 'stale' | 'offline';

export interface DroneHealth {
  readonly level: HealthLevel;
  /** Short machine-readable reasons, e.g. 'battery-low', 'autopilot-down', 'no-telemetry'. */
  readonly reasons: readonly string[];
}

export interface DroneState {
  readonly id: string;
  online: boolean;
  sessionId: string | null;
  policyVersion: string | null;
  home: { latDeg: number; lonDeg: number; altAmslM: number } | null;
  capabilities: readonly string[];
  telemetryHz: number | null;
  birthAtMs: number | null;
  /** The birth's own timestamp (drone clock), to refuse an older session's birth replayed late. */
  birthTimeMs: number | null;
  deathAtMs: number | null;
  deathReason: string | null;
  /** Station receive time of the last message of any kind. */
  lastSeenMs: number | null;
  telemetry: Telemetry | null;
  telemetryAtMs: number | null;
  /** Events: last seq of the current session, and events found missing by a gap. */
  lastEventSeq: number | null;
  eventsMissed: number;
}

export interface RegistryOptions {
  /** Telemetry older than this (receive time) makes an online drone 'stale'. */
  readonly staleAfterMs: number;
  /** Below this state of charge the drone is 'warning'. */
  readonly batteryWarn: number;
  /** Below this, 'critical'. */
  readonly batteryCritical: number;
}

export const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = {
  staleAfterMs: 5000,
  batteryWarn: 0.25,
  batteryCritical: 0.12,
};

export type StatusChange =
  | {
      readonly kind: 'online';
      readonly id: string;
      readonly sessionId: string;
      readonly previousSessionId: string | null;
    }
  | { readonly kind: 'offline'; readonly id: string; readonly sessionId: string; readonly reason: string }
  | { readonly kind: 'duplicate'; readonly id: string }
  | { readonly kind: 'stale-death'; readonly id: string; readonly sessionId: string }
  | { readonly kind: 'stale-birth'; readonly id: string; readonly sessionId: string };

function blank(id: string): DroneState {
  return {
    id,
    online: false,
    sessionId: null,
    policyVersion: null,
    home: null,
    capabilities: [],
    telemetryHz: null,
    birthAtMs: null,
    birthTimeMs: null,
    deathAtMs: null,
    deathReason: null,
    lastSeenMs: null,
    telemetry: null,
    telemetryAtMs: null,
    lastEventSeq: null,
    eventsMissed: 0,
  };
}

export class FleetRegistry {
  private readonly drones = new Map<string, DroneState>();
  private readonly dirty = new Set<string>();
  readonly options: RegistryOptions;

  constructor(options: Partial<RegistryOptions> = {}) {
    this.options = { ...DEFAULT_REGISTRY_OPTIONS, ...options };
  }

  /** Seed from the database at start: every drone offline until its retained birth arrives again. */
  restore(records: readonly DroneRecord[]): void {
    for (const r of records) {
      const d = blank(r.id);
      d.sessionId = r.sessionId;
      d.policyVersion = r.policyVersion;
      d.home = r.home ? { ...r.home } : null;
      d.capabilities = Array.isArray(r.capabilities) ? (r.capabilities as string[]) : [];
      d.birthAtMs = r.birthAtMs;
      d.lastSeenMs = r.lastSeenMs;
      this.drones.set(r.id, d);
    }
  }

  get(id: string): DroneState | undefined {
    return this.drones.get(id);
  }

  all(): DroneState[] {
    return [...this.drones.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.drones.size;
  }

  onlineCount(): number {
    let n = 0;
    for (const d of this.drones.values()) if (d.online) n++;
    return n;
  }

  private state(id: string): DroneState {
    let d = this.drones.get(id);
    if (!d) {
      d = blank(id);
      this.drones.set(id, d);
    }
    return d;
  }

  /** Apply a birth or a death received at `nowMs`. The topic's drone id must equal the payload's (checked by the caller). */
  applyStatus(status: DroneStatus, nowMs: number): StatusChange {
    return status.kind === 'birth' ? this.applyBirth(status, nowMs) : this.applyDeath(status, nowMs);
  }

  private applyBirth(b: DroneBirth, nowMs: number): StatusChange {
    const d = this.state(b.id);
    d.lastSeenMs = nowMs;
    if (d.sessionId === b.sessionId && d.online) {
      // The same birth again (retained copy after our reconnect): refresh what it says, no transition.
      this.fillBirth(d, b);
      return { kind: 'duplicate', id: b.id };
    }
    if (d.sessionId !== b.sessionId && d.birthTimeMs !== null && b.timeMs < d.birthTimeMs) {
      return { kind: 'stale-birth', id: b.id, sessionId: b.sessionId };
    }
    const previousSessionId = d.sessionId;
    d.online = true;
    d.sessionId = b.sessionId;
    d.birthAtMs = nowMs;
    d.deathAtMs = null;
    d.deathReason = null;
    if (previousSessionId !== b.sessionId) {
      // A new session's telemetry and event sequence start again; the old one would show a stale task and position.
      // The same session back after a broken connection goes on counting, so a gap across the outage still shows.
      d.telemetry = null;
      d.telemetryAtMs = null;
      d.lastEventSeq = null;
    }
    this.fillBirth(d, b);
    this.dirty.add(b.id);
    return { kind: 'online', id: b.id, sessionId: b.sessionId, previousSessionId };
  }

  private fillBirth(d: DroneState, b: DroneBirth): void {
    d.policyVersion = b.policyVersion;
    d.home = b.home ? { ...b.home } : null;
    d.capabilities = [...b.capabilities];
    d.telemetryHz = b.telemetryHz ?? null;
    d.birthTimeMs = b.timeMs;
  }

  private applyDeath(death: DroneDeath, nowMs: number): StatusChange {
    const d = this.state(death.id);
    d.lastSeenMs = nowMs;
    if (d.sessionId !== null && d.sessionId !== death.sessionId) {
      return { kind: 'stale-death', id: death.id, sessionId: death.sessionId };
    }
    if (!d.online && d.sessionId === death.sessionId) return { kind: 'duplicate', id: death.id };
    d.online = false;
    d.sessionId = death.sessionId;
    d.deathAtMs = nowMs;
    d.deathReason = death.reason ?? 'connection lost';
    this.dirty.add(death.id);
    return { kind: 'offline', id: death.id, sessionId: death.sessionId, reason: d.deathReason };
  }

  /** Apply telemetry received at `nowMs`. Out-of-order (older seq of the same session) is ignored: false. */
  applyTelemetry(t: Telemetry, nowMs: number): boolean {
    const d = this.state(t.id);
    const prev = d.telemetry;
    if (prev && t.seq <= prev.seq && (t.sessionId ?? null) === (prev.sessionId ?? null)) return false;
    d.telemetry = t;
    d.telemetryAtMs = nowMs;
    d.lastSeenMs = nowMs;
    if (t.policyVersion) d.policyVersion = t.policyVersion;
    return true;
  }

  /** Track event sequence numbers; returns how many events were found missing (0 usually). */
  noteEvent(id: string, seq: number, sessionId: string | undefined, nowMs: number): number {
    const d = this.state(id);
    d.lastSeenMs = nowMs;
    if (sessionId !== undefined && d.sessionId !== null && sessionId !== d.sessionId) return 0; // replay of an old session
    let missed = 0;
    if (d.lastEventSeq !== null && seq > d.lastEventSeq + 1) missed = seq - d.lastEventSeq - 1;
    if (d.lastEventSeq === null || seq > d.lastEventSeq) d.lastEventSeq = seq;
    d.eventsMissed += missed;
    return missed;
  }

  noteSeen(id: string, nowMs: number): void {
    const d = this.drones.get(id);
    if (d) d.lastSeenMs = nowMs;
  }

  health(d: DroneState, nowMs: number): DroneHealth {
    if (!d.online) return { level: 'offline', reasons: [d.deathReason ?? 'no-birth'] };
    const t = d.telemetry;
    if (!t || d.telemetryAtMs === null) return { level: 'stale', reasons: ['no-telemetry'] };
    if (nowMs - d.telemetryAtMs > this.options.staleAfterMs) return { level: 'stale', reasons: ['telemetry-stale'] };
    const critical: string[] = [];
    const warning: string[] = [];
    if (!t.linkQuality.autopilotUp) critical.push('autopilot-down');
    if (t.batteryRemaining !== null) {
      if (t.batteryRemaining < this.options.batteryCritical) critical.push('battery-critical');
      else if (t.batteryRemaining < this.options.batteryWarn) warning.push('battery-low');
    } else warning.push('battery-unknown');
    if (t.gpsFixType < 3) warning.push('gps-no-3d-fix');
    if (critical.length > 0) return { level: 'critical', reasons: [...critical, ...warning] };
    if (warning.length > 0) return { level: 'warning', reasons: warning };
    return { level: 'ok', reasons: [] };
  }

  /** Records of drones whose birth/death changed since the last call (and, with `all`, every drone), for storage. */
  takeDirty(nowMs: number, all = false): DroneRecord[] {
    const ids = all ? [...this.drones.keys()] : [...this.dirty];
    this.dirty.clear();
    return ids.map((id) => toRecord(this.drones.get(id)!, nowMs));
  }
}

export function toRecord(d: DroneState, nowMs: number): DroneRecord {
  const t = d.telemetry;
  return {
    id: d.id,
    online: d.online,
    sessionId: d.sessionId,
    policyVersion: d.policyVersion,
    home: d.home,
    capabilities: d.capabilities,
    lastState: t
      ? {
          timeMs: t.timeMs,
          geo: t.geo,
          mode: t.mode,
          armed: t.armed,
          landed: t.landed,
          batteryRemaining: t.batteryRemaining,
          missionPhase: t.missionPhase,
          taskId: t.taskId,
        }
      : null,
    birthAtMs: d.birthAtMs,
    lastSeenMs: d.lastSeenMs,
    updatedAtMs: nowMs,
  };
}
