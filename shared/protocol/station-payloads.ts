/**
 * Payloads the station publishes: per-drone commands and the fleet-wide estop, airspace and traffic.
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

export const ACTIVATE_POLICY_SCHEMA = z.object({
  ...commandBase,
  kind: z.literal('activate-policy'),
  version: z.string().min(1).max(64),
  url: z.string().max(2048).optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits')
    .optional(),
});

export const COMMAND_SCHEMA = z.discriminatedUnion('kind', [
  ASSIGN_DELIVERY_SCHEMA,
  ABORT_SCHEMA,
  RETURN_SCHEMA,
  LAND_SCHEMA,
  EMERGENCY_STOP_SCHEMA,
  SET_AIRSPACE_SCHEMA,
  ACTIVATE_POLICY_SCHEMA,
]);

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
export type FleetEstop = z.infer<typeof FLEET_ESTOP_SCHEMA>;
export type FleetAirspace = z.infer<typeof FLEET_AIRSPACE_SCHEMA>;
export type FleetTraffic = z.infer<typeof FLEET_TRAFFIC_SCHEMA>;
