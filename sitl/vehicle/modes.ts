/**
 * PX4 navigation states as the simulated commander knows them, and how each shows on the wire: custom_mode (main and
 * sub mode), base_mode flags and CURRENT_MODE's standard mode, copied from what PX4 v1.15.4 sent in the recorded
 * conversation (shared px4-reference) where it showed them.
 */
import {
  encodeCustomMode,
  MAV_MODE_FLAG,
  PX4_AUTO_SUB_MODE,
  PX4_MAIN_MODE,
  type Px4Mode,
} from '../../shared/mavlink/index.js';

/** Navigation states. DESCEND and TERMINATION are failsafe-only; the rest a user can select. */
export type NavState =
  | 'MANUAL'
  | 'ALTCTL'
  | 'POSCTL'
  | 'AUTO.MISSION'
  | 'AUTO.LOITER'
  | 'AUTO.RTL'
  | 'AUTO.LAND'
  | 'AUTO.TAKEOFF'
  | 'AUTO.FOLLOW_TARGET'
  | 'AUTO.PRECLAND'
  | 'ACRO'
  | 'OFFBOARD'
  | 'STABILIZED'
  | 'DESCEND'
  | 'TERMINATION';

/** The modes this simulator flies. Others can be selected while disarmed (as PX4 allows) but never armed in. */
export const FLOWN_MODES: ReadonlySet<NavState> = new Set<NavState>([
  'POSCTL',
  'AUTO.LOITER',
  'AUTO.RTL',
  'AUTO.LAND',
  'AUTO.TAKEOFF',
  'OFFBOARD',
]);

/** PX4's mode_req_prevent_arming: arming is refused while one of these is selected. */
export const PREVENTS_ARMING: ReadonlySet<NavState> = new Set<NavState>([
  'AUTO.LAND',
  'AUTO.RTL',
  'AUTO.PRECLAND',
  'DESCEND',
  'TERMINATION',
]);

/** Modes that need a valid position estimate (PX4's mode_req_local_position / global_position). */
export const NEEDS_POSITION: ReadonlySet<NavState> = new Set<NavState>([
  'POSCTL',
  'AUTO.MISSION',
  'AUTO.LOITER',
  'AUTO.RTL',
  'AUTO.TAKEOFF',
  'AUTO.FOLLOW_TARGET',
  'AUTO.PRECLAND',
  'OFFBOARD',
]);

const { AUTO } = PX4_MAIN_MODE;

const CUSTOM: Record<NavState, Px4Mode> = {
  MANUAL: { main: PX4_MAIN_MODE.MANUAL, sub: 0 },
  ALTCTL: { main: PX4_MAIN_MODE.ALTCTL, sub: 0 },
  POSCTL: { main: PX4_MAIN_MODE.POSCTL, sub: 0 },
  'AUTO.MISSION': { main: AUTO, sub: PX4_AUTO_SUB_MODE.MISSION },
  'AUTO.LOITER': { main: AUTO, sub: PX4_AUTO_SUB_MODE.LOITER },
  'AUTO.RTL': { main: AUTO, sub: PX4_AUTO_SUB_MODE.RTL },
  'AUTO.LAND': { main: AUTO, sub: PX4_AUTO_SUB_MODE.LAND },
  'AUTO.TAKEOFF': { main: AUTO, sub: PX4_AUTO_SUB_MODE.TAKEOFF },
  'AUTO.FOLLOW_TARGET': { main: AUTO, sub: PX4_AUTO_SUB_MODE.FOLLOW_TARGET },
  'AUTO.PRECLAND': { main: AUTO, sub: PX4_AUTO_SUB_MODE.PRECLAND },
  ACRO: { main: PX4_MAIN_MODE.ACRO, sub: 0 },
  OFFBOARD: { main: PX4_MAIN_MODE.OFFBOARD, sub: 0 },
  STABILIZED: { main: PX4_MAIN_MODE.STABILIZED, sub: 0 },
  // PX4 shows its DESCEND failsafe as AUTO.LAND and TERMINATION as MANUAL (px4_custom_mode.h).
  DESCEND: { main: AUTO, sub: PX4_AUTO_SUB_MODE.LAND },
  TERMINATION: { main: PX4_MAIN_MODE.MANUAL, sub: 0 },
};

export function customModeOf(state: NavState): number {
  return encodeCustomMode(CUSTOM[state]);
}

/**
 * DO_SET_MODE (param1 base mode, param2 main, param3 sub) to a navigation state, as PX4's commander maps it:
 * `null` = no mode requested (PX4 answers ACCEPTED and changes nothing), `'unsupported'` = an AUTO sub mode PX4 does
 * not know (TEMPORARILY_REJECTED).
 */
