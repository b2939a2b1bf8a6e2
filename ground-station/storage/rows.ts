/**
 * Row <-> record mapping shared by both stores. Column names are the same in both dialects; what differs is how
 * values come back (pg returns BIGINT as a string and BOOLEAN as a boolean; SQLite returns numbers), so every reader
 * here accepts both.
 */
import type {
  CommandRecord,
  CommandResult,
  DroneEventRecord,
  DroneRecord,
  LatestEventSeq,
  OrderEvent,
  OrderPatch,
  OrderRecord,
  OrderStatus,
  StoredDroneEvent,
  StoredExperienceBatch,
} from './records.js';

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const jsonOrNull = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(String(v)));

export const ORDER_COLUMNS = [
  'id',
  'status',
  'pickup_depot_id',
  'pickup_lat_deg',
  'pickup_lon_deg',
  'pickup_alt_amsl_m',
  'drop_lat_deg',
  'drop_lon_deg',
  'drop_north_m',
  'drop_east_m',
  'weight_kg',
  'priority',
  'deadline_ms',
  'drone_id',
  'command_id',
  'attempts',
  'reason',
  'reference',
  'created_at_ms',
  'updated_at_ms',
] as const;

export function orderToRow(o: OrderRecord): unknown[] {
  return [
    o.id,
    o.status,
    o.pickupDepotId,
    o.pickupGeo.latDeg,
    o.pickupGeo.lonDeg,
    o.pickupGeo.altAmslM,
    o.dropGeo.latDeg,
    o.dropGeo.lonDeg,
    o.dropNeM?.northM ?? null,
    o.dropNeM?.eastM ?? null,
    o.weightKg,
    o.priority,
    o.deadlineMs,
    o.droneId,
    o.commandId,
    o.attempts,
    o.reason,
    o.reference,
    o.createdAtMs,
    o.updatedAtMs,
  ];
}

export function rowToOrder(r: Row): OrderRecord {
  const north = numOrNull(r.drop_north_m);
  const east = numOrNull(r.drop_east_m);
  return {
    id: String(r.id),
    status: String(r.status) as OrderStatus,
    pickupDepotId: String(r.pickup_depot_id),
    pickupGeo: { latDeg: num(r.pickup_lat_deg), lonDeg: num(r.pickup_lon_deg), altAmslM: num(r.pickup_alt_amsl_m) },
    dropGeo: { latDeg: num(r.drop_lat_deg), lonDeg: num(r.drop_lon_deg) },
    dropNeM: north === null || east === null ? null : { northM: north, eastM: east },
    weightKg: num(r.weight_kg),
    priority: num(r.priority),
    deadlineMs: numOrNull(r.deadline_ms),
    droneId: strOrNull(r.drone_id),
    commandId: strOrNull(r.command_id),
    attempts: num(r.attempts),
    reason: strOrNull(r.reason),
    reference: strOrNull(r.reference),
    createdAtMs: num(r.created_at_ms),
    updatedAtMs: num(r.updated_at_ms),
  };
}

/** The SET clause of a transition: column names and values for the keys the patch carries (status always). */
export function patchColumns(patch: OrderPatch): { columns: string[]; values: unknown[]; attemptsDelta: number } {
  const columns = ['status'];
  const values: unknown[] = [patch.status];
  if (patch.droneId !== undefined) {
    columns.push('drone_id');
    values.push(patch.droneId);
  }
  if (patch.commandId !== undefined) {
    columns.push('command_id');
    values.push(patch.commandId);
  }
  if (patch.reason !== undefined) {
    columns.push('reason');
    values.push(patch.reason);
  }
  return { columns, values, attemptsDelta: Math.trunc(patch.attemptsDelta ?? 0) };
}

export function rowToOrderEvent(r: Row): OrderEvent {
  return {
    orderId: String(r.order_id),
    timeMs: num(r.time_ms),
    status: String(r.status) as OrderStatus,
    droneId: strOrNull(r.drone_id),
    reason: strOrNull(r.reason),
  };
}

