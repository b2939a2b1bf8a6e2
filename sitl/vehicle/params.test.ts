import { describe, expect, it } from 'vitest';
import {
  floatBitsAsInt32,
  int32AsFloatBits,
  MAV_PARAM_TYPE_INT32,
  MAV_PARAM_TYPE_REAL32,
  ParamStore,
  PX4_PARAMS,
} from './params.js';

describe('ParamStore', () => {
  it('starts at PX4 v1.15 defaults and lists parameters sorted, with stable indices', () => {
    const p = new ParamStore();
    expect(p.get('COM_OF_LOSS_T')).toBe(1);
    expect(p.get('MPC_Z_VEL_MAX_DN')).toBe(1.5);
    expect(p.get('MIS_TAKEOFF_ALT')).toBe(2.5);
    const names = p.names();
    expect([...names].sort()).toEqual(names);
    expect(names).toHaveLength(Object.keys(PX4_PARAMS).length);
    names.forEach((name, i) => {
      expect(p.wire(name).index).toBe(i);
    });
    expect(p.wireAt(names.length)).toBeNull();
  });

  it('carries INT32 values bytewise in the float field, as PX4 does', () => {
    const p = new ParamStore();
    const w = p.wire('COM_OBL_RC_ACT');
    expect(w.mavType).toBe(MAV_PARAM_TYPE_INT32);
    expect(floatBitsAsInt32(w.wireValue)).toBe(0);
    const r = p.setFromWire('COM_OBL_RC_ACT\0\0', int32AsFloatBits(4));
    expect(r).toMatchObject({ ok: true, value: 4, changed: true });
    expect(p.get('COM_OBL_RC_ACT')).toBe(4);
    expect(p.wire('MPC_XY_VEL_MAX').mavType).toBe(MAV_PARAM_TYPE_REAL32);
  });

  it('refuses unknown names, non-finite and out-of-range values, and tells listeners of changes only', () => {
    const p = new ParamStore();
    const heard: string[] = [];
    p.onChange((name, value) => heard.push(`${name}=${value}`));
    expect(p.setFromWire('NOPE', 1).ok).toBe(false);
    expect(p.set('MPC_XY_VEL_MAX', Number.NaN).ok).toBe(false);
    expect(p.set('MPC_XY_VEL_MAX', 21).ok).toBe(false);
    expect(p.set('MPC_XY_VEL_MAX', 12).ok).toBe(true); // unchanged
    expect(p.set('MPC_XY_VEL_MAX', 8).ok).toBe(true);
    expect(heard).toEqual(['MPC_XY_VEL_MAX=8']);
  });
});
