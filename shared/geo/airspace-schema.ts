/**
 * Airspace as it arrives from files and the ground station: validated (zod) before it reaches the safety filter.
 * Horizontal coordinates are NE metres from home; altitudes metres above home.
 */
import { z } from 'zod';
import { AerieError } from '../errors.js';
import type { Airspace } from './airspace.js';

const ne = z.object({ n: z.number().finite(), e: z.number().finite() }).strict();
const polygon = z.array(ne).min(3, 'a polygon needs at least 3 vertices');
const band = { floorM: z.number().finite().optional(), topM: z.number().finite().optional() };

export const AIRSPACE_SCHEMA = z
  .object({
    geofence: z
      .object({ polygonNeM: polygon, ceilingM: z.number().finite().positive() })
      .strict()
      .nullable()
      .default(null),
    noFlyZones: z
      .array(
        z.discriminatedUnion('kind', [
          z
            .object({
              kind: z.literal('cylinder'),
              id: z.string().min(1),
              centerNeM: ne,
              radiusM: z.number().finite().positive(),
              ...band,
            })
            .strict(),
          z.object({ kind: z.literal('polygon'), id: z.string().min(1), polygonNeM: polygon, ...band }).strict(),
        ]),
      )
      .default([]),
    altitudeFloorM: z.number().finite().min(0).default(0),
  })
  .strict();

/** Validate untrusted airspace JSON; the message names the first bad path. */
export function parseAirspace(raw: unknown, source = 'airspace'): Airspace {
  const result = AIRSPACE_SCHEMA.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new AerieError('CONFIG_INVALID_VALUE', `${source}: ${where}: ${issue.message}`, {
      issues: result.error.issues.length,
    });
  }
  return Object.freeze(result.data) as Airspace;
}
