/**
 * Field schemas shared by the payloads: ids, times, geodetic points, NED vectors. Units live in the names.
 */
import { z } from 'zod';
import { DRONE_ID_PATTERN } from './topics.js';

const finite = z.number().finite();

/** `"1.<minor>"`; the major is checked before the payload schema runs (checkSchemaVersion). */
export const schemaField = z.string().regex(/^\d{1,6}\.\d{1,6}$/, 'expected "MAJOR.MINOR"');
export const droneIdField = z.string().regex(DRONE_ID_PATTERN, 'expected a drone id [A-Za-z0-9_-]{1,64}');
/** Unix time, milliseconds. */
export const timeMsField = z.number().int().min(0);
/** Per-session sequence number, from 1, +1 per message of the channel. */
export const seqField = z.number().int().min(1);
/** Identifies one run of a drone's uplink (birth/death pairing, sequence scope). */
export const sessionIdField = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected [A-Za-z0-9_.:-]{1,64}');
/** Command and task ids chosen by the station. */
export const idField = z.string().min(1).max(128);
export const policyVersionField = z.string().min(1).max(64);
/** Counts (non-negative integers). */
export const countField = z.number().int().min(0);

export const finiteField = finite;

/** Geodetic point: degrees, metres above mean sea level. */
export const geoField = z.object({
  latDeg: finite.min(-90).max(90),
  lonDeg: finite.min(-180).max(180),
  altAmslM: finite,
});
/** Horizontal geodetic point (degrees). */
export const geo2Field = z.object({ latDeg: finite.min(-90).max(90), lonDeg: finite.min(-180).max(180) });
/** NED vector (metres or m/s as the field name says). */
export const nedField = z.object({ n: finite, e: finite, d: finite });
/** [north, east] metres. */
export const neField = z.tuple([finite, finite]);
/** A percentile pair; null when the window had no samples. */
export const percentilesField = z.object({ p50: finite.min(0).nullable(), p99: finite.min(0).nullable() });
/** Counts per safety layer, in the filter's order. */
export const layerCountsField = z.object({
  sanity: countField,
  box: countField,
  barrier: countField,
  shield: countField,
  monitor: countField,
});
