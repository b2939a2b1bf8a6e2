/**
 * Where drone messages enter the station: topic -> channel, payload -> validated value (shared/protocol
 * decodePayload), then to the handler for that channel. Anything malformed, unknown or inconsistent is dropped and
 * counted by reason; nothing here throws, and a handler that throws is counted too, not fatal.
 */
import {
  type CommandAck,
  type DroneEvent,
  type DroneStatus,
  decodePayload,
  type ExperienceBatch,
  type Metrics,
  parseDroneTopic,
  type Telemetry,
} from '../../shared/protocol/index.js';
import type { DropCounters } from '../broker/index.js';

export interface IngestHandlers {
  status(payload: DroneStatus, nowMs: number): void;
  telemetry(payload: Telemetry, nowMs: number): void;
  event(payload: DroneEvent, nowMs: number): void;
  metrics(payload: Metrics, nowMs: number): void;
  experience(payload: ExperienceBatch, nowMs: number): void;
  ack(droneId: string, payload: CommandAck, nowMs: number): void;
}

/** A decodePayload reason, as a short label for the drop counter. */
export function dropReasonLabel(reason: string): string {
  if (reason.startsWith('empty payload')) return 'empty';
  if (reason.includes('exceeds the')) return 'oversize';
  if (reason.includes('not valid UTF-8')) return 'not-utf8';
  if (reason.startsWith('not JSON') || reason.includes('not a JSON object')) return 'not-json';
  if (reason.startsWith('schema ')) return 'schema-version';
  if (reason.startsWith('unknown ')) return 'unknown-kind';
  return 'invalid-fields';
}

export type IngestOutcome = 'handled' | 'dropped' | 'ignored';

/**
 * Route one message. `nowMs` is the receive time. Returns what happened (tests; the counters hold the reasons).
 */
export function ingestMessage(
  topic: string,
  payload: Uint8Array,
  handlers: IngestHandlers,
  drops: DropCounters,
  nowMs: number,
): IngestOutcome {
  const parsed = parseDroneTopic(topic);
  if (parsed === null) {
    drops.drop('unknown-topic');
    return 'dropped';
  }
  const { id, channel } = parsed;
  // Our own commands (a wildcard subscription can echo them) are not input.
  if (channel === 'commands') return 'ignored';
  if (channel === 'status' && payload.byteLength === 0) {
    // A cleared retained status (an operator removed a drone): not an error, nothing to apply.
    return 'ignored';
  }
  const decoded = decodePayload(channel, payload);
  if (!decoded.ok) {
    drops.drop(`${channel}:${dropReasonLabel(decoded.reason)}`);
    return 'dropped';
  }
  const value = decoded.value;
  // The topic's id is the authenticated one (the broker's ACL); a payload naming another drone is refused.
  const claimed = (value as { id?: string }).id;
  if (claimed !== undefined && claimed !== id) {
    drops.drop(`${channel}:id-mismatch`);
    return 'dropped';
  }
  try {
    switch (channel) {
      case 'status':
        handlers.status(value as DroneStatus, nowMs);
        break;
      case 'telemetry':
        handlers.telemetry(value as Telemetry, nowMs);
        break;
      case 'events':
        handlers.event(value as DroneEvent, nowMs);
        break;
      case 'metrics':
        handlers.metrics(value as Metrics, nowMs);
        break;
      case 'experience':
        handlers.experience(value as ExperienceBatch, nowMs);
        break;
      case 'acks':
        handlers.ack(id, value as CommandAck, nowMs);
        break;
    }
  } catch {
    drops.drop(`${channel}:handler-error`);
    return 'dropped';
  }
  return 'handled';
}
