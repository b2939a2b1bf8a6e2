/**
 * What the rollout scenarios add to the station fleet: a release key pair (the station signs with it, the drones
 * trust its public half), candidate bundles packed and signed from model bytes with a passing SITL evaluation report
 * of that very model (the registry's gate), the models themselves (a good one that flies like the drones' own
 * go-to-goal policy but is another version, and a degraded one), and an order feeder that keeps the drones busy so
 * episodes come.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packFromFiles } from '../../ground-station/rollouts/policy-pack.js';
import { evalReportJson, PASSING } from '../../ground-station/rollouts/test-support.js';
import { generateReleaseKeyPair, signBundle, writeReleaseKeys } from '../../shared/bundle/index.js';
import {
  ACTION_SIZE,
  buildGoToGoalModel,
  buildMlpModel,
  GO_TO_GOAL_NAME,
  goToGoalWeights,
  METADATA_KEYS,
  OBSERVATION_SIZE,
} from '../../shared/policy/index.js';
import { policyVersionFromSha256 } from '../../shared/protocol/index.js';
import { nanNearGoalPolicyModel } from './onboard-models.js';
import { eventually, type StationFleet, startStationFleet } from './station-fleet.js';
import type { DroneViewJson } from './station-views.js';

export interface ReleaseKeys {
  /** Folder with release.key and release.pub: the station's --release-key is `keyFile`, drones' --trusted-keys `pubDir`. */
  readonly keyFile: string;
  readonly pubDir: string;
  readonly privateKeyPem: string;
}

export function releaseKeys(): ReleaseKeys {
  const root = mkdtempSync(join(tmpdir(), 'aerie-release-'));
  const pair = generateReleaseKeyPair();
  writeReleaseKeys(join(root, 'station'), pair);
  const pubDir = join(root, 'trusted');
  mkdirSync(pubDir);
  writeFileSync(join(pubDir, 'release.pub'), pair.publicKeyPem);
  return { keyFile: join(root, 'station', 'release.key'), pubDir, privateKeyPem: pair.privateKeyPem };
}

/** The version a drone reports for a policy file (what the registry keys the bundle by). */
export const versionOfModel = (model: Uint8Array): string =>
  policyVersionFromSha256(createHash('sha256').update(model).digest('hex'));

/** The go-to-goal controller under another name: flies the same, is another version. */
export function renamedGoToGoalModel(tag: string): Uint8Array {
  return buildMlpModel({
    kind: 'policy',
    inputSize: OBSERVATION_SIZE,
    layers: [{ weights: goToGoalWeights(), bias: new Float32Array(ACTION_SIZE), activation: 'none' }],
    outputActivation: 'clip',
    graphName: `aerie_go_to_goal_${tag}`,
    docString: `go-to-goal, candidate ${tag} (test)`,
    metadata: { [METADATA_KEYS.name]: `${GO_TO_GOAL_NAME}-${tag}` },
  });
}

/**
 * A degraded candidate: flies towards the goal, then answers NaN within `radiusM` of it - a policy fault every tick
 * there, which the safety filter brakes to a hover and the monitor escalates.
 */
export const faultyNearGoalModel = (radiusM = 15): Uint8Array =>
  nanNearGoalPolicyModel({ radiusM, speedFraction: 0.6 });

/** A signed bundle of `model` with a passing SITL evaluation report of that model. */
export async function signedBundle(model: Uint8Array, keys: ReleaseKeys, label: string): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-candidate-'));
  const policyPath = join(dir, 'policy.onnx');
  writeFileSync(policyPath, model);
  const sha = createHash('sha256').update(model).digest('hex');
  const evalReportPath = join(dir, 'eval-report.json');
  writeFileSync(evalReportPath, JSON.stringify(evalReportJson(sha, PASSING)));
  const packed = await packFromFiles({ policyPath, evalReportPath, label });
  return signBundle(packed.bytes, keys.privateKeyPem);
}

/** Keeps `perDrone` orders open per drone (queued or flying) by POSTing short deliveries around the depot. */
export class OrderFeeder {
  private timer: NodeJS.Timeout | null = null;
  private n = 0;
  posted = 0;
  constructor(
    private readonly api: <T>(path: string, body?: unknown) => Promise<{ status: number; body: T }>,
    private readonly drones: number,
    private readonly distanceM = 35,
  ) {}

