/**
 * PX4 custom modes as carried in HEARTBEAT.custom_mode and CURRENT_MODE: bits 16-23 main mode, bits 24-31 sub mode.
 */
export const PX4_MAIN_MODE = {
  MANUAL: 1,
  ALTCTL: 2,
  POSCTL: 3,
  AUTO: 4,
  ACRO: 5,
  OFFBOARD: 6,
  STABILIZED: 7,
  RATTITUDE: 8,
} as const;

export const PX4_AUTO_SUB_MODE = {
  READY: 1,
  TAKEOFF: 2,
  LOITER: 3,
  MISSION: 4,
  RTL: 5,
  LAND: 6,
  FOLLOW_TARGET: 8,
  PRECLAND: 9,
} as const;

/** MAV_MODE_FLAG bits used in HEARTBEAT.base_mode and DO_SET_MODE param1. */
export const MAV_MODE_FLAG = {
  CUSTOM_MODE_ENABLED: 1,
  AUTO_ENABLED: 4,
  GUIDED_ENABLED: 8,
  STABILIZE_ENABLED: 16,
  MANUAL_INPUT_ENABLED: 64,
  SAFETY_ARMED: 128,
} as const;

export interface Px4Mode {
  readonly main: number;
  readonly sub: number;
}

/** The modes Aerie names, as operators see them. */
export const PX4_MODES = {
  MANUAL: { main: 1, sub: 0 },
  ALTCTL: { main: 2, sub: 0 },
  POSCTL: { main: 3, sub: 0 },
  'AUTO.READY': { main: 4, sub: 1 },
  'AUTO.TAKEOFF': { main: 4, sub: 2 },
  'AUTO.LOITER': { main: 4, sub: 3 },
  'AUTO.MISSION': { main: 4, sub: 4 },
  'AUTO.RTL': { main: 4, sub: 5 },
  'AUTO.LAND': { main: 4, sub: 6 },
  ACRO: { main: 5, sub: 0 },
  OFFBOARD: { main: 6, sub: 0 },
  STABILIZED: { main: 7, sub: 0 },
} as const satisfies Record<string, Px4Mode>;

export type Px4ModeName = keyof typeof PX4_MODES;

export function encodeCustomMode(mode: Px4Mode): number {
  return (((mode.sub & 0xff) << 24) | ((mode.main & 0xff) << 16)) >>> 0;
}

export function decodeCustomMode(customMode: number): Px4Mode {
  return { main: (customMode >>> 16) & 0xff, sub: (customMode >>> 24) & 0xff };
}

export function modeName(mode: Px4Mode): string {
  for (const [name, m] of Object.entries(PX4_MODES)) {
    if (m.main === mode.main && (m.sub === mode.sub || (m.main !== PX4_MAIN_MODE.AUTO && mode.sub === 0))) return name;
  }
  return `MODE(${mode.main}.${mode.sub})`;
}

export function modeNameOfCustom(customMode: number): string {
  return modeName(decodeCustomMode(customMode));
}

export function sameMode(a: Px4Mode, b: Px4Mode): boolean {
  return a.main === b.main && (a.main !== PX4_MAIN_MODE.AUTO || a.sub === b.sub);
}
