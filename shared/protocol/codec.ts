/**
 * Decoding and encoding payloads. `decodePayload` is what every process runs where a message enters it: size limit,
 * UTF-8, JSON, schema major, then the channel's zod schema. It never throws; a refusal carries its reason.
 */
import type { z } from 'zod';
import type { Result } from '../errors.js';
import {
  ACK_SCHEMA,
  COMMAND_KINDS,
  type CommandAck,
  type DroneEvent,
  type DroneStatus,
  EVENT_SCHEMA,
  EXPERIENCE_BATCH_SCHEMA,
  type ExperienceBatch,
  METRICS_SCHEMA,
  type Metrics,
  STATUS_SCHEMA,
  TELEMETRY_SCHEMA,
  type Telemetry,
} from './drone-payloads.js';
import {
  BUNDLE_CHUNK_SCHEMA,
  type BundleChunk,
  COMMAND_SCHEMA,
  type Command,
  FLEET_AIRSPACE_SCHEMA,
  FLEET_ESTOP_SCHEMA,
  FLEET_TRAFFIC_SCHEMA,
  type FleetAirspace,
  type FleetEstop,
  type FleetTraffic,
} from './station-payloads.js';
import type { Channel } from './topics.js';
import { checkSchemaVersion } from './version.js';

export interface PayloadByChannel {
  status: DroneStatus;
  telemetry: Telemetry;
  events: DroneEvent;
  metrics: Metrics;
  experience: ExperienceBatch;
  commands: Command;
  acks: CommandAck;
  bundle: BundleChunk;
  estop: FleetEstop;
  airspace: FleetAirspace;
  traffic: FleetTraffic;
}

export const PAYLOAD_SCHEMAS: { readonly [C in Channel]: z.ZodType<PayloadByChannel[C]> } = {
  status: STATUS_SCHEMA,
  telemetry: TELEMETRY_SCHEMA,
  events: EVENT_SCHEMA,
  metrics: METRICS_SCHEMA,
  experience: EXPERIENCE_BATCH_SCHEMA,
  commands: COMMAND_SCHEMA,
  acks: ACK_SCHEMA,
  bundle: BUNDLE_CHUNK_SCHEMA,
  estop: FLEET_ESTOP_SCHEMA,
  airspace: FLEET_AIRSPACE_SCHEMA,
  traffic: FLEET_TRAFFIC_SCHEMA,
} as unknown as { readonly [C in Channel]: z.ZodType<PayloadByChannel[C]> };

const KIB = 1024;
/** Largest payload accepted per channel (bytes); bigger ones are refused before parsing. */
export const MAX_PAYLOAD_BYTES: Readonly<Record<Channel, number>> = {
  status: 8 * KIB,
  telemetry: 8 * KIB,
  events: 16 * KIB,
  metrics: 16 * KIB,
  experience: 1024 * KIB,
  commands: 256 * KIB,
  acks: 4 * KIB,
  /** 48 KiB of bundle as base64 (64 KiB) and the chunk's fields. */
  bundle: 72 * KIB,
  estop: 4 * KIB,
  airspace: 256 * KIB,
  traffic: 256 * KIB,
};

/** Discriminators per channel, so an unknown one is named as such rather than as a schema mismatch. */
const KINDS: Partial<Record<Channel, readonly string[]>> = {
  status: ['birth', 'death'],
  events: ['mission', 'intervention', 'alert', 'fault', 'policy'],
  commands: COMMAND_KINDS,
};

const decoder = new TextDecoder('utf-8', { fatal: true });

function issuesText(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`);
  const more = error.issues.length > 3 ? `; and ${error.issues.length - 3} more` : '';
  return shown.join('; ') + more;
}

/** Bytes -> parsed JSON object with a schema of our major, or the reason not. */
export function parseJsonPayload(
  channel: Channel,
  payload: Uint8Array | string,
): Result<Record<string, unknown>, string> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  if (size === 0) return { ok: false, reason: 'empty payload (a cleared retained message?)' };
  if (size > MAX_PAYLOAD_BYTES[channel]) {
    return {
      ok: false,
      reason: `payload of ${size} bytes exceeds the ${MAX_PAYLOAD_BYTES[channel]}-byte limit of ${channel}`,
    };
  }
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : decoder.decode(payload);
  } catch {
    return { ok: false, reason: 'payload is not valid UTF-8' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${err instanceof Error ? err.message.slice(0, 120) : String(err)}` };
  }
  const version = checkSchemaVersion(json);
  if (!version.ok) return version;
  return { ok: true, value: json as Record<string, unknown> };
}

