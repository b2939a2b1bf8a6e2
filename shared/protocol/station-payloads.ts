/**
 * Payloads the station publishes: per-drone commands and policy bundle chunks, and the fleet-wide estop, airspace and
 * traffic.
 */
import { z } from 'zod';
import { AIRSPACE_SCHEMA } from '../geo/index.js';
import {
  droneIdField,
  finiteField,
  geo2Field,
  geoField,
  idField,
  nedField,
  neField,
  schemaField,
  timeMsField,
} from './fields.js';

const commandBase = {
  schema: schemaField,
  /** Chosen by the sender, unique per command; the ack carries it back. A repeated id gets the first answer again. */
  commandId: idField,
  timeMs: timeMsField,
  /** Optional: the drone the command is meant for; a drone refuses a command addressed to another. */
  target: droneIdField.optional(),
};

export const ASSIGN_DELIVERY_SCHEMA = z
  .object({
    ...commandBase,
    kind: z.literal('assign-delivery'),
    taskId: idField,
    /** Pickup point, NE metres in the drone's home frame (the parcel is loaded at home today). */
    pickupNeM: neField.optional(),
    /** Drop point, NE metres in the drone's home frame. */
    dropNeM: neField.optional(),
    /** Drop point, degrees (the drone converts it with its home). */
    dropGeo: geo2Field.optional(),
    /** Cruise altitude above home (m). */
    cruiseAltM: finiteField.min(3).max(120),
    /** Lower the parcel from a hover, or land to release it. */
    releaseBy: z.enum(['hover', 'land']),
    /** Release altitude above the drop point for 'hover' (m); default 5. */
    releaseAltM: finiteField.min(1).max(50).optional(),
  })
  .refine((c) => c.dropNeM !== undefined || c.dropGeo !== undefined, {
    message: 'needs dropNeM or dropGeo',
    path: ['dropNeM'],
  });

const simpleCommand = <K extends string>(kind: K) =>
  z.object({ ...commandBase, kind: z.literal(kind), reason: z.string().max(1024).optional() });

export const ABORT_SCHEMA = simpleCommand('abort');
export const RETURN_SCHEMA = simpleCommand('return');
export const LAND_SCHEMA = simpleCommand('land');
export const EMERGENCY_STOP_SCHEMA = simpleCommand('emergency-stop');
/** Go back to the previous active policy slot (only while landed and disarmed). */
export const REVERT_POLICY_SCHEMA = simpleCommand('revert-policy');

export const SET_AIRSPACE_SCHEMA = z.object({
  ...commandBase,
  kind: z.literal('set-airspace'),
  /**
   * Geofence and zones (shared/geo AIRSPACE_SCHEMA): NE metres and altitudes relative to `origin` when given,
   * otherwise to the drone's home.
   */
  airspace: AIRSPACE_SCHEMA,
  origin: geoField.optional(),
  version: z.number().int().min(0).optional(),
});

const sha256Field = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

/**
 * Switch to a policy: the installed candidate (after install-policy; `sha256` = the bundle file's) or, without a
 * bundle, a model at `url` (`sha256` = the model file's). Only while landed and disarmed; otherwise rejected.
 */
export const ACTIVATE_POLICY_SCHEMA = z.object({
  ...commandBase,
  kind: z.literal('activate-policy'),
  version: z.string().min(1).max(64),
  url: z.string().max(2048).optional(),
  sha256: sha256Field.optional(),
});

/** Largest bundle a transfer carries (bytes); the same limit as shared/bundle MAX_BUNDLE_BYTES. */
export const MAX_BUNDLE_TRANSFER_BYTES = 64 * 1024 * 1024;
/** Bytes of bundle per chunk on the `bundle` channel (before base64); the last chunk may be shorter. */
export const BUNDLE_CHUNK_BYTES = 48 * 1024;
/** Most chunks in one transfer. */
export const MAX_BUNDLE_CHUNKS = Math.ceil(MAX_BUNDLE_TRANSFER_BYTES / BUNDLE_CHUNK_BYTES);

/**
 * Install a signed policy bundle as the drone's candidate (it keeps flying its active policy). The drone fetches
 * `url` over HTTP (basic auth with its MQTT credentials) when given, else assembles the chunks the station sends on
 * its `bundle` channel. The ack says the transfer started; `policy` events report progress and the outcome
 * ('installed' or 'refused' with the reason).
 */
export const INSTALL_POLICY_SCHEMA = z.object({
  ...commandBase,
  kind: z.literal('install-policy'),
  /** The bundle's policy version (what the drone will report once it flies it). */
  version: z.string().min(1).max(64),
  /** SHA-256 of the whole bundle file. */
  sha256: sha256Field,
  totalBytes: z.number().int().min(1).max(MAX_BUNDLE_TRANSFER_BYTES),
  url: z.string().max(2048).optional(),
  /** Names the chunks of this transfer on the `bundle` channel (default: the sha256). */
  transferId: z.string().min(1).max(128).optional(),
});

