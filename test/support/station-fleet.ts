/**
 * The whole system for the ground-station scenarios: the station in-process (startStation on free ports; Mosquitto
 * when MQTT_URL is set, else its embedded aedes broker with a login per drone made through the credentials API;
 * PostgreSQL when DATABASE_URL is set), a realtime simulated fleet (aerie sitl, in-process) and one compiled
 * `aerie onboard` child process per vehicle flying it at the same time scale, over MQTT - directly, or through a
 * TCP proxy the scenario can take away. Every vehicle's true state is recorded for assertions.
 *
 * A shared Mosquitto carries other test files' stations and drones too: each scenario puts its depot (and so its
 * fleet) tens of kilometres from every other one, so no station finds another's drones worth an order, and
 * everything read back is filtered by this run's drone ids.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startTestStation, type TestStation } from '../../ground-station/test-support.js';
import { TcpProxy } from '../../onboard/uplink/test-broker.js';
import { type GeoPoint, geoToNed, nedToGeo } from '../../shared/geo/index.js';
import { topics } from '../../shared/protocol/index.js';
import type { SitlFleet } from '../../sitl/index.js';
import { type AerieChild, type ExitStatus, spawnAerie } from './onboard-cli.js';
import { goToGoalModelFile } from './onboard-models.js';
import { VehicleWatch } from './onboard-watch.js';
import { startTestVehicles, type TestVehicles } from './vehicles.js';

/** PX4 SITL's home; scenario depots are placed relative to it. */
const REFERENCE: GeoPoint = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };

/**
 * Pads on a circle of this radius around the depot, evenly spaced (17 m apart for three): drones are loaded at the
 * depot from their pads, and two that each land up to their 2 m arrival radius short of their pads still keep the
 * onboard default separation (5 m and a 3 m margin).
 */
export const PAD_RADIUS_M = 10;

/**
 * What the children run with. Tolerances for several processes on one loaded machine (as the onboard child-process
 * scenarios use: a simulator hiccup must not read as stale state), and an uplink that reports often and reconnects
 * fast. Telemetry at its most (10 Hz) and the station's traffic at 10 Hz (below) keep neighbour positions about as
 * fresh in simulated time, at 4x, as the defaults keep them in real time.
 */
export const CHILD_CONFIG = {
  control: { policyDeadlineMs: 50, stallThresholdMs: 1000 },
  safety: { stateStaleMs: 1500, stateLostLandMs: 5000 },
  uplink: { telemetryHz: 10, metricsWindowS: 2, reconnectMinMs: 200, reconnectMaxMs: 1000 },
};

export interface StationFleetOptions {
  /** The test file (import.meta.url): picks its vehicle ports. */
  readonly portKey: string;
  /** Where this scenario's depot is, km north and east of PX4 SITL's home (keep scenarios 100+ km apart). */
  readonly depotOffsetKm: { readonly n: number; readonly e: number };
  readonly drones: number;
  /** Simulator speed and the children's --time-scale. */
  readonly speed: number;
  /** Drones reach the broker through a TcpProxy the scenario can stop. */
  readonly viaProxy?: boolean;
  /** More drone logins (names without the run's prefix) with no process behind them, for raw clients. */
  readonly extraLogins?: readonly string[];
  /** Station configuration overrides. */
  readonly station?: Record<string, unknown>;
  /** More arguments for drone i's `aerie onboard` (e.g. --policy-dir and --trusted-keys). */
  readonly childArgs?: (i: number, id: string) => readonly string[];
}

export interface StationFleet {
  readonly t: TestStation;
  readonly depot: GeoPoint;
  /** One simulated fleet of one vehicle per drone (each at its own pad). */
  readonly sims: readonly TestVehicles[];
  /** fleets[i] flies vehicle 0 for ids[i]. */
  readonly fleets: readonly SitlFleet[];
  /** Drone ids, vehicle i flown by ids[i]. */
  readonly ids: readonly string[];
  readonly children: readonly AerieChild[];
  readonly watches: readonly VehicleWatch[];
  readonly dataDirs: readonly string[];
  readonly proxy: TcpProxy | null;
  /** The URL the drones use. */
  readonly droneMqttUrl: string;
  /** GET (or POST with a body) on the station's API with the operator token; the JSON body. */
  api<T = Record<string, unknown>>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Vehicle i's home (its pad), degrees and metres AMSL. */
  padOf(i: number): GeoPoint;
  indexOf(droneId: string): number;
  /** The closest vehicle i came to `geo` horizontally over the recording, m. */
  closestApproachM(i: number, geo: { latDeg: number; lonDeg: number }): number;
  /** Stop the children the way an operator does (SIGTERM: death published, queue drained), in parallel. */
  stopDrones(): Promise<ExitStatus[]>;
  /** For failure messages: each child's last log lines and stdout records. */
  log(lines?: number): string;
  close(): Promise<void>;
}

