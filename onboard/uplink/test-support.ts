/**
 * Helpers for the uplink's tests only: the brokers of test-broker.ts, a fake runtime port (the one unit-test edge:
 * no autopilot, no policy), quiet ticks and a test configuration. Not exported from index.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Airspace } from '../../shared/geo/index.js';
import { topics } from '../../shared/protocol/index.js';
import { newVehicleState, type VehicleState } from '../link/index.js';
import type { MissionOutcome, MissionPhase, MissionPlan, MissionRequest } from '../mission/index.js';
import type { Neighbour } from '../safety/index.js';
import { parseUplinkConfig, type UplinkConfig } from './config.js';
import type { MissionHandle, UplinkRuntimePort, UplinkTick } from './ports.js';
import { Subscriber, TcpProxy, type TestBroker, uniqueId } from './test-broker.js';
import { Uplink } from './uplink.js';

export * from './test-broker.js';

/** A temporary data directory; `cleanup` removes it. */
export function tempDataDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-uplink-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An uplink configuration for tests: a fresh drone id, quick reconnects. */
export function testConfig(url: string, dataDir: string, overrides: Record<string, unknown> = {}): UplinkConfig {
  return parseUplinkConfig({
    mqttUrl: url,
    id: uniqueId('d'),
    dataDir,
    telemetryHz: 10,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    keepaliveS: 5,
    connectTimeoutMs: 2000,
    ...overrides,
  });
}

export class FakeMission implements MissionHandle {
  phase: MissionPhase = 'preflight';
  outcome: MissionOutcome | null = null;
  readonly requests: MissionRequest[] = [];
  constructor(readonly plan: MissionPlan) {}
  request(req: MissionRequest): void {
    this.requests.push(req);
  }
}

/** The runtime as the uplink sees it, with a home and what the uplink asked of it recorded. */
export class FakeRuntime implements UplinkRuntimePort {
  readonly state: VehicleState = newVehicleState();
  up = true;
  linkDowns = 0;
  currentMission: FakeMission | null = null;
  readonly flown: MissionPlan[] = [];
  estops = 0;
  readonly airspaces: Airspace[] = [];
  readonly neighbours: (readonly Neighbour[])[] = [];
  version = 'sha256:00112233aabbccdd';
  private readonly listeners: ((t: UplinkTick) => void)[] = [];

  constructor(
    home: { latDeg: number; lonDeg: number; altAmslM: number } | null = {
      latDeg: 47.397742,
      lonDeg: 8.545594,
      altAmslM: 488,
    },
  ) {
    this.state.home = home;
    this.state.positionNedM = { n: 1, e: 2, d: -3 };
    this.state.velocityNedMS = { n: 0.5, e: 0, d: 0 };
    this.state.yawRad = 0.1;
    this.state.batteryRemaining = 0.9;
    this.state.batteryVoltageV = 16;
    this.state.gpsFixType = 3;
    this.state.heartbeatAgeMs = 50;
    if (home) this.state.globalPosition = { ...home };
  }

  vehicle(): VehicleState {
    return this.state;
  }
  autopilotLink() {
    return { up: this.up, linkDowns: this.linkDowns };
  }
  mission(): MissionHandle | null {
    return this.currentMission;
  }
  fly(plan: MissionPlan): void {
    this.flown.push(plan);
    this.currentMission = new FakeMission(plan);
  }
  triggerEmergencyStop(): void {
    this.estops++;
  }
  setAirspace(airspace: Airspace): void {
    this.airspaces.push(airspace);
  }
  setNeighbours(neighbours: readonly Neighbour[]): void {
    this.neighbours.push(neighbours);
  }
  policyVersion(): string {
    return this.version;
  }
  onTick(listener: (t: UplinkTick) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }
  emit(tick: UplinkTick): void {
    for (const l of this.listeners) l(tick);
  }
}

/** A quiet control tick, with what a test wants changed. */
export function quietTick(
  overrides: Omit<Partial<UplinkTick>, 'decision'> & { decision?: Partial<UplinkTick['decision']> } = {},
): UplinkTick {
  const { decision, ...rest } = overrides;
  return {
    phase: 'cruise-out',
    events: [],
    policy: { ok: true, latencyUs: 20 },
    ...rest,
    decision: {
      layers: { sanity: false, box: false, barrier: false, shield: false, monitor: false },
      interventions: [],
      policyFault: false,
      error: null,
      barrier: { breached: [] },
      monitor: { transition: null },
      ...decision,
    },
  };
}

export interface Rig {
  readonly id: string;
  readonly proxy: TcpProxy;
  readonly sub: Subscriber;
  readonly runtime: FakeRuntime;
  readonly uplink: Uplink;
}

/**
 * A fake runtime with an uplink (not started) reaching `broker` through a proxy, and a subscriber on the drone's
 * topics. What it creates is torn down by the returned cleanups (run them in reverse).
 */
export async function makeRig(
  broker: TestBroker,
  cleanups: (() => Promise<void> | void)[],
  overrides: Record<string, unknown> = {},
): Promise<Rig> {
  const proxy = new TcpProxy(broker.host, broker.port);
  await proxy.start();
  const data = tempDataDir();
  const runtime = new FakeRuntime();
  const config = testConfig(proxy.url, data.dir, overrides);
  const sub = await Subscriber.connect(broker.url, [`aerie/v1/drones/${config.id}/#`]);
  const uplink = Uplink.open(config, runtime);
  cleanups.push(data.cleanup);
  cleanups.push(() => proxy.stop());
  cleanups.push(async () => {
    // Leave nothing retained on a shared broker.
    await sub.publish(topics.droneStatus(config.id), '', true);
    await sub.close();
  });
  cleanups.push(() => uplink.stop(0));
  return { id: config.id, proxy, sub, runtime, uplink };
}