function validate<C extends Channel>(channel: C, json: Record<string, unknown>): Result<PayloadByChannel[C], string> {
  const kinds = KINDS[channel];
  if (kinds && !kinds.includes(json.kind as string)) {
    const kind = typeof json.kind === 'string' ? JSON.stringify(json.kind.slice(0, 64)) : 'missing';
    return { ok: false, reason: `unknown ${channel} kind ${kind}; known: ${kinds.join(', ')}` };
  }
  const r = PAYLOAD_SCHEMAS[channel].safeParse(json);
  return r.success ? { ok: true, value: r.data } : { ok: false, reason: issuesText(r.error) };
}

/**
 * Decode an incoming payload of `channel`: ok with the typed value, or the reason it was refused (oversize, not UTF-8,
 * not JSON, no or another schema major, unknown kind, wrong fields). Never throws.
 */
export function decodePayload<C extends Channel>(
  channel: C,
  payload: Uint8Array | string,
): Result<PayloadByChannel[C], string> {
  try {
    const json = parseJsonPayload(channel, payload);
    return json.ok ? validate(channel, json.value) : json;
  } catch (err) {
    // Not expected (zod and JSON.parse report failures as values above); kept so a bug cannot crash a receiver.
    return { ok: false, reason: `undecodable: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** A command refusal with what could be read of it, so the drone can still answer with an ack. */
export interface CommandRefusal {
  readonly ok: false;
  readonly reason: string;
  /** The commandId when the payload is an object with a usable one; null otherwise (then nobody can be answered). */
  readonly commandId: string | null;
  readonly kind: string | null;
  /** The command is well-formed JSON of our major but of a kind this side does not know. */
  readonly unsupported: boolean;
}

/** decodePayload('commands', ...) that also salvages the commandId and kind of a refused command. Never throws. */
export function decodeCommand(payload: Uint8Array | string): { ok: true; value: Command } | CommandRefusal {
  const r = decodePayload('commands', payload);
  if (r.ok) return r;
  let commandId: string | null = null;
  let kind: string | null = null;
  let knownKind = true;
  try {
    const size = typeof payload === 'string' ? payload.length : payload.byteLength;
    if (size > 0 && size <= MAX_PAYLOAD_BYTES.commands) {
      const json: unknown = JSON.parse(typeof payload === 'string' ? payload : decoder.decode(payload));
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
        const o = json as Record<string, unknown>;
        if (typeof o.commandId === 'string' && o.commandId.length >= 1 && o.commandId.length <= 128) {
          commandId = o.commandId;
        }
        if (typeof o.kind === 'string') {
          kind = o.kind.slice(0, 64);
          knownKind = (COMMAND_KINDS as readonly string[]).includes(o.kind);
        }
      }
    }
  } catch {
    // Not JSON: nothing to salvage.
  }
  const versionOk = r.reason.startsWith('unknown commands kind');
  return { ok: false, reason: r.reason, commandId, kind, unsupported: versionOk && !knownKind };
}

/**
 * Validate an outgoing payload and serialise it. A failure is a bug in the sender; it is a value so a publishing
 * loop can count it and go on.
 */
export function encodePayload<C extends Channel>(channel: C, value: PayloadByChannel[C]): Result<Buffer, string> {
  const r = PAYLOAD_SCHEMAS[channel].safeParse(value);
  if (!r.success) return { ok: false, reason: `${channel}: ${issuesText(r.error)}` };
  const bytes = Buffer.from(JSON.stringify(value), 'utf8');
  if (bytes.byteLength > MAX_PAYLOAD_BYTES[channel]) {
    return {
      ok: false,
      reason: `${channel}: ${bytes.byteLength} bytes exceed the ${MAX_PAYLOAD_BYTES[channel]}-byte limit`,
    };
  }
  return { ok: true, value: bytes };
}