export async function startStationFleet(options: StationFleetOptions): Promise<StationFleet> {
  const depot = nedToGeo(REFERENCE, { n: options.depotOffsetKm.n * 1000, e: options.depotOffsetKm.e * 1000, d: 0 });
  const cleanups: (() => Promise<void> | void)[] = [];
  const unwind = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // Best effort: the rest must still be released.
      }
    }
  };
  try {
    const droneNames = Array.from({ length: options.drones }, (_, i) => `d${i + 1}`);
    const t = await startTestStation({
      droneIds: [...droneNames, ...(options.extraLogins ?? [])],
      postgres: true,
      raw: {
        depots: `e2e=${depot.latDeg},${depot.lonDeg},${depot.altAmslM}`,
        roundInterval: 0.5,
        cruiseAlt: 12,
        staleAfter: 10,
        alertInterval: 1,
        trafficRate: 10,
        ...options.station,
      },
    });
    cleanups.push(() => t.close());
    const ids = droneNames.map((n) => t.prefix + n);

    let proxy: TcpProxy | null = null;
    let droneMqttUrl = t.station.mqttUrl;
    if (options.viaProxy) {
      const target = new URL(t.station.mqttUrl);
      const p = new TcpProxy(target.hostname, Number(target.port || 1883));
      await p.start();
      cleanups.push(() => p.stop());
      proxy = p;
      droneMqttUrl = p.url;
    }

    // One single-vehicle fleet per pad (a fleet spaces its vehicles along one line only).
    const pads = droneNames.map((_, i) => {
      const bearing = (2 * Math.PI * i) / options.drones;
      return nedToGeo(depot, { n: PAD_RADIUS_M * Math.cos(bearing), e: PAD_RADIUS_M * Math.sin(bearing), d: 0 });
    });
    const sims: TestVehicles[] = [];
    cleanups.push(() => Promise.all(sims.map((s) => s.close())).then(() => undefined));
    for (const [i, pad] of pads.entries()) {
      sims.push(
        await startTestVehicles(1, {
          portKey: `${options.portKey}#pad${i}`,
          timing: 'realtime',
          speed: options.speed,
          estimatorReadyS: 3,
          simulatedOnly: true,
          home: pad,
          seed: 1 + i,
          // Return at cruise height rather than PX4's default 60 m, should a failsafe bring one home.
          params: { RTL_RETURN_ALT: 17 },
        }),
      );
    }
    const fleets = sims.map((s) => s.fleet as SitlFleet);
    const watches = fleets.map((fleet) => new VehicleWatch(fleet, 0).start());
    cleanups.push(() => {
      for (const w of watches) w.stop();
    });

    const dir = mkdtempSync(join(tmpdir(), 'aerie-station-e2e-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'onboard.json');
    writeFileSync(config, JSON.stringify(CHILD_CONFIG));
    if (t.externalMqtt) {
      // The broker outlives this run: leave no retained status (births, deaths) of these drones behind. (Runs after
      // the children are gone: cleanups unwind in reverse.)
      cleanups.push(async () => {
        const c = await mqtt.connectAsync(t.station.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000 });
        for (const id of ids) await c.publishAsync(topics.droneStatus(id), '', { qos: 1, retain: true });
        await c.endAsync();
      });
    }
    const policy = goToGoalModelFile();
    const dataDirs = ids.map((id) => join(dir, id));
    const children = ids.map((id, i) => {
      const args = [
        'onboard',
        '--mavlink',
        sims[i].vehicles[0].url,
        '--id',
        id,
        '--config',
        config,
        '--policy',
        policy,
      ];
      args.push('--time-scale', String(options.speed), '--mqtt-url', droneMqttUrl, '--data-dir', dataDirs[i]);
      args.push('--no-stdin-control');
      if (options.childArgs) args.push(...options.childArgs(i, id));
      if (!t.externalMqtt) {
        const passwordFile = join(dir, `${id}.password`);
        writeFileSync(passwordFile, `${t.passwords[id]}\n`, { mode: 0o600 });
        args.push('--mqtt-username', id, '--mqtt-password-file', passwordFile);
      }
      return spawnAerie(args);
    });
    cleanups.push(async () => {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
    });

    let stopped: Promise<ExitStatus[]> | null = null;
    return {
      t,
      depot,
      sims,
      fleets,
      ids,
      children,
      watches,
      dataDirs,
      proxy,
      droneMqttUrl,
      async api<T>(path: string, body?: unknown) {
        const res = await t.api(path, body === undefined ? {} : { body });
        return { status: res.status, body: (await res.json()) as T };
      },
      padOf: (i) => pads[i],
      indexOf(droneId) {
        const i = ids.indexOf(droneId);
        if (i < 0) throw new Error(`${droneId} is not one of this run's drones (${ids.join(', ')})`);
        return i;
      },
      closestApproachM(i, geo) {
        const target = geoToNed(pads[i], { ...geo, altAmslM: pads[i].altAmslM });
        let best = Number.POSITIVE_INFINITY;
        for (const s of watches[i].samples) {
          best = Math.min(best, Math.hypot(s.positionNedM[0] - target.n, s.positionNedM[1] - target.e));
        }
        return best;
      },
      stopDrones() {
        stopped ??= Promise.all(
          children.map(async (c) => {
            c.kill('SIGTERM');
            const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
            const status = await c.exited;
            clearTimeout(timer);
            return status;
          }),
        );
        return stopped;
      },
      log(lines = 25) {
        return ids
          .map((id, i) => {
            const c = children[i];
            const tail = c.stderrTail().split('\n').slice(-lines).join('\n');
            return `--- ${id} (exit ${JSON.stringify(c.exitStatus())})\nstdout:\n${c.stdoutLines.slice(-lines).join('\n')}\nstderr:\n${tail}`;
          })
          .join('\n');
      },
      close: unwind,
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** Poll `check` (async allowed) every `everyMs` until it returns a value other than undefined; throw after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
