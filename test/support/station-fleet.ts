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

/** Pads are this far apart, east-west, centred on the depot: every pad within 5 m of it, where parcels are loaded. */
export const PAD_SPACING_M = 4.5;

/**
 * What the children run with. Tolerances for several processes on one loaded machine (as the onboard child-process
 * scenarios use: a simulator hiccup must not read as stale state), a separation that fits pads 4.5 m apart (small
 * drones), and an uplink that reports often and reconnects fast, so the scenarios need not wait long.
 */
export const CHILD_CONFIG = {
  control: { policyDeadlineMs: 50, stallThresholdMs: 1000 },
  safety: { stateStaleMs: 1500, stateLostLandMs: 5000, separationM: 2, separationMarginM: 1 },
  uplink: { telemetryHz: 4, metricsWindowS: 2, reconnectMinMs: 200, reconnectMaxMs: 1000 },
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
  /** Station configuration overrides. */
  readonly station?: Record<string, unknown>;
}

export interface StationFleet {
  readonly t: TestStation;
  readonly depot: GeoPoint;
  readonly sim: TestVehicles;
  readonly fleet: SitlFleet;
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
      droneIds: droneNames,
      postgres: true,
      raw: {
        depots: `e2e=${depot.latDeg},${depot.lonDeg},${depot.altAmslM}`,
        roundInterval: 0.5,
        cruiseAlt: 12,
        staleAfter: 10,
        alertInterval: 1,
        trafficRate: 2,
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

    // Pads east-west around the depot: vehicle 0 west of it, the next ones every PAD_SPACING_M to the east.
    const firstPad = nedToGeo(depot, { n: 0, e: (-(options.drones - 1) / 2) * PAD_SPACING_M, d: 0 });
    const sim = await startTestVehicles(options.drones, {
      portKey: options.portKey,
      timing: 'realtime',
      speed: options.speed,
      estimatorReadyS: 3,
      simulatedOnly: true,
      home: firstPad,
      homeSpacingM: PAD_SPACING_M,
      // Return at cruise height rather than PX4's default 60 m, should a failsafe bring one home.
      params: { RTL_RETURN_ALT: 17 },
    });
    cleanups.push(() => sim.close());
    const fleet = sim.fleet as SitlFleet;
    const watches = sim.vehicles.map((_, i) => new VehicleWatch(fleet, i).start());
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
      const args = ['onboard', '--mavlink', sim.vehicles[i].url, '--id', id, '--config', config, '--policy', policy];
      args.push('--time-scale', String(options.speed), '--mqtt-url', droneMqttUrl, '--data-dir', dataDirs[i]);
      args.push('--no-stdin-control');
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

    const pads = ids.map((_, i) => nedToGeo(firstPad, { n: 0, e: i * PAD_SPACING_M, d: 0 }));
    let stopped: Promise<ExitStatus[]> | null = null;
    return {
      t,
      depot,
      sim,
      fleet,
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
