/**
 * The fleet-wide airspace the station publishes (retained on `aerie/v1/fleet/airspace`): a geofence and no-fly
 * zones in NE metres and altitudes relative to an origin (the first depot unless the operator gives one). Kept in
 * the store under AIRSPACE_STATE_KEY, so a restart publishes the same version again; every change bumps the version
 * (drones apply a version once). Orders whose pickup or drop lies outside the geofence or inside a zone are not
 * flyable: the API refuses them and the dispatcher fails queued ones when the airspace changes under them.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AerieError, type Result } from '../../shared/errors.js';
import {
  AIRSPACE_SCHEMA,
  type Airspace,
  type GeoPoint,
  geoToNed,
  pointInPolygon,
  zoneClearance,
} from '../../shared/geo/index.js';
import type { Logger } from '../../shared/log/index.js';
import { FLEET_AIRSPACE_SCHEMA, type FleetAirspace, PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import type { RequestIssue } from '../deliveries/index.js';
import type { StationStore } from '../storage/index.js';

export const AIRSPACE_STATE_KEY = 'airspace';

/** What an operator sends (PUT /api/airspace, or the --airspace file): the airspace and, optionally, its origin. */
export const AIRSPACE_REQUEST_SCHEMA = z
  .object({ airspace: AIRSPACE_SCHEMA, origin: FLEET_AIRSPACE_SCHEMA.shape.origin.optional() })
  .strict();

export interface AirspaceRequest {
  readonly airspace: Airspace;
  readonly origin?: GeoPoint;
}

/** Validate an operator's airspace; the issues name each bad path (zod's message). */
export function parseAirspaceRequest(body: unknown): Result<AirspaceRequest, RequestIssue[]> {
  const r = AIRSPACE_REQUEST_SCHEMA.safeParse(body);
  if (!r.success) {
    return {
      ok: false,
      reason: r.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
    };
  }
  return {
    ok: true,
    value: { airspace: r.data.airspace as Airspace, ...(r.data.origin ? { origin: r.data.origin } : {}) },
  };
}

/**
 * Read an airspace file: either `{ "airspace": {...}, "origin"?: {...} }` (the PUT body) or a bare airspace
 * (`{ "geofence": ..., "noFlyZones": [...] }`, as `aerie onboard --airspace` reads), relative to the fleet origin.
 */
export function readAirspaceFile(file: string): AirspaceRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AerieError('CONFIG_INVALID_VALUE', `--airspace ${file}: ${(err as Error).message}`, { file });
  }
  const body = raw !== null && typeof raw === 'object' && 'airspace' in raw ? raw : { airspace: raw };
  const r = parseAirspaceRequest(body);
  if (!r.ok) {
    const first = r.reason[0];
    throw new AerieError('CONFIG_INVALID_VALUE', `--airspace ${file}: ${first.path}: ${first.message}`, { file });
  }
  return r.value;
}

/**
 * Why a point cannot be flown to under `msg` (outside the geofence, inside a no-fly zone), or null when it can.
 * Zones count whatever their vertical band: a drone descends through every altitude to drop or land there.
 */
export function pointRefusal(
  msg: Pick<FleetAirspace, 'origin' | 'airspace'> | null,
  point: { latDeg: number; lonDeg: number },
): string | null {
  if (!msg) return null;
  const ned = geoToNed(msg.origin, { ...point, altAmslM: msg.origin.altAmslM });
  const p = { n: ned.n, e: ned.e };
  const fence = msg.airspace.geofence;
  if (fence && !pointInPolygon(p, fence.polygonNeM)) return 'outside the fleet geofence';
  for (const zone of msg.airspace.noFlyZones) {
    if (zoneClearance(p, zone).clearanceM <= 0) return `inside no-fly zone ${zone.id}`;
  }
  return null;
}

/** Why an order (its pickup and drop) cannot be flown under `msg`, or null. */
export function orderRefusal(
  msg: Pick<FleetAirspace, 'origin' | 'airspace' | 'version'> | null,
  order: { pickupGeo: { latDeg: number; lonDeg: number }; dropGeo: { latDeg: number; lonDeg: number } },
): { path: 'drop' | 'pickupDepot'; message: string } | null {
  const drop = pointRefusal(msg, order.dropGeo);
  if (drop) return { path: 'drop', message: `drop point is ${drop} (airspace v${msg?.version ?? 0})` };
  const pickup = pointRefusal(msg, order.pickupGeo);
  if (pickup) return { path: 'pickupDepot', message: `pickup depot is ${pickup} (airspace v${msg?.version ?? 0})` };
  return null;
}

