/**
 * The PX4 parameters the simulated vehicle models, with PX4 v1.15 defaults, types and ranges, and a store that reads
 * and writes them the way PX4's MAVLink parameter protocol does: INT32 values travel bytewise inside the float field
 * of PARAM_VALUE / PARAM_SET (as PX4 and QGroundControl do), REAL32 values as themselves.
 */

/** MAV_PARAM_TYPE values PX4 uses. */
export const MAV_PARAM_TYPE_INT32 = 6;
export const MAV_PARAM_TYPE_REAL32 = 9;

export interface ParamDecl {
  readonly type: 'int32' | 'float';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Unit and one line of meaning, as PX4's parameter metadata gives them. */
  readonly doc: string;
}

/** Sorted by name, as PX4 lists its parameters (the index in PARAM_VALUE follows this order). */
export const PX4_PARAMS = {
  BAT_CRIT_THR: {
    type: 'float',
    default: 0.07,
    min: 0.05,
    max: 0.5,
    doc: 'fraction; critical battery: RTL per COM_LOW_BAT_ACT',
  },
  BAT_EMERGEN_THR: { type: 'float', default: 0.05, min: 0.03, max: 0.5, doc: 'fraction; emergency battery: land' },
  BAT_LOW_THR: { type: 'float', default: 0.15, min: 0.12, max: 0.5, doc: 'fraction; low battery: warning' },
  COM_DISARM_LAND: { type: 'float', default: 2, min: -1, max: 20, doc: 's; auto-disarm after landing (-1 off)' },
  COM_DISARM_PRFLT: { type: 'float', default: 10, min: -1, max: 20, doc: 's; auto-disarm if no takeoff after arming' },
  COM_LOW_BAT_ACT: {
    type: 'int32',
    default: 3,
    min: 0,
    max: 3,
    doc: '0 warn, 2 land, 3 RTL at critical + land at emergency',
  },
  COM_OBL_RC_ACT: {
    type: 'int32',
    default: 0,
    min: 0,
    max: 7,
    doc: 'offboard loss action: 0 pos 1 alt 2 man 3 RTL 4 land 5 hold 6 term 7 disarm',
  },
  COM_OF_LOSS_T: { type: 'float', default: 1, min: 0, max: 60, doc: 's; offboard setpoint stream timeout' },
  MIS_TAKEOFF_ALT: { type: 'float', default: 2.5, min: 0, max: 100, doc: 'm; takeoff altitude above home' },
  MPC_ACC_DOWN_MAX: { type: 'float', default: 3, min: 2, max: 15, doc: 'm/s^2; max downward acceleration' },
  MPC_ACC_HOR: { type: 'float', default: 3, min: 2, max: 15, doc: 'm/s^2; max horizontal acceleration' },
  MPC_ACC_UP_MAX: { type: 'float', default: 4, min: 2, max: 15, doc: 'm/s^2; max upward acceleration' },
  MPC_LAND_ALT1: {
    type: 'float',
    default: 10,
    min: 0,
    max: 122,
    doc: 'm; above this, land descends at MPC_Z_VEL_MAX_DN',
  },
  MPC_LAND_ALT2: { type: 'float', default: 5, min: 0, max: 122, doc: 'm; below this, land descends at MPC_LAND_SPEED' },
  MPC_LAND_SPEED: { type: 'float', default: 0.7, min: 0.6, max: 4, doc: 'm/s; final landing descent speed' },
  MPC_TKO_SPEED: { type: 'float', default: 1.5, min: 1, max: 5, doc: 'm/s; takeoff climb speed' },
  MPC_XY_CRUISE: { type: 'float', default: 5, min: 3, max: 20, doc: 'm/s; horizontal speed in auto modes (RTL)' },
  MPC_XY_P: { type: 'float', default: 0.95, min: 0, max: 2, doc: '1/s; horizontal position gain' },
  MPC_XY_VEL_MAX: { type: 'float', default: 12, min: 0, max: 20, doc: 'm/s; max horizontal speed' },
  MPC_YAWRAUTO_MAX: { type: 'float', default: 45, min: 0, max: 360, doc: 'deg/s; max yaw rate' },
  MPC_Z_P: { type: 'float', default: 1, min: 0.1, max: 1.5, doc: '1/s; vertical position gain' },
  MPC_Z_VEL_MAX_DN: { type: 'float', default: 1.5, min: 0.5, max: 4, doc: 'm/s; max descent speed' },
  MPC_Z_VEL_MAX_UP: { type: 'float', default: 3, min: 0.5, max: 8, doc: 'm/s; max climb speed' },
  MAV_SYS_ID: { type: 'int32', default: 1, min: 1, max: 250, doc: 'MAVLink system id (takes effect after reboot)' },
  RTL_DESCEND_ALT: {
    type: 'float',
    default: 30,
    min: 2,
    max: 100,
    doc: 'm; RTL descends to this above home before landing',
  },
  RTL_LAND_DELAY: { type: 'float', default: 0, min: -1, max: 300, doc: 's; RTL hover before landing (-1 never lands)' },
  RTL_RETURN_ALT: {
    type: 'float',
    default: 60,
    min: 0,
    max: 150,
    doc: 'm; RTL climbs to this above home before returning',
  },
} as const satisfies Record<string, ParamDecl>;

