/**
 * One valid payload per channel (and per command kind): what docs/protocol.md shows and what tests on both sides
 * start from. Built fresh on every call so a test may mutate its copy.
 */
import { createHash } from 'node:crypto';
import { OBSERVATION_SIZE } from '../policy/index.js';
import type { PayloadByChannel } from './codec.js';
import type { DroneEvent } from './drone-payloads.js';
import type { BundleChunk, Command } from './station-payloads.js';
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
    { ...base, commandId: 'c-7', kind: 'activate-policy', version: 'sha256:4f2a9c0d11e8b7a6', sha256: 'a'.repeat(64) },
    {
      ...base,
      commandId: 'c-8',
      kind: 'install-policy',
      version: 'sha256:4f2a9c0d11e8b7a6',
      sha256: 'a'.repeat(64),
      totalBytes: 61_234,
      url: 'http://station.local:8080/api/policies/sha256:4f2a9c0d11e8b7a6/bundle',
      transferId: 't-4f2a9c0d-1',
    },
    { ...base, commandId: 'c-9', kind: 'shadow-policy', version: 'sha256:4f2a9c0d11e8b7a6', enabled: true },
    { ...base, commandId: 'c-10', kind: 'revert-policy', reason: 'rollout rolled back' },
  ];
}

/** Chunk 0 of a 61 234-byte bundle (2 chunks of 48 KiB); `data` holds 12 bytes here to stay readable. */
function exampleBundleChunk(): BundleChunk {
  const data = Buffer.from('AERIEBDL\u0000\u0000\u0004\u0000', 'latin1');
  return {
    schema,
    transferId: 't-4f2a9c0d-1',
    version: 'sha256:4f2a9c0d11e8b7a6',
    sha256: 'a'.repeat(64),
    totalBytes: 61_234,
    index: 0,
    count: 2,
    chunkSha256: createHash('sha256').update(data).digest('hex'),
    data: data.toString('base64'),
  };
}

/** Policy events of a bundle transfer, install and activation, in the order a drone sends them. */
export function examplePolicyEvents(): DroneEvent[] {
  const base = { schema, id: 'd1', sessionId: 's-m1a2b3-0f0f', timeMs: T, kind: 'policy' as const };
  const version = 'sha256:4f2a9c0d11e8b7a6';
  return [
    {
      ...base,
      seq: 10,
      action: 'bundle-progress',
      policyVersion: version,
      commandId: 'c-8',
      transferId: 't-4f2a9c0d-1',
      count: 2,
      receivedChunks: 1,
      missingChunks: [1],
    },
    { ...base, seq: 11, action: 'installed', policyVersion: version, commandId: 'c-8', transferId: 't-4f2a9c0d-1' },
    {
      ...base,
      seq: 12,
      action: 'refused',
      policyVersion: version,
      commandId: 'c-8',
      code: 'BUNDLE_PX4_PARAMS',
      reason: 'autopilot parameters differ: MPC_XY_VEL_MAX is 8, expected 12',
    },
    { ...base, seq: 13, action: 'shadow-started', policyVersion: version, commandId: 'c-9' },
    { ...base, seq: 14, action: 'activated', policyVersion: version, detail: 'candidate slot is now active' },
    { ...base, seq: 15, action: 'rolled-back', policyVersion: 'sha256:0123456789abcdef', reason: 'monitor tripped' },
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
      policy: {
        active: { version: 'sha256:0123456789abcdef', sha256: 'b'.repeat(64) },
        candidate: { version: 'sha256:4f2a9c0d11e8b7a6', sha256: 'a'.repeat(64) },
        previous: { version: 'sha256:fedcba9876543210' },
        shadow: 'sha256:4f2a9c0d11e8b7a6',
      },
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
      shadow: {
        policyVersion: 'sha256:4f2a9c0d11e8b7a6',
        ticks: 420,
        divergenceMeanMps: 0.31,
        divergenceP95Mps: 0.9,
        wouldBeInterventionTicks: 17,
        wouldBeInterventionsByLayer: { sanity: 0, box: 14, barrier: 3, shield: 0, monitor: 0 },
      },
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
    bundle: exampleBundleChunk(),
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
