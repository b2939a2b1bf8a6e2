/**
 * Payloads a drone publishes: status (birth/death), telemetry, events, metrics, experience and command acks.
 * Objects accept unknown fields (a newer minor may add some) and strip them; required fields are the v1 contract.
 */
import { z } from 'zod';
import { EXPERIENCE_RECORD_SCHEMA } from '../experience/index.js';
import {
  countField,
  droneIdField,
  finiteField,
  geoField,
  idField,
  layerCountsField,
  nedField,
  percentilesField,
  policyVersionField,
  schemaField,
  seqField,
  sessionIdField,
  timeMsField,
} from './fields.js';

/** Command kinds a drone may list in its birth `capabilities` (and the station may send). */
export const COMMAND_KINDS = [
  'assign-delivery',
  'abort',
  'return',
  'land',
  'emergency-stop',
  'set-airspace',
  'activate-policy',
  'install-policy',
  'shadow-policy',
  'revert-policy',
] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

// ---- status (retained): birth and death ----

const policySlotField = z.object({
  version: policyVersionField,
  /** SHA-256 of the slot's bundle file (or of the model file for a policy not installed from a bundle). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
});

/** The drone's policy slots: what it flies, what is installed beside it, what it would revert to, what runs in shadow. */
export const POLICY_SLOTS_SCHEMA = z.object({
  active: policySlotField,
  candidate: policySlotField.optional(),
  previous: z.object({ version: policyVersionField }).optional(),
  /** The version running in shadow (the candidate's), when shadow mode is on. */
  shadow: policyVersionField.optional(),
});

export const BIRTH_SCHEMA = z.object({
  schema: schemaField,
  kind: z.literal('birth'),
  id: droneIdField,
  online: z.literal(true),
  sessionId: sessionIdField,
  policyVersion: policyVersionField,
  /** The drone's home (origin of its NED frame); null until the autopilot reports one (a new birth follows). */
  home: geoField.nullable(),
  /** What this drone accepts: command kinds and fleet channels (e.g. 'assign-delivery', 'fleet:traffic'). */
  capabilities: z.array(z.string().min(1).max(64)).max(64),
  timeMs: timeMsField,
  /** Telemetry rate this session publishes at (Hz). */
  telemetryHz: finiteField.min(0).max(100).optional(),
  /** Policy slots (drones with onboard rollout support); a new birth follows every change. */
  policy: POLICY_SLOTS_SCHEMA.optional(),
});

export const DEATH_SCHEMA = z.object({
  schema: schemaField,
  kind: z.literal('death'),
  id: droneIdField,
  online: z.literal(false),
  sessionId: sessionIdField,
  /** Set when the drone itself published the death (clean shutdown); absent in the last will. */
  timeMs: timeMsField.optional(),
  /** 'shutdown' on a clean stop; absent in the last will (the broker lost the connection). */
  reason: z.string().max(256).optional(),
});

export const STATUS_SCHEMA = z.discriminatedUnion('kind', [BIRTH_SCHEMA, DEATH_SCHEMA]);

// ---- telemetry (QoS 0, 1-10 Hz) ----

export const TELEMETRY_SCHEMA = z.object({
  schema: schemaField,
  id: droneIdField,
  sessionId: sessionIdField.optional(),
  timeMs: timeMsField,
  seq: seqField,
  /** NED metres from home; null until the autopilot reports a local position. */
  positionNedM: nedField.nullable(),
  geo: geoField.nullable(),
  velocityNedMS: nedField.nullable(),
  /** Heading, radians in [-pi, pi], 0 = north; null when unknown. */
  yawRad: finiteField.nullable(),
  armed: z.boolean(),
  /** PX4 mode name ('OFFBOARD', 'AUTO.LAND', ... 'UNKNOWN'). */
  mode: z.string().max(64),
  landed: z.boolean(),
  /** Battery charge left, 0..1; null when unknown. */
  batteryRemaining: finiteField.min(0).max(1).nullable(),
  batteryVoltageV: finiteField.min(0).nullable(),
  /** GPS_FIX_TYPE (0 no GPS, 1 no fix, 2 2D, 3 3D, 4 DGPS, 5 RTK float, 6 RTK fixed, ...). */
  gpsFixType: z.number().int().min(0).max(255),
  /** The delivery mission's phase ('idle' when none). */
  missionPhase: z.string().max(32),
  taskId: idField.nullable(),
  policyVersion: policyVersionField,
  linkQuality: z.object({
    /** The autopilot's heartbeat keeps coming. */
    autopilotUp: z.boolean(),
    /** Age of the autopilot's last heartbeat (ms); null when never seen. */
    heartbeatAgeMs: finiteField.min(0).nullable(),
    /** MAVLink frames received and frames with a bad CRC, since start. */
    mavlinkFrames: countField,
    mavlinkBadCrc: countField,
    /** Times the autopilot link was lost since start. */
    autopilotLinkDowns: countField,
  }),
  /** The uplink's store-and-forward backlog. */
  uplink: z.object({ queuedRecords: countField, queueBytes: countField }).optional(),
});

// ---- events (QoS 1, seq per session) ----

const eventBase = {
  schema: schemaField,
  id: droneIdField,
  /** The session that produced the event (events replayed after a restart keep theirs). */
  sessionId: sessionIdField.optional(),
  seq: seqField,
  timeMs: timeMsField,
};

export const MISSION_EVENT_KINDS = ['assigned', 'phase', 'released', 'command-refused', 'outcome'] as const;

/** What a `policy` event reports. */
export const POLICY_EVENT_ACTIONS = [
  /** A policy was loaded at start. */
  'loaded',
  /** A bundle transfer's state: chunks still missing (the station resends only those). */
  'bundle-progress',
  /** A bundle passed every check and sits in the candidate slot. */
  'installed',
  /** A bundle or an activation was refused; `reason` says why, `code` gives the BUNDLE_* code. */
  'refused',
  'activated',
  /** The drone went back to its previous policy (revert-policy, or its monitor tripped on a new candidate). */
  'rolled-back',
  'shadow-started',
  'shadow-stopped',
] as const;
export type PolicyEventAction = (typeof POLICY_EVENT_ACTIONS)[number];
export const MISSION_OUTCOMES = ['delivered', 'aborted', 'failed'] as const;

export const EVENT_SCHEMA = z.discriminatedUnion('kind', [
  z.object({
    ...eventBase,
    kind: z.literal('mission'),
    missionEvent: z.enum(MISSION_EVENT_KINDS),
    /** The mission's phase when it happened. */
    phase: z.string().max(32),
    taskId: idField.nullable(),
    detail: z.string().max(1024).optional(),
    outcome: z.enum(MISSION_OUTCOMES).optional(),
  }),
  z.object({
    ...eventBase,
    kind: z.literal('intervention'),
    /** Aggregated over this window (ms), ending at timeMs: one event per second at most. */
    windowMs: finiteField.min(0),
    /** Control ticks in the window, and those on which any layer changed the setpoint. */
    ticks: countField,
    interventionTicks: countField,
    byLayer: layerCountsField,
    /** 'layer:reason' -> ticks. */
    byReason: z.record(z.string().max(64), countField),
    /** Largest change to the velocity setpoint in the window (m/s). */
    maxMagnitudeMS: finiteField.min(0),
  }),
  z.object({
    ...eventBase,
    kind: z.literal('alert'),
    level: z.enum(['info', 'warning', 'critical']),
    /** Stable code: 'monitor-transition', 'airspace-applied', 'airspace-refused', 'queue-full', ... */
    code: z.string().min(1).max(64),
    message: z.string().max(1024),
    /** For 'monitor-transition': the runtime monitor's action change and the rules behind it. */
    monitor: z
      .object({ from: z.string().max(16), to: z.string().max(16), rules: z.array(z.string().max(64)).max(32) })
      .optional(),
  }),
  z.object({
    ...eventBase,
    kind: z.literal('fault'),
    /** Where: 'policy', 'filter', 'uplink', 'autopilot'. */
    source: z.string().min(1).max(32),
    code: z.string().min(1).max(64),
    /** Occurrences aggregated into this event (per second at most). */
    count: countField.min(1),
    windowMs: finiteField.min(0).optional(),
    message: z.string().max(1024).optional(),
  }),
  z.object({
    ...eventBase,
    kind: z.literal('policy'),
    action: z.enum(POLICY_EVENT_ACTIONS),
    /** The version the action is about (the candidate's for a transfer; the new active one for 'activated'). */
    policyVersion: policyVersionField,
    detail: z.string().max(1024).optional(),
    /** Why ('refused', 'rolled-back'). */
    reason: z.string().max(1024).optional(),
    /** Stable code of a refusal: BUNDLE_MALFORMED, BUNDLE_SIGNATURE, BUNDLE_PX4_PARAMS, ... */
    code: z.string().min(1).max(64).optional(),
    /** The command this answers (install-policy, activate-policy, ...). */
    commandId: idField.optional(),
    /** 'bundle-progress' and the transfer's outcome: its id, chunk count and the chunks still missing. */
    transferId: z.string().min(1).max(128).optional(),
    count: countField.optional(),
    receivedChunks: countField.optional(),
    missingChunks: z.array(countField).max(2048).optional(),
  }),
]);
export const EVENT_KINDS = ['mission', 'intervention', 'alert', 'fault', 'policy'] as const;

// ---- metrics (QoS 1, windows) ----

export const METRICS_SCHEMA = z.object({
  schema: schemaField,
  id: droneIdField,
  sessionId: sessionIdField.optional(),
  seq: seqField,
  /** End of the window (Unix ms). */
  timeMs: timeMsField,
  /** Window length (s). */
  windowS: finiteField.min(0),
  /** Deliveries that ended in the window, and those delivered. */
  episodes: countField,
  successes: countField,
  /** Sum of experience rewards recorded in the window. */
  returnSum: finiteField,
  ticks: countField,
  policyTicks: countField,
  /** Ticks on which each layer changed the setpoint. */
  interventionsByLayer: layerCountsField,
  /** Ticks with a geofence, zone, floor, ceiling or separation breach. */
  violations: countField,
  policyFaults: countField,
  /** Policy inference latency over the window's policy ticks (microseconds). */
  inferenceLatencyUs: percentilesField,
  policyVersion: policyVersionField,
  /** Shadow mode over the window: the candidate ran beside the active policy without being actuated. */
  shadow: z
    .object({
      policyVersion: policyVersionField,
      /** Ticks on which both policies ran. */
      ticks: countField,
      /** |candidate velocity setpoint - active velocity setpoint| over those ticks (m/s); null with no ticks. */
      divergenceMeanMps: finiteField.min(0).nullable(),
      divergenceP95Mps: finiteField.min(0).nullable(),
      /** Ticks on which the safety filter would have changed the candidate's setpoint, in all and per layer. */
      wouldBeInterventionTicks: countField,
      wouldBeInterventionsByLayer: layerCountsField,
    })
    .optional(),
  uplink: z
    .object({
      /** Records the store-and-forward queue dropped since the last metrics (full queue; events are never dropped). */
      queueDrops: z.object({ experience: countField, metrics: countField }),
      queuedRecords: countField,
      queueBytes: countField,
      /** Telemetry messages not sent while disconnected, and inbound messages dropped, in the window. */
      telemetryDropped: countField,
      commandsDropped: countField,
      commandsRefused: countField,
    })
    .optional(),
});

// ---- experience (QoS 1) ----

/** Most records in one experience message (a message stays well under the 1 MiB channel limit). */
export const MAX_EXPERIENCE_BATCH = 500;

export const EXPERIENCE_BATCH_SCHEMA = z.object({
  schema: schemaField,
  id: droneIdField,
  sessionId: sessionIdField.optional(),
  seq: seqField,
  timeMs: timeMsField,
  policyVersion: policyVersionField,
  /** Records per shared/experience (EXPERIENCE_RECORD_SCHEMA), oldest first. */
  records: z.array(EXPERIENCE_RECORD_SCHEMA).min(1).max(MAX_EXPERIENCE_BATCH),
});

// ---- acks (QoS 1) ----

export const ACK_RESULTS = ['accepted', 'rejected', 'failed', 'unsupported'] as const;
export type AckResult = (typeof ACK_RESULTS)[number];

export const ACK_SCHEMA = z.object({
  schema: schemaField,
  /** The drone answering. */
  id: droneIdField.optional(),
  commandId: idField,
  /** The command's kind when it could be read. */
  kind: z.string().max(64).optional(),
  result: z.enum(ACK_RESULTS),
  reason: z.string().max(1024).optional(),
  timeMs: timeMsField,
});

export type DroneBirth = z.infer<typeof BIRTH_SCHEMA>;
export type DroneDeath = z.infer<typeof DEATH_SCHEMA>;
export type DroneStatus = z.infer<typeof STATUS_SCHEMA>;
export type Telemetry = z.infer<typeof TELEMETRY_SCHEMA>;
export type DroneEvent = z.infer<typeof EVENT_SCHEMA>;
export type DroneEventKind = DroneEvent['kind'];
export type Metrics = z.infer<typeof METRICS_SCHEMA>;
export type ExperienceBatch = z.infer<typeof EXPERIENCE_BATCH_SCHEMA>;
export type CommandAck = z.infer<typeof ACK_SCHEMA>;
