/**
 * Typed helpers for COMMAND_LONG / COMMAND_ACK: the commands Aerie sends or answers, and the result names.
 */
import { common } from 'node-mavlink';
import { MAV_MODE_FLAG, type Px4Mode } from './px4-modes.js';

export const MAV_CMD = {
  NAV_RETURN_TO_LAUNCH: 20,
  NAV_LAND: 21,
  NAV_TAKEOFF: 22,
  DO_SET_MODE: 176,
  COMPONENT_ARM_DISARM: 400,
  SET_MESSAGE_INTERVAL: 511,
  REQUEST_MESSAGE: 512,
} as const;

export const MAV_RESULT = {
  ACCEPTED: 0,
  TEMPORARILY_REJECTED: 1,
  DENIED: 2,
  UNSUPPORTED: 3,
  FAILED: 4,
  IN_PROGRESS: 5,
  CANCELLED: 6,
} as const;

export type MavResultName = keyof typeof MAV_RESULT;

export function resultName(result: number): MavResultName | `RESULT(${number})` {
  const found = (Object.keys(MAV_RESULT) as MavResultName[]).find((k) => MAV_RESULT[k] === result);
  return found ?? `RESULT(${result})`;
}

/** Magic param2 for COMPONENT_ARM_DISARM that forces a disarm in flight (emergency only). */
export const FORCE_DISARM_MAGIC = 21196;

export interface CommandParams {
  readonly command: number;
  readonly params?: readonly number[];
  readonly targetSystem: number;
  readonly targetComponent?: number;
  readonly confirmation?: number;
}

export function commandLong(p: CommandParams): common.CommandLong {
  const msg = new common.CommandLong();
  msg.targetSystem = p.targetSystem;
  msg.targetComponent = p.targetComponent ?? 1;
  msg.command = p.command as common.CommandLong['command'];
  msg.confirmation = p.confirmation ?? 0;
  const params = p.params ?? [];
  msg._param1 = params[0] ?? 0;
  msg._param2 = params[1] ?? 0;
  msg._param3 = params[2] ?? 0;
  msg._param4 = params[3] ?? 0;
  msg._param5 = params[4] ?? 0;
  msg._param6 = params[5] ?? 0;
  msg._param7 = params[6] ?? 0;
  return msg;
}

/** The seven params of a COMMAND_LONG as an array. */
export function commandParams(msg: common.CommandLong): number[] {
  return [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7];
}

export function setModeParams(mode: Px4Mode): number[] {
  return [MAV_MODE_FLAG.CUSTOM_MODE_ENABLED, mode.main, mode.sub];
}

export function commandAck(
  command: number,
  result: number,
  targetSystem: number,
  targetComponent: number,
  resultParam2 = 0,
): common.CommandAck {
  const ack = new common.CommandAck();
  ack.command = command as common.CommandAck['command'];
  ack.result = result as common.CommandAck['result'];
  ack.progress = 0;
  ack.resultParam2 = resultParam2;
  ack.targetSystem = targetSystem;
  ack.targetComponent = targetComponent;
  return ack;
}