/** The stored state, if it is a valid fleet airspace (anything else is logged and ignored). */
function storedAirspace(raw: unknown, logger: Logger): FleetAirspace | null {
  if (raw === undefined || raw === null) return null;
  const r = FLEET_AIRSPACE_SCHEMA.safeParse(raw);
  if (r.success) return r.data as FleetAirspace;
  logger.warn({ reason: r.error.issues[0]?.message }, 'stored airspace unreadable; ignored');
  return null;
}

export interface AirspaceDeps {
  readonly store: Pick<StationStore, 'putState' | 'getState'>;
  /** Publish retained on the fleet airspace topic. */
  readonly publish: (msg: FleetAirspace) => Promise<Result<void, string>>;
  /** The origin when an operator gives none: the fleet frame origin (first depot). */
  readonly defaultOrigin: GeoPoint;
  readonly logger: Logger;
}

export class StationAirspace {
  private readonly d: AirspaceDeps;
  private msg: FleetAirspace | null = null;
  private serial: Promise<unknown> = Promise.resolve();
  /** Publications that failed (link down): the next change or start publishes again. */
  publishFailures = 0;

  constructor(deps: AirspaceDeps) {
    this.d = deps;
  }

  /** The airspace in force, as published; null when none was ever set. */
  current(): FleetAirspace | null {
    return this.msg;
  }

  /** Load the stored airspace (at start). */
  async load(): Promise<FleetAirspace | null> {
    this.msg = storedAirspace(await this.d.store.getState(AIRSPACE_STATE_KEY), this.d.logger);
    return this.msg;
  }

  /**
   * Take up a newer stored airspace (another station on the same database changed it); the one in force otherwise.
   * Cheap (one small read): the station calls it before each round and each order check.
   */
  async refresh(): Promise<FleetAirspace | null> {
    const stored = storedAirspace(await this.d.store.getState(AIRSPACE_STATE_KEY), this.d.logger);
    if (stored && stored.version > (this.msg?.version ?? 0)) this.msg = stored;
    return this.msg;
  }

  /**
   * Make `request` the fleet airspace: stored with the next version (after the stored one, which another station
   * on the same database may have moved on), then published. Identical to the one in force: nothing changes.
   */
  set(request: AirspaceRequest, nowMs: number): Promise<{ airspace: FleetAirspace; changed: boolean }> {
    const run = this.serial.then(async () => {
      const stored = storedAirspace(await this.d.store.getState(AIRSPACE_STATE_KEY), this.d.logger);
      const origin = request.origin ?? this.d.defaultOrigin;
      if (stored && sameAirspace(stored, request.airspace, origin)) {
        this.msg = stored;
        return { airspace: stored, changed: false };
      }
      const version = Math.max(stored?.version ?? 0, this.msg?.version ?? 0) + 1;
      const msg: FleetAirspace = {
        schema: PROTOCOL_VERSION,
        version,
        timeMs: nowMs,
        origin: { latDeg: origin.latDeg, lonDeg: origin.lonDeg, altAmslM: origin.altAmslM },
        airspace: AIRSPACE_SCHEMA.parse(request.airspace),
      };
      await this.d.store.putState(AIRSPACE_STATE_KEY, msg, nowMs);
      this.msg = msg;
      this.d.logger.info(
        { version, zones: msg.airspace.noFlyZones.length, geofence: msg.airspace.geofence !== null },
        'fleet airspace set',
      );
      await this.publish();
      return { airspace: msg, changed: true };
    });
    this.serial = run.catch(() => undefined);
    return run;
  }

  /** Publish the airspace in force (retained), if any. */
  async publish(): Promise<Result<void, string> | null> {
    const msg = this.msg;
    if (!msg) return null;
    const r = await this.d.publish(msg);
    if (!r.ok) {
      this.publishFailures++;
      this.d.logger.warn({ version: msg.version, reason: r.reason }, 'fleet airspace not published');
    }
    return r;
  }

  /** Why an order cannot be flown under the airspace in force, or null. */
  orderRefusal(order: Parameters<typeof orderRefusal>[1]): ReturnType<typeof orderRefusal> {
    return orderRefusal(this.msg, order);
  }
}

function sameAirspace(a: FleetAirspace, airspace: Airspace, origin: GeoPoint): boolean {
  const o = { latDeg: origin.latDeg, lonDeg: origin.lonDeg, altAmslM: origin.altAmslM };
  const ao = { latDeg: a.origin.latDeg, lonDeg: a.origin.lonDeg, altAmslM: a.origin.altAmslM };
  return JSON.stringify(ao) === JSON.stringify(o) && canonical(a.airspace) === canonical(airspace);
}

/** The airspace as the schema orders its keys, so equal airspaces compare equal. */
function canonical(airspace: Airspace): string {
  return JSON.stringify(AIRSPACE_SCHEMA.parse(airspace));
}
