import { describe, expect, it } from 'vitest';
import { decodeCustomMode, encodeCustomMode, modeNameOfCustom, PX4_MODES, sameMode } from './px4-modes.js';

describe('PX4 custom modes', () => {
  it('encodes the documented values', () => {
    expect(encodeCustomMode(PX4_MODES.OFFBOARD)).toBe(0x00060000);
    expect(encodeCustomMode(PX4_MODES['AUTO.LAND'])).toBe(0x06040000);
    expect(encodeCustomMode({ main: 4, sub: 200 })).toBeGreaterThan(0);
  });

  it('decodes and names every mode it encodes', () => {
    for (const [name, mode] of Object.entries(PX4_MODES)) {
      expect(decodeCustomMode(encodeCustomMode(mode))).toEqual(mode);
      expect(modeNameOfCustom(encodeCustomMode(mode))).toBe(name);
    }
    expect(modeNameOfCustom(0x00420000)).toBe('MODE(66.0)');
  });

  it('compares sub modes only inside AUTO', () => {
    expect(sameMode({ main: 6, sub: 3 }, PX4_MODES.OFFBOARD)).toBe(true);
    expect(sameMode(PX4_MODES['AUTO.RTL'], PX4_MODES['AUTO.LAND'])).toBe(false);
  });
});