export function navStateFromSetMode(baseMode: number, main: number, sub: number): NavState | null | 'unsupported' {
  const base = Number.isFinite(baseMode) ? Math.trunc(baseMode) & 0xff : 0;
  const mainMode = Number.isFinite(main) ? Math.trunc(main) & 0xff : 0;
  const subMode = Number.isFinite(sub) ? Math.trunc(sub) & 0xff : 0;
  if ((base & MAV_MODE_FLAG.CUSTOM_MODE_ENABLED) !== 0) {
    switch (mainMode) {
      case PX4_MAIN_MODE.MANUAL:
        return 'MANUAL';
      case PX4_MAIN_MODE.ALTCTL:
        return 'ALTCTL';
      case PX4_MAIN_MODE.POSCTL:
        return 'POSCTL';
      case PX4_MAIN_MODE.ACRO:
        return 'ACRO';
      case PX4_MAIN_MODE.STABILIZED:
        return 'STABILIZED';
      case PX4_MAIN_MODE.OFFBOARD:
        return 'OFFBOARD';
      case AUTO:
        switch (subMode) {
          case 0:
          case PX4_AUTO_SUB_MODE.MISSION:
            return 'AUTO.MISSION';
          case PX4_AUTO_SUB_MODE.LOITER:
            return 'AUTO.LOITER';
          case PX4_AUTO_SUB_MODE.RTL:
            return 'AUTO.RTL';
          case PX4_AUTO_SUB_MODE.TAKEOFF:
            return 'AUTO.TAKEOFF';
          case PX4_AUTO_SUB_MODE.LAND:
            return 'AUTO.LAND';
          case PX4_AUTO_SUB_MODE.FOLLOW_TARGET:
            return 'AUTO.FOLLOW_TARGET';
          case PX4_AUTO_SUB_MODE.PRECLAND:
            return 'AUTO.PRECLAND';
          default:
            return 'unsupported';
        }
      default:
        return null;
    }
  }
  if ((base & MAV_MODE_FLAG.AUTO_ENABLED) !== 0) return 'AUTO.MISSION';
  if ((base & MAV_MODE_FLAG.MANUAL_INPUT_ENABLED) !== 0) {
    if ((base & MAV_MODE_FLAG.GUIDED_ENABLED) !== 0) return 'POSCTL';
    if ((base & MAV_MODE_FLAG.STABILIZE_ENABLED) !== 0) return 'STABILIZED';
    return 'MANUAL';
  }
  return null;
}

const MANUAL_INPUT: ReadonlySet<NavState> = new Set<NavState>(['MANUAL', 'ALTCTL', 'POSCTL', 'ACRO', 'STABILIZED']);

/**
 * HEARTBEAT.base_mode as PX4 fills it. Recorded: AUTO.LOITER disarmed 29, OFFBOARD disarmed 17 / armed 145,
 * POSCTL armed 209, AUTO.LAND armed 157.
 */
export function baseModeOf(state: NavState, armed: boolean): number {
  let flags = MAV_MODE_FLAG.CUSTOM_MODE_ENABLED;
  if (armed) flags |= MAV_MODE_FLAG.SAFETY_ARMED;
  if (MANUAL_INPUT.has(state)) flags |= MAV_MODE_FLAG.MANUAL_INPUT_ENABLED;
  if (state !== 'MANUAL' && state !== 'ACRO' && state !== 'TERMINATION') flags |= MAV_MODE_FLAG.STABILIZE_ENABLED;
  if (state.startsWith('AUTO.') || state === 'DESCEND')
    flags |= MAV_MODE_FLAG.AUTO_ENABLED | MAV_MODE_FLAG.GUIDED_ENABLED;
  return flags;
}

/**
 * CURRENT_MODE.standard_mode with the numbering PX4 v1.15's MAVLink headers used (RETURN_HOME 5, MISSION 7, LAND 8,
 * TAKEOFF 9; newer MAVLink renumbered). The recording shows it follows the user's intended mode: POSCTL entered by
 * failsafe while OFFBOARD was intended read 0, AUTO.LAND selected by the client read 8.
 */
export function standardModeOf(intended: NavState): number {
  switch (intended) {
    case 'POSCTL':
      return 1;
    case 'ALTCTL':
      return 4;
    case 'AUTO.RTL':
      return 5;
    case 'AUTO.MISSION':
      return 7;
    case 'AUTO.LAND':
      return 8;
    case 'AUTO.TAKEOFF':
      return 9;
    default:
      return 0;
  }
}
