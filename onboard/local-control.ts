/**
 * A local control channel for `aerie onboard`: JSON lines on stdin (one command per line), until and beside the
 * ground-station uplink. Malformed lines are reported and ignored; nothing changes.
 *
 *   {"cmd":"deliver","to":[60,40],"alt":20}   {"cmd":"abort"}  {"cmd":"return"}  {"cmd":"land"}  {"cmd":"hold"}
 *   {"cmd":"estop"}  {"cmd":"clear"}  {"cmd":"airspace","airspace":{...}}
 *   {"cmd":"neighbours","neighbours":[{"id":"d2","positionNedM":{"n":0,"e":5,"d":-20},"velocityNedMS":{"n":0,"e":0,"d":0}}]}
 */
import { z } from 'zod';
import { AIRSPACE_SCHEMA, type Airspace } from '../shared/geo/index.js';
import type { MissionPlan } from './mission/index.js';

const ned = z.object({ n: z.number().finite(), e: z.number().finite(), d: z.number().finite() }).strict();

export const LOCAL_COMMAND_SCHEMA = z.discriminatedUnion('cmd', [
  z
    .object({
      cmd: z.literal('deliver'),
      to: z.tuple([z.number().finite(), z.number().finite()]),
      alt: z.number().finite().min(3).max(120).optional(),
      releaseBy: z.enum(['hover', 'land']).optional(),
    })
    .strict(),
  z.object({ cmd: z.enum(['abort', 'return', 'land', 'hold', 'estop', 'clear']) }).strict(),
  z.object({ cmd: z.literal('airspace'), airspace: AIRSPACE_SCHEMA }).strict(),
  z
    .object({
      cmd: z.literal('neighbours'),
      neighbours: z.array(
        z
          .object({ id: z.string(), positionNedM: ned, velocityNedMS: ned, ageMs: z.number().min(0).optional() })
          .strict(),
      ),
    })
    .strict(),
]);

export type LocalCommand = z.infer<typeof LOCAL_COMMAND_SCHEMA>;

export type ParsedLine = { ok: true; command: LocalCommand } | { ok: false; reason: string };

export function parseControlLine(line: string): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const r = LOCAL_COMMAND_SCHEMA.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, reason: `${i.path.join('.') || '(root)'}: ${i.message}` };
  }
  return { ok: true, command: r.data };
}

export function planFromDeliver(cmd: Extract<LocalCommand, { cmd: 'deliver' }>, defaults: MissionPlan): MissionPlan {
  return {
    ...defaults,
    dropNeM: cmd.to,
    cruiseAltM: cmd.alt ?? defaults.cruiseAltM,
    releaseBy: cmd.releaseBy ?? defaults.releaseBy,
  };
}

export function airspaceOf(cmd: Extract<LocalCommand, { cmd: 'airspace' }>): Airspace {
  return Object.freeze(cmd.airspace) as Airspace;
}