export const DRONE_COLUMNS = [
  'id',
  'online',
  'session_id',
  'policy_version',
  'home_json',
  'capabilities_json',
  'last_state_json',
  'birth_at_ms',
  'last_seen_ms',
  'updated_at_ms',
] as const;

export function droneToRow(d: DroneRecord, booleanAs: 'integer' | 'boolean'): unknown[] {
  return [
    d.id,
    booleanAs === 'integer' ? (d.online ? 1 : 0) : d.online,
    d.sessionId,
    d.policyVersion,
    d.home === null ? null : JSON.stringify(d.home),
    d.capabilities === undefined ? null : JSON.stringify(d.capabilities),
    d.lastState === undefined ? null : JSON.stringify(d.lastState),
    d.birthAtMs,
    d.lastSeenMs,
    d.updatedAtMs,
  ];
}

export function rowToDrone(r: Row): DroneRecord {
  return {
    id: String(r.id),
    online: r.online === true || num(r.online) === 1,
    sessionId: strOrNull(r.session_id),
    policyVersion: strOrNull(r.policy_version),
    home: jsonOrNull(r.home_json) as DroneRecord['home'],
    capabilities: jsonOrNull(r.capabilities_json),
    lastState: jsonOrNull(r.last_state_json),
    birthAtMs: numOrNull(r.birth_at_ms),
    lastSeenMs: numOrNull(r.last_seen_ms),
    updatedAtMs: num(r.updated_at_ms),
  };
}

export const COMMAND_COLUMNS = [
  'command_id',
  'drone_id',
  'kind',
  'order_id',
  'payload_json',
  'sent_at_ms',
  'result',
  'reason',
  'acked_at_ms',
] as const;

export function commandToRow(c: CommandRecord): unknown[] {
  return [
    c.commandId,
    c.droneId,
    c.kind,
    c.orderId,
    JSON.stringify(c.payload ?? null),
    c.sentAtMs,
    c.result,
    c.reason,
    c.ackedAtMs,
  ];
}

export function rowToCommand(r: Row): CommandRecord {
  return {
    commandId: String(r.command_id),
    droneId: String(r.drone_id),
    kind: String(r.kind),
    orderId: strOrNull(r.order_id),
    payload: jsonOrNull(r.payload_json),
    sentAtMs: num(r.sent_at_ms),
    result: strOrNull(r.result) as CommandResult | null,
    reason: strOrNull(r.reason),
    ackedAtMs: numOrNull(r.acked_at_ms),
  };
}

export function rowToExperienceBatch(r: Row): StoredExperienceBatch {
  const frames = r.frames as Uint8Array;
  return {
    rowId: num(r.row_id),
    droneId: String(r.drone_id),
    sessionId: String(r.session_id),
    seq: num(r.seq),
    timeMs: num(r.time_ms),
    receivedAtMs: num(r.received_at_ms),
    policyVersion: String(r.policy_version),
    recordCount: num(r.record_count),
    frames: new Uint8Array(frames.buffer, frames.byteOffset, frames.byteLength),
  };
}

export const EXPERIENCE_COLUMNS = [
  'drone_id',
  'session_id',
  'seq',
  'time_ms',
  'received_at_ms',
  'policy_version',
  'record_count',
  'frames',
] as const;

export const DRONE_EVENT_COLUMNS = [
  'drone_id',
  'session_id',
  'seq',
  'time_ms',
  'received_at_ms',
  'kind',
  'payload_json',
] as const;

export function droneEventToRow(e: DroneEventRecord): unknown[] {
  return [e.droneId, e.sessionId, e.seq, e.timeMs, e.receivedAtMs, e.kind, JSON.stringify(e.payload ?? null)];
}

export function latestSeqOf(r: Row): LatestEventSeq {
  return { droneId: String(r.drone_id), sessionId: String(r.session_id), seq: num(r.seq) };
}

export function rowToDroneEvent(r: Row): StoredDroneEvent {
  return {
    rowId: num(r.row_id),
    droneId: String(r.drone_id),
    sessionId: String(r.session_id),
    seq: num(r.seq),
    timeMs: num(r.time_ms),
    receivedAtMs: num(r.received_at_ms),
    kind: String(r.kind),
    payload: jsonOrNull(r.payload_json),
  };
}
