/**
 * Vehicles for a scenario: a simulated fleet this helper starts on ports of its own (so parallel test files and
 * anything already on 14540/14580 do not collide), or, when AERIE_PX4_ENDPOINTS is set (comma-separated MAVLink
 * URLs such as udp://:14540,udp://:14541), those real PX4 SITL endpoints. Either way the scenario gets companion
 * URLs, a clock, and MAVLink test clients.
 */
import { createHash } from 'node:crypto';
import { isAerieError } from '../../shared/errors.js';
import { parseTransportUrl } from '../../shared/mavlink/index.js';
import { runRealtime, SitlFleet, type SitlFleetOptions, type SitlPorts } from '../../sitl/index.js';
import { LockstepClock, type TestClock, WallClock } from './clock.js';
import { type ClientOptions, MavlinkTestClient } from './mavlink-client.js';

export interface TestVehicle {
  readonly index: number;
  /** System id when known in advance (simulated); real PX4 tells it in its HEARTBEAT. */
  readonly sysid: number | null;
  /** What a companion opens to reach this vehicle (shared/mavlink transport URL). */
  readonly url: string;
}

export interface TestVehicles {
  readonly kind: 'sim' | 'px4';
  readonly vehicles: readonly TestVehicle[];
  /** The simulated fleet (null against real PX4): faults, counters and status for assertions. */
  readonly fleet: SitlFleet | null;
  readonly clock: TestClock;
  /** A companion-side client for vehicle i (closed with the rest by close()). */
  client(i: number, options?: ClientOptions): Promise<MavlinkTestClient>;
  close(): Promise<void>;
}

export interface StartOptions extends Partial<Omit<SitlFleetOptions, 'vehicles' | 'ports' | 'network'>> {
  /**
   * First port of this file's range. Default: derived from `portKey` (a hash of it picks one of many ranges above
   * 20000), or AERIE_TEST_BASE_PORT. The range holds onboard listen, onboard remote, GCS listen and GCS remote ports.
   */
  readonly basePort?: number;
  /** Usually the test file's name (import.meta.url): distinct files get distinct ranges. */
  readonly portKey?: string;
  /** 'lockstep' (default): time moves only while the scenario waits. 'realtime': the fleet runs at `speed`. */
  readonly timing?: 'lockstep' | 'realtime';
  readonly speed?: number;
  /** Ignore AERIE_PX4_ENDPOINTS and always simulate (tests of the simulator itself). */
  readonly simulatedOnly?: boolean;
  /** Real endpoints to use instead of AERIE_PX4_ENDPOINTS (same URL syntax). */
  readonly px4Endpoints?: readonly string[];
}

const RANGE_START = 20000;
const RANGE_END = 60000;
const TRIES = 8;

/** The ports of a fleet of `count` starting at `base`: four blocks of `count`. */
export function portsFrom(base: number, count: number): SitlPorts {
  return {
    onboardListenBase: base,
    onboardRemoteBase: base + count,
    gcsListenBase: base + 2 * count,
    gcsRemotePort: base + 3 * count,
  };
}

function baseFor(key: string, count: number, attempt: number): number {
  const span = 4 * count + 1;
  const slots = Math.floor((RANGE_END - RANGE_START) / span);
  const digest = createHash('sha256').update(`${key}#${attempt}`).digest();
  return RANGE_START + (digest.readUInt32BE(0) % slots) * span;
}

/** Endpoints from AERIE_PX4_ENDPOINTS, or null when it is not set. Throws on a malformed URL. */
export function px4EndpointsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const text = env.AERIE_PX4_ENDPOINTS?.trim();
  if (!text) return null;
  const urls = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const url of urls) parseTransportUrl(url);
  return urls;
}

export async function startTestVehicles(count: number, options: StartOptions = {}): Promise<TestVehicles> {
  const real = options.simulatedOnly ? null : options.px4Endpoints ? [...options.px4Endpoints] : px4EndpointsFromEnv();
  if (real !== null) return realVehicles(count, real);
  return simulatedVehicles(count, options);
}

async function realVehicles(count: number, urls: string[]): Promise<TestVehicles> {
  if (urls.length < count) {
    throw new Error(`AERIE_PX4_ENDPOINTS lists ${urls.length} endpoint(s); this scenario needs ${count}`);
  }
  const clock = new WallClock(1);
  const clients: MavlinkTestClient[] = [];
  const vehicles = urls.slice(0, count).map((url, index) => ({ index, sysid: null, url }));
  return {
    kind: 'px4',
    vehicles,
    fleet: null,
    clock,
    async client(i, clientOptions) {
      const c = await MavlinkTestClient.connect(vehicles[i].url, clock, { connectTimeoutS: 30, ...clientOptions });
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    },
  };
}

async function simulatedVehicles(count: number, options: StartOptions): Promise<TestVehicles> {
  const envBase = Number(process.env.AERIE_TEST_BASE_PORT);
  const key = `${options.portKey ?? 'default'}#${process.env.VITEST_POOL_ID ?? ''}`;
  let fleet: SitlFleet | null = null;
  let lastError: unknown;
  for (let attempt = 0; attempt < TRIES && fleet === null; attempt++) {
    const base =
      options.basePort !== undefined
        ? options.basePort + attempt * (4 * count + 1)
        : Number.isInteger(envBase) && envBase > 0
          ? envBase + attempt * (4 * count + 1)
          : baseFor(key, count, attempt);
    try {
      fleet = await SitlFleet.start({ ...options, vehicles: count, network: 'udp', ports: portsFrom(base, count) });
    } catch (err) {
      if (!isAerieError(err, 'PORT_IN_USE')) throw err;
      lastError = err;
    }
  }
  if (fleet === null) throw lastError;
  const sim = fleet;
  const timing = options.timing ?? 'lockstep';
  const abort = new AbortController();
  let running: Promise<void> | null = null;
  let clock: TestClock;
  if (timing === 'lockstep') {
    clock = new LockstepClock(sim);
  } else {
    const speed = options.speed ?? 1;
    clock = new WallClock(speed);
    running = runRealtime(sim, { speed, signal: abort.signal });
  }
  const clients: MavlinkTestClient[] = [];
  const vehicles = sim.endpoints.map((e) => ({ index: e.index, sysid: e.sysid, url: e.companionUrl }));
  return {
    kind: 'sim',
    vehicles,
    fleet: sim,
    clock,
    async client(i, clientOptions) {
      const c = await MavlinkTestClient.connect(vehicles[i].url, clock, {
        targetSystem: vehicles[i].sysid,
        ...clientOptions,
      });
      clients.push(c);
      return c;
    },
    async close() {
      abort.abort();
      await running;
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await sim.close();
    },
  };
}