/** Run the installed candidate `version` in shadow beside the active policy (enabled), or stop doing so. */
export const SHADOW_POLICY_SCHEMA = z.object({
  ...commandBase,
  kind: z.literal('shadow-policy'),
  version: z.string().min(1).max(64),
  enabled: z.boolean(),
});

export const COMMAND_SCHEMA = z.discriminatedUnion('kind', [
  ASSIGN_DELIVERY_SCHEMA,
  ABORT_SCHEMA,
  RETURN_SCHEMA,
  LAND_SCHEMA,
  EMERGENCY_STOP_SCHEMA,
  SET_AIRSPACE_SCHEMA,
  ACTIVATE_POLICY_SCHEMA,
  INSTALL_POLICY_SCHEMA,
  SHADOW_POLICY_SCHEMA,
  REVERT_POLICY_SCHEMA,
]);

// ---- bundle chunks (station -> one drone, QoS 1) ----

/** One piece of a policy bundle sent over MQTT. The drone checks each chunk's hash, then the whole file's. */
export const BUNDLE_CHUNK_SCHEMA = z
  .object({
    schema: schemaField,
    transferId: z.string().min(1).max(128),
    /** The bundle's policy version. */
    version: z.string().min(1).max(64),
    /** SHA-256 of the whole bundle file. */
    sha256: sha256Field,
    totalBytes: z.number().int().min(1).max(MAX_BUNDLE_TRANSFER_BYTES),
    /** 0-based; chunk i holds bytes [i * BUNDLE_CHUNK_BYTES, ...). */
    index: z.number().int().min(0),
    count: z.number().int().min(1).max(MAX_BUNDLE_CHUNKS),
    /** SHA-256 of this chunk's bytes (decoded). */
    chunkSha256: sha256Field,
    /** Base64 of at most BUNDLE_CHUNK_BYTES bytes. */
    data: z
      .string()
      .max(Math.ceil(BUNDLE_CHUNK_BYTES / 3) * 4)
      .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64'),
  })
  .refine((c) => c.index < c.count, { message: 'index must be below count', path: ['index'] })
  .refine((c) => c.count === Math.ceil(c.totalBytes / BUNDLE_CHUNK_BYTES), {
    message: `count must be ceil(totalBytes / ${BUNDLE_CHUNK_BYTES})`,
    path: ['count'],
  });

// ---- fleet ----

export const FLEET_ESTOP_SCHEMA = z.object({
  schema: schemaField,
  commandId: idField,
  timeMs: timeMsField,
  reason: z.string().max(1024),
});

export const FLEET_AIRSPACE_SCHEMA = z.object({
  schema: schemaField,
  /** Increases with every change; a drone applies a version once. */
  version: z.number().int().min(0),
  timeMs: timeMsField,
  /** The fleet's reference point: the airspace's NE metres and altitudes are relative to it. */
  origin: geoField,
  airspace: AIRSPACE_SCHEMA,
});

/** Most drones in one traffic message. */
export const MAX_TRAFFIC_DRONES = 1000;

export const FLEET_TRAFFIC_SCHEMA = z.object({
  schema: schemaField,
  timeMs: timeMsField,
  drones: z
    .array(
      z.object({
        id: droneIdField,
        geo: geoField,
        velocityNedMS: nedField,
        /** When this position was measured (Unix ms): receivers drop stale entries. */
        timeMs: timeMsField,
      }),
    )
    .max(MAX_TRAFFIC_DRONES),
});

export type Command = z.infer<typeof COMMAND_SCHEMA>;
export type AssignDelivery = z.infer<typeof ASSIGN_DELIVERY_SCHEMA>;
export type SetAirspaceCommand = z.infer<typeof SET_AIRSPACE_SCHEMA>;
export type ActivatePolicyCommand = z.infer<typeof ACTIVATE_POLICY_SCHEMA>;
export type InstallPolicyCommand = z.infer<typeof INSTALL_POLICY_SCHEMA>;
export type ShadowPolicyCommand = z.infer<typeof SHADOW_POLICY_SCHEMA>;
export type RevertPolicyCommand = z.infer<typeof REVERT_POLICY_SCHEMA>;
export type BundleChunk = z.infer<typeof BUNDLE_CHUNK_SCHEMA>;
export type FleetEstop = z.infer<typeof FLEET_ESTOP_SCHEMA>;
export type FleetAirspace = z.infer<typeof FLEET_AIRSPACE_SCHEMA>;
export type FleetTraffic = z.infer<typeof FLEET_TRAFFIC_SCHEMA>;
