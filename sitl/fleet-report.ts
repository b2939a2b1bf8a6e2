/** What the fleet reports per vehicle: traffic counters and flight status, for tests and the dashboard. */
import { nedToGeo } from '../shared/geo/index.js';
import type { FaultyTransport } from './faults.js';
import type { SimVehicle, VehicleLinkShell } from './vehicle/index.js';

/** One link of a vehicle: its transport (with the fault filter) and its shell. */
export interface LinkBinding {
  readonly kind: 'onboard' | 'gcs';
  readonly transport: FaultyTransport;
  readonly shell: VehicleLinkShell;
}

export interface VehicleCounters {
  framesIn: number;
  framesOut: number;
  /** Frames that failed their CRC, payloads that would not decode, handlers that refused garbage. */
  badFrames: number;
  /** Frames with a message id nobody knows. */
  unknownFrames: number;
  junkBytes: number;
  commands: number;
  offboardSetpoints: number;
  offboardRejected: number;
  paramRequests: number;
  droppedIn: number;
  droppedOut: number;
  corruptedIn: number;
  corruptedOut: number;
}

export interface VehicleStatus {
  readonly index: number;
  readonly sysid: number;
  readonly timeS: number;
  /** Mode as HEARTBEAT shows it (PX4 names: OFFBOARD, AUTO.LAND, ...). */
  readonly mode: string;
  /** The mode the user last selected (CURRENT_MODE intended_custom_mode). */
  readonly intendedMode: string;
  readonly armed: boolean;
  readonly landed: boolean;
  readonly failsafe: string;
  readonly estimatorReady: boolean;
  readonly gpsOk: boolean;
  readonly dead: boolean;
  readonly positionNedM: readonly [number, number, number];
  readonly velocityNedMS: readonly [number, number, number];
  readonly altitudeM: number;
  readonly latDeg: number;
  readonly lonDeg: number;
  readonly batteryRemaining: number;
  readonly batteryVoltageV: number;
}

export function vehicleCounters(bindings: readonly LinkBinding[]): VehicleCounters {
  const c: VehicleCounters = {
    framesIn: 0,
    framesOut: 0,
    badFrames: 0,
    unknownFrames: 0,
    junkBytes: 0,
    commands: 0,
    offboardSetpoints: 0,
    offboardRejected: 0,
    paramRequests: 0,
    droppedIn: 0,
    droppedOut: 0,
    corruptedIn: 0,
    corruptedOut: 0,
  };
  for (const b of bindings) {
    const lc = b.shell.link.counters;
    const sc = b.shell.counters;
    const fc = b.transport.faultCounters;
    c.framesIn += lc.parse.frames;
    c.framesOut += lc.messagesOut;
    c.badFrames += lc.parse.badCrc + lc.decodeErrors + sc.handlerErrors;
    c.unknownFrames += lc.parse.unknown;
    c.junkBytes += lc.parse.junkBytes;
    c.commands += sc.commands;
    c.offboardSetpoints += sc.offboardSetpoints;
    c.offboardRejected += sc.offboardRejected;
    c.paramRequests += sc.paramRequests;
    c.droppedIn += fc.droppedIn;
    c.droppedOut += fc.droppedOut;
    c.corruptedIn += fc.corruptedIn;
    c.corruptedOut += fc.corruptedOut;
  }
  return c;
}

export function vehicleStatus(v: SimVehicle, timeS: number): VehicleStatus {
  const c = v.commander;
  const b = v.body;
  const p = b.positionNedM;
  const g = nedToGeo(v.home, { n: p[0], e: p[1], d: p[2] });
  return {
    index: v.index,
    sysid: v.sysid,
    timeS,
    mode: displayName(c.navState),
    intendedMode: displayName(c.userMode),
    armed: c.armed,
    landed: b.landed[0] === 1,
    failsafe: c.failsafe.action,
    estimatorReady: c.estimatorReady,
    gpsOk: v.gpsOk,
    dead: v.dead,
    positionNedM: [p[0], p[1], p[2]],
    velocityNedMS: [b.velocityNedMS[0], b.velocityNedMS[1], b.velocityNedMS[2]],
    altitudeM: -p[2],
    latDeg: g.latDeg,
    lonDeg: g.lonDeg,
    batteryRemaining: b.batteryRemaining[0],
    batteryVoltageV: b.batteryVoltageV[0],
  };
}

/** PX4's name for a state as HEARTBEAT shows it (DESCEND shows as AUTO.LAND, TERMINATION as MANUAL). */
function displayName(state: string): string {
  if (state === 'DESCEND') return 'AUTO.LAND';
  if (state === 'TERMINATION') return 'MANUAL';
  return state;
}