export type ParamName = keyof typeof PX4_PARAMS;

const NAMES = (Object.keys(PX4_PARAMS) as ParamName[]).sort();
const scratch = new DataView(new ArrayBuffer(4));

/** An int32 carried bytewise in a float32 field (what PX4 puts in PARAM_VALUE.param_value). */
export function int32AsFloatBits(value: number): number {
  scratch.setInt32(0, value, true);
  return scratch.getFloat32(0, true);
}

/** The int32 whose bytes a float32 field carries. */
export function floatBitsAsInt32(value: number): number {
  scratch.setFloat32(0, value, true);
  return scratch.getInt32(0, true);
}

export interface ParamWire {
  readonly name: ParamName;
  readonly index: number;
  readonly count: number;
  /** The float field as sent: bytewise for INT32. */
  readonly wireValue: number;
  readonly mavType: number;
}

export type ParamSetResult =
  | { ok: true; name: ParamName; value: number; changed: boolean }
  | { ok: false; reason: string };

/** One vehicle's parameter values. Listeners hear every change (the fleet pushes limits into the dynamics). */
export class ParamStore {
  private readonly values = new Map<ParamName, number>();
  private readonly listeners: ((name: ParamName, value: number) => void)[] = [];

  constructor(overrides: Partial<Record<ParamName, number>> = {}) {
    for (const name of NAMES) this.values.set(name, overrides[name] ?? PX4_PARAMS[name].default);
  }

  get(name: ParamName): number {
    return this.values.get(name) as number;
  }

  get count(): number {
    return NAMES.length;
  }

  onChange(listener: (name: ParamName, value: number) => void): void {
    this.listeners.push(listener);
  }

  /** Set a value in engineering units (tests, config). Out-of-range or non-finite values are refused. */
  set(name: ParamName, value: number): ParamSetResult {
    const decl: ParamDecl = PX4_PARAMS[name];
    if (!Number.isFinite(value)) return { ok: false, reason: `${name}: not a finite number` };
    const v = decl.type === 'int32' ? Math.round(value) : Math.fround(value);
    if (v < decl.min || v > decl.max) return { ok: false, reason: `${name}: ${v} outside [${decl.min}, ${decl.max}]` };
    const changed = this.get(name) !== v;
    this.values.set(name, v);
    if (changed) for (const l of this.listeners) l(name, v);
    return { ok: true, name, value: v, changed };
  }

  /** Look a name up as it arrives in PARAM_SET / PARAM_REQUEST_READ (16 chars, NUL padded). */
  static resolve(rawName: string): ParamName | null {
    const name = rawName.replace(/\0.*$/s, '');
    return Object.hasOwn(PX4_PARAMS, name) ? (name as ParamName) : null;
  }

  /**
   * Apply a PARAM_SET as PX4 does: the 4 bytes of the float field are the value, so INT32 parameters are decoded
   * bytewise whatever type the sender declared.
   */
  setFromWire(rawName: string, wireValue: number): ParamSetResult {
    const name = ParamStore.resolve(rawName);
    if (name === null)
      return { ok: false, reason: `unknown parameter ${JSON.stringify(rawName.replace(/\0.*$/s, ''))}` };
    const value = PX4_PARAMS[name].type === 'int32' ? floatBitsAsInt32(wireValue) : wireValue;
    return this.set(name, value);
  }

  wire(name: ParamName): ParamWire {
    const decl: ParamDecl = PX4_PARAMS[name];
    const value = this.get(name);
    return {
      name,
      index: NAMES.indexOf(name),
      count: NAMES.length,
      wireValue: decl.type === 'int32' ? int32AsFloatBits(value) : value,
      mavType: decl.type === 'int32' ? MAV_PARAM_TYPE_INT32 : MAV_PARAM_TYPE_REAL32,
    };
  }

  wireAt(index: number): ParamWire | null {
    const name = NAMES[index];
    return name === undefined ? null : this.wire(name);
  }

  names(): readonly ParamName[] {
    return NAMES;
  }
}
