/**
 * Test helper (not built): a fake drone side at the rollout manager's unit edge. Drones with policy slots that obey
 * install / shadow / activate / revert as the onboard side does (activation refused unless landed and disarmed, a
 * bundle refused with a code when told to), answering with policy events; and metrics windows flown per version
 * from seeded models.
 */
import { dirname, join, resolve } from 'node:path';
import { readPrivateKeyFile, signBundle } from '../../../shared/bundle/index.js';
import type { Result } from '../../../shared/errors.js';
import type { Rng } from '../../../shared/random/index.js';
import { simulateWindow, type VersionModel } from '../analysis/index.js';
import type { FleetDrone, MetricsInput, PolicyEventInput, RolloutDronePort } from '../manager.js';
import { packFromFiles } from '../policy-pack.js';
import { PASSING, policyFolder } from '../test-support.js';

export interface FakeDrone {
  id: string;
  online: boolean;
  landed: boolean;
  armed: boolean;
  active: string;
  candidate: string | null;
  previous: string | null;
  shadow: string | null;
  /** Refuse every bundle with this BUNDLE_* code. */
  refuseBundle?: string;
  /** Answer rollout commands 'unsupported'. */
  unsupported?: boolean;
  /** Refuse this many activations for now (as a drone still finishing a delivery does). */
  refuseActivations?: number;
}

const SENT: Result<void, string> = { ok: true, value: undefined };

export class FakeDroneSide {
  readonly drones = new Map<string, FakeDrone>();
  readonly events: PolicyEventInput[] = [];
  readonly acks: { droneId: string; kind: string; result: string }[] = [];
  readonly sent: { droneId: string; kind: string; version?: string }[] = [];

  constructor(ids: readonly string[], baseline: string) {
    for (const id of ids) {
      this.drones.set(id, {
        id,
        online: true,
        landed: true,
        armed: false,
        active: baseline,
        candidate: null,
        previous: null,
        shadow: null,
      });
    }
  }

  fleet = (): FleetDrone[] =>
    [...this.drones.values()].map((d) => ({
      id: d.id,
      online: d.online,
      landed: d.landed,
      armed: d.armed,
      policyVersion: d.active,
    }));

  /** The drone when it takes the command; otherwise what the send returns (offline) or null (answered unsupported). */
  private reach(id: string, kind: string): FakeDrone | Result<void, string> {
    const d = this.drones.get(id);
    if (!d?.online) return { ok: false, reason: `${id} offline` };
    if (d.unsupported) {
      this.acks.push({ droneId: id, kind, result: 'unsupported' });
      return SENT;
    }
    return d;
  }

  readonly port: RolloutDronePort = {
    install: async (id, version) => {
      this.sent.push({ droneId: id, kind: 'install', version });
      const d = this.reach(id, 'install-policy');
      if ('ok' in d) return d;
      if (d.refuseBundle) {
        this.events.push({
          id,
          action: 'refused',
          policyVersion: version,
          code: d.refuseBundle,
          reason: 'test refusal',
        });
      } else {
        d.candidate = version;
        this.events.push({ id, action: 'installed', policyVersion: version });
      }
      return SENT;
    },
    shadow: async (id, version, enabled) => {
      this.sent.push({ droneId: id, kind: enabled ? 'shadow-on' : 'shadow-off', version });
      const d = this.reach(id, 'shadow-policy');
      if ('ok' in d) return d;
      d.shadow = enabled && d.candidate === version ? version : null;
      this.events.push({ id, action: enabled ? 'shadow-started' : 'shadow-stopped', policyVersion: version });
      return SENT;
    },
    activate: async (id, version) => {
      this.sent.push({ droneId: id, kind: 'activate', version });
      const d = this.reach(id, 'activate-policy');
      if ('ok' in d) return d;
      if ((d.refuseActivations ?? 0) > 0) {
        d.refuseActivations = (d.refuseActivations ?? 0) - 1;
        this.events.push({ id, action: 'refused', policyVersion: version, reason: 'delivery in progress' });
        return SENT;
      }
      if (!d.landed || d.armed || d.candidate !== version) {
        this.events.push({ id, action: 'refused', policyVersion: version, reason: 'not landed and disarmed' });
        return SENT;
      }
      d.previous = d.active;
      d.active = version;
      d.candidate = null;
      d.shadow = null;
      this.events.push({ id, action: 'activated', policyVersion: version });
      return SENT;
    },
    revert: async (id) => {
      this.sent.push({ droneId: id, kind: 'revert' });
      const d = this.reach(id, 'revert-policy');
      if ('ok' in d) return d;
      if (!d.previous || !d.landed || d.armed) return SENT;
      const from = d.active;
      d.candidate = from;
      d.active = d.previous;
      d.previous = null;
      this.events.push({ id, action: 'rolled-back', policyVersion: from });
      return SENT;
    },
  };

  /** Hand the queued events and acks to the manager. */
  deliver(
    m: {
      onPolicyEvent(e: PolicyEventInput, nowMs: number): void;
      onAck(id: string, a: { commandId: string; kind?: string; result: string }, nowMs: number): void;
    },
    nowMs: number,
  ): void {
    for (const e of this.events.splice(0)) m.onPolicyEvent(e, nowMs);
    for (const a of this.acks.splice(0)) m.onAck(a.droneId, { commandId: 'c', kind: a.kind, result: a.result }, nowMs);
  }

  /** One metrics window per online drone, from the model of the version it flies (plus shadow ticks when on). */
  windows(rng: Rng, models: Readonly<Record<string, VersionModel>>, nowMs: number): MetricsInput[] {
    const out: MetricsInput[] = [];
    for (const d of this.drones.values()) {
      if (!d.online) continue;
      const w = simulateWindow(rng, models[d.active], d.id, d.active, nowMs);
      const shadowModel = d.shadow ? models[d.shadow] : undefined;
      out.push({
        id: d.id,
        timeMs: nowMs,
        episodes: w.episodes,
        successes: w.successes,
        returnSum: w.returnSum,
        ticks: w.ticks,
        policyTicks: w.policyTicks,
        interventionsByLayer: { box: w.interventions },
        violations: w.violations,
        policyFaults: w.policyFaults,
        policyVersion: d.active,
        ...(d.shadow && shadowModel
          ? {
              shadow: {
                policyVersion: d.shadow,
                ticks: w.ticks,
                wouldBeInterventionTicks: Math.round(w.ticks * shadowModel.interventionsPerTick),
                divergenceMeanMps: 0.2,
              },
            }
          : {}),
      });
    }
    return out;
  }
}

/**
 * Register a candidate in a test station's policy registry: a distinct policy with a passing SITL report, packed and
 * signed with the station's own release key (made beside its database), POSTed to /api/policies. Its version.
 */
export async function registerCandidate(station: { httpUrl: string }, dbFile: string, token: string): Promise<string> {
  const folder = policyFolder(PASSING);
  const packed = await packFromFiles({
    policyPath: folder.policyPath,
    evalReportPath: join(folder.dir, 'eval-report.json'),
  });
  const key = readPrivateKeyFile(join(dirname(resolve(dbFile)), 'keys', 'release.key'));
  const res = await fetch(`${station.httpUrl}/api/policies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: signBundle(packed.bytes, key),
  });
  const body = (await res.json()) as { version?: string; message?: string };
  if (!res.ok || !body.version) throw new Error(`candidate not registered (HTTP ${res.status}): ${body.message}`);
  return body.version;
}
