/**
 * One valid payload per channel (and per command kind): what docs/protocol.md shows and what tests on both sides
 * start from. Built fresh on every call so a test may mutate its copy.
 */
import { OBSERVATION_SIZE } from '../policy/index.js';
import type { PayloadByChannel } from './codec.js';
import type { Command } from './station-payloads.js';
import { PROTOCOL_VERSION } from './version.js';

const T = 1_760_000_000_000;
const schema = PROTOCOL_VERSION;

export function exampleCommands(): Command[] {
  const base = { schema, timeMs: T };
  return [
    {
      ...base,
      commandId: 'c-1',
      kind: 'assign-delivery',
      taskId: 'task-7',
      pickupNeM: [0, 0],
      dropNeM: [120, -40],
      dropGeo: { latDeg: 47.3988, lonDeg: 8.545 },
      cruiseAltM: 25,
      releaseBy: 'hover',
    },
    { ...base, commandId: 'c-2', kind: 'abort', reason: 'customer cancelled' },
    { ...base, commandId: 'c-3', kind: 'return' },
    { ...base, commandId: 'c-4', kind: 'land' },
    { ...base, commandId: 'c-5', kind: 'emergency-stop', reason: 'operator' },
    {
      ...base,
      commandId: 'c-6',
      kind: 'set-airspace',
      airspace: {
        geofence: {
          polygonNeM: [
            { n: -500, e: -500 },
            { n: 500, e: -500 },
            { n: 500, e: 500 },
            { n: -500, e: 500 },
          ],
          ceilingM: 120,
        },
        noFlyZones: [{ kind: 'cylinder', id: 'school', centerNeM: { n: 200, e: 100 }, radiusM: 50 }],
        altitudeFloorM: 10,
      },
    },
    { ...base, commandId: 'c-7', kind: 'activate-policy', version: 'v3', sha256: 'a'.repeat(64) },
  ];
}

export function examplePayloads(): PayloadByChannel {
  const home = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };
  return {
    status: {
      schema,
      kind: 'birth',
      id: 'd1',
      online: true,
      sessionId: 's-m1a2b3-0f0f',
      policyVersion: 'sha256:0123456789abcdef',
      home,
      capabilities: ['assign-delivery', 'abort', 'return', 'land', 'emergency-stop', 'set-airspace'],
      timeMs: T,
      telemetryHz: 2,
    },
    telemetry: {
      schema,
      id: 'd1',
      sessionId: 's-m1a2b3-0f0f',
      timeMs: T,
      seq: 1,
      positionNedM: { n: 10, e: -5, d: -20 },
      geo: { latDeg: 47.39783, lonDeg: 8.54553, altAmslM: 508 },
      velocityNedMS: { n: 3, e: 0.5, d: 0 },
      yawRad: 0.2,
      armed: true,
      mode: 'OFFBOARD',
      landed: false,
      batteryRemaining: 0.82,
      batteryVoltageV: 15.9,
      gpsFixType: 3,
      missionPhase: 'cruise-out',
      taskId: 'task-7',
      policyVersion: 'sha256:0123456789abcdef',
      linkQuality: {
        autopilotUp: true,
        heartbeatAgeMs: 120,
        mavlinkFrames: 5120,
        mavlinkBadCrc: 0,
        autopilotLinkDowns: 0,
      },
      uplink: { queuedRecords: 0, queueBytes: 0 },
    },
    events: {
      schema,
      id: 'd1',
      sessionId: 's-m1a2b3-0f0f',
      seq: 4,
      timeMs: T,
      kind: 'mission',
      missionEvent: 'outcome',
      phase: 'done',
      taskId: 'task-7',
      outcome: 'delivered',
    },
    metrics: {
      schema,
      id: 'd1',
      sessionId: 's-m1a2b3-0f0f',
      seq: 2,
      timeMs: T,
      windowS: 10,
      episodes: 1,
      successes: 1,
      returnSum: 12.5,
      ticks: 500,
      policyTicks: 420,
      interventionsByLayer: { sanity: 0, box: 12, barrier: 3, shield: 0, monitor: 0 },
      violations: 0,
      policyFaults: 0,
      inferenceLatencyUs: { p50: 18, p99: 40 },
      policyVersion: 'sha256:0123456789abcdef',
      uplink: {
        queueDrops: { experience: 0, metrics: 0 },
        queuedRecords: 0,
        queueBytes: 0,
        telemetryDropped: 0,
        commandsDropped: 0,
        commandsRefused: 0,
      },
    },
    experience: {
      schema,
      id: 'd1',
      sessionId: 's-m1a2b3-0f0f',
      seq: 1,
      timeMs: T,
      policyVersion: 'sha256:0123456789abcdef',
      records: [
        {
          timestampUs: T * 1000,
          episode: 3,
          step: 0,
          observation: Array.from({ length: OBSERVATION_SIZE }, (_, i) => i / OBSERVATION_SIZE),
          action: [0.1, -0.2, 0],
          filteredAction: [0.1, -0.2, 0],
          reward: 0.5,
          cost: 0,
          interventions: { sanity: false, box: false, barrier: false, shield: false, monitor: false },
          done: false,
          truncated: false,
          policyVersion: 'sha256:0123456789abcdef',
        },
      ],
    },
    commands: exampleCommands()[0],
    acks: { schema, id: 'd1', commandId: 'c-1', kind: 'assign-delivery', result: 'accepted', timeMs: T },
    estop: { schema, commandId: 'fleet-stop-1', timeMs: T, reason: 'intruder aircraft' },
    airspace: {
      schema,
      version: 3,
      timeMs: T,
      origin: home,
      airspace: {
        geofence: {
          polygonNeM: [
            { n: -800, e: -800 },
            { n: 800, e: -800 },
            { n: 800, e: 800 },
            { n: -800, e: 800 },
          ],
          ceilingM: 100,
        },
        noFlyZones: [],
        altitudeFloorM: 8,
      },
    },
    traffic: {
      schema,
      timeMs: T,
      drones: [
        {
          id: 'd1',
          geo: { latDeg: 47.39783, lonDeg: 8.54553, altAmslM: 508 },
          velocityNedMS: { n: 3, e: 0, d: 0 },
          timeMs: T,
        },
        {
          id: 'd2',
          geo: { latDeg: 47.398, lonDeg: 8.546, altAmslM: 510 },
          velocityNedMS: { n: 0, e: -2, d: 0 },
          timeMs: T,
        },
      ],
    },
  };
}