  start(everyMs = 1000): this {
    const tick = async () => {
      const open = await this.api<{ orders: unknown[] }>('/api/deliveries?status=queued,assigned,in-flight&limit=100');
      const want = this.drones + 1 - (open.body.orders?.length ?? 0);
      for (let k = 0; k < want; k++) {
        const angle = (this.n++ * 2.4) % (2 * Math.PI);
        const res = await this.api('/api/deliveries', {
          drop: { northM: this.distanceM * Math.cos(angle), eastM: this.distanceM * Math.sin(angle) },
          weightKg: 0.5,
        });
        if (res.status === 201) this.posted++;
      }
    };
    const loop = () => {
      this.timer = setTimeout(() => {
        void tick()
          .catch(() => undefined)
          .finally(() => {
            if (this.timer) loop();
          });
      }, everyMs);
    };
    loop();
    return this;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export interface RolloutFleet {
  readonly f: StationFleet;
  readonly keys: ReleaseKeys;
  /** The version the drones fly at start (their --policy, the go-to-goal model). */
  readonly baseline: string;
}

/**
 * The station fleet with rollouts: the station signs with `keys`, every drone trusts it and keeps policy slots in a
 * folder of its own. Resolves once every drone is online, homed, reporting and on the baseline.
 */
export async function startRolloutFleet(options: {
  portKey: string;
  depotOffsetKm: { n: number; e: number };
  drones: number;
  speed: number;
  station?: Record<string, unknown>;
  readyMs?: number;
}): Promise<RolloutFleet> {
  const keys = releaseKeys();
  const slotsRoot = mkdtempSync(join(tmpdir(), 'aerie-slots-'));
  const f = await startStationFleet({
    portKey: options.portKey,
    depotOffsetKm: options.depotOffsetKm,
    drones: options.drones,
    speed: options.speed,
    station: { releaseKey: keys.keyFile, seedPolicy: false, ...options.station },
    childArgs: (_i, id) => ['--policy-dir', join(slotsRoot, id), '--trusted-keys', keys.pubDir],
  });
  const baseline = versionOfModel(buildGoToGoalModel());
  try {
    await eventually(
      async () => {
        const drones = await fleetView(f);
        const up = drones.filter(
          (d) =>
            d.online &&
            d.home !== null &&
            d.state !== null &&
            d.state.gpsFixType >= 3 &&
            d.policyVersion === baseline &&
            (d.health.level === 'ok' || d.health.level === 'warning'),
        );
        return up.length === f.ids.length ? up : undefined;
      },
      'every drone online, homed, reporting, on the baseline',
      options.readyMs ?? 60_000,
    );
  } catch (err) {
    const log = f.log();
    await f.close();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return { f, keys, baseline };
}

/** This run's drones as GET /api/fleet shows them. */
export async function fleetView(f: StationFleet): Promise<DroneViewJson[]> {
  return (await f.api<{ drones: DroneViewJson[] }>('/api/fleet')).body.drones.filter((d) => f.ids.includes(d.id));
}

/** POST a signed bundle of `model` to the station's registry; its version. */
export async function publishCandidate(
  httpUrl: string,
  token: string,
  model: Uint8Array,
  keys: ReleaseKeys,
  label: string,
): Promise<string> {
  const res = await fetch(`${httpUrl}/api/policies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: await signedBundle(model, keys, label),
  });
  const body = (await res.json()) as { version?: string; message?: string };
  if (!res.ok || !body.version)
    throw new Error(`candidate refused by the registry (HTTP ${res.status}): ${body.message}`);
  return body.version;
}

export interface RolloutJson {
  id: string;
  state: string;
  candidate: string;
  baseline: string;
  stepIndex: number;
  share: number;
  drones: Record<string, string>;
  pending: Record<string, { kind: string; attempts: number }>;
  refused: Record<string, string>;
  shadow: { ticks: number; wouldBeInterventionTicks: number };
  analysis: {
    decision: string;
    reasons: string[];
    candidate: { episodes: number; policyFaults: number };
    baseline: { episodes: number };
  } | null;
  history: { from: string | null; to: string; reason: string }[];
}

/** A compact line per rollout state and drone for failure messages. */
export function describeRollout(r: RolloutJson | undefined, drones: readonly DroneViewJson[]): string {
  if (!r) return 'no rollout';
  const hist = r.history.map((h) => `${h.from ?? '-'}->${h.to}: ${h.reason}`).join('\n  ');
  const ds = drones
    .map((d) => `${d.id}: ${r.drones[d.id]} flies ${d.policyVersion} ${d.state?.missionPhase} armed=${d.state?.armed}`)
    .join('\n  ');
  return `rollout ${r.id} ${r.state} step ${r.stepIndex} share ${r.share}\n  ${hist}\n  analysis ${JSON.stringify(r.analysis?.reasons)} cand ${JSON.stringify(r.analysis?.candidate)} base ${JSON.stringify(r.analysis?.baseline)}\n  shadow ${JSON.stringify(r.shadow)} pending ${JSON.stringify(r.pending)} refused ${JSON.stringify(r.refused)}\n  ${ds}`;
}
