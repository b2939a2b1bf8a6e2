import { describe, expect, it } from 'vitest';
import { isAerieError } from '../errors.js';
import { argvToRaw, configHelp, declareConfig, parseConfig } from './index.js';

const schema = declareConfig({
  vehicles: { type: 'integer', default: 1, min: 1, max: 500, doc: 'How many vehicles.' },
  speed: { type: 'number', default: 1, unit: 'x', min: 0.1, max: 1000, doc: 'Time factor.' },
  wind: { type: 'boolean', default: false, doc: 'Turn wind on.' },
  mode: { type: 'enum', values: ['a', 'b'] as const, default: 'a', doc: 'A mode.' },
  home: { type: 'string', default: undefined, optional: true, doc: 'Home.' },
});

describe('config', () => {
  it('fills defaults and freezes', () => {
    const cfg = parseConfig(schema, {});
    expect(cfg).toEqual({ vehicles: 1, speed: 1, wind: false, mode: 'a', home: undefined });
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('parses flags in kebab case, --flag and --no-flag', () => {
    const { raw, positional } = argvToRaw(schema, ['--vehicles', '5', '--wind', 'x', '--speed=10']);
    expect(positional).toEqual(['x']);
    expect(parseConfig(schema, raw)).toMatchObject({ vehicles: 5, wind: true, speed: 10 });
    expect(parseConfig(schema, argvToRaw(schema, ['--no-wind']).raw).wind).toBe(false);
  });

  it('refuses unknown keys by name', () => {
    try {
      parseConfig(schema, { vehicle: 3 });
      expect.unreachable();
    } catch (err) {
      expect(isAerieError(err, 'CONFIG_UNKNOWN_KEY')).toBe(true);
      expect(String(err)).toContain('vehicle');
    }
  });

  it('refuses out-of-range and mistyped values with the unit', () => {
    expect(() => parseConfig(schema, { speed: 0 })).toThrow(/speed: must be >= 0.1 x/);
    expect(() => parseConfig(schema, { vehicles: '2.5' })).toThrow(/integer/);
    expect(() => parseConfig(schema, { mode: 'c' })).toThrow(/one of a, b/);
    expect(() => parseConfig(schema, { wind: 'maybe' })).toThrow(/true or false/);
  });

  it('prints help with defaults and ranges', () => {
    expect(configHelp(schema)).toContain('--vehicles (default 1; [1..500])');
  });
});
