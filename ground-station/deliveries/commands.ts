/**
 * What the dispatcher sends: assign-delivery and abort commands (shared/protocol shapes), and the command records
 * the store keeps to match acks. Pure.
 */
import { randomBytes } from 'node:crypto';
import { type GeoPoint, geoToNed } from '../../shared/geo/index.js';
import { type AssignDelivery, type Command, PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import type { CommandRecord, OrderRecord } from '../storage/index.js';

export const newCommandId = (): string => `cmd_${randomBytes(8).toString('hex')}`;

export interface AssignOptions {
  readonly cruiseAltM: number;
  readonly releaseBy: 'hover' | 'land';
}

/**
 * assign-delivery for `order`: the drop as degrees always, and as NE metres in the drone's home frame (with the
 * pickup) when its home is known, rounded to centimetres.
 */
export function assignDeliveryCommand(
  order: OrderRecord,
  droneId: string,
  home: GeoPoint | null,
  commandId: string,
  nowMs: number,
  options: AssignOptions,
): AssignDelivery {
  const ne = (ref: GeoPoint, g: GeoPoint): [number, number] => {
    const v = geoToNed(ref, g);
    return [Math.round(v.n * 100) / 100, Math.round(v.e * 100) / 100];
  };
  return {
    schema: PROTOCOL_VERSION,
    commandId,
    timeMs: nowMs,
    target: droneId,
    kind: 'assign-delivery',
    taskId: order.id,
    ...(home
      ? { pickupNeM: ne(home, order.pickupGeo), dropNeM: ne(home, { ...order.dropGeo, altAmslM: home.altAmslM }) }
      : {}),
    dropGeo: { ...order.dropGeo },
    cruiseAltM: options.cruiseAltM,
    releaseBy: options.releaseBy,
  };
}

export function abortCommand(droneId: string, commandId: string, reason: string, nowMs: number): Command {
  return { schema: PROTOCOL_VERSION, commandId, timeMs: nowMs, target: droneId, kind: 'abort', reason };
}

/** The record kept for a command just sent (no ack yet). */
export function commandRecord(command: Command, droneId: string, orderId: string | null, nowMs: number): CommandRecord {
  return {
    commandId: command.commandId,
    droneId,
    kind: command.kind,
    orderId,
    payload: command,
    sentAtMs: nowMs,
    result: null,
    reason: null,
    ackedAtMs: null,
  };
}
