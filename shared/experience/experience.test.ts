import { describe, expect, it } from 'vitest';
import { isAerieError } from '../errors.js';
import {
  crc32,
  decodeExperienceFile,
  EXPERIENCE_HEADER_BYTES,
  type ExperienceRecord,
  encodeExperienceFile,
  encodeExperienceRecord,
  interventionBits,
  interventionFlags,
  NO_INTERVENTIONS,
  parseExperienceRecord,
  validateExperienceRecord,
} from './index.js';

function record(step: number, overrides: Partial<ExperienceRecord> = {}): ExperienceRecord {
  return {
    timestampUs: 1_700_000_000_000_000 + step * 20_000,
    episode: 7,
    step,
    observation: Array.from({ length: 32 }, (_, i) => Math.fround((i - 16) / 8 + step * 0.01)),
    action: [Math.fround(0.5), Math.fround(-0.25), 0],
    filteredAction: [Math.fround(0.4), Math.fround(-0.25), 0],
    reward: Math.fround(0.125),
    cost: step % 3 === 0 ? 1 : 0,
    interventions: { ...NO_INTERVENTIONS, barrier: step % 2 === 0, box: step === 1 },
    done: false,
    truncated: false,
    policyVersion: 'sha256:0123abcd',
    ...overrides,
  };
}

function expectCode(fn: () => unknown, text: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isAerieError(err, 'EXPERIENCE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(text);
    return;
  }
  throw new Error('expected EXPERIENCE_INVALID');
}

describe('experience records', () => {
  it('round-trips a dataset file exactly (float32 values)', () => {
    const records = [record(0), record(1), record(2, { done: true, policyVersion: 'v1.2.3-ü' })];
    const bytes = encodeExperienceFile(records);
    const back = decodeExperienceFile(bytes);
    expect(back.version).toBe('1.0');
    expect(back.truncatedTailBytes).toBe(0);
    expect(back.records).toEqual(records);
    // Compact: well under 200 bytes a tick for a short version string.
    expect((bytes.length - EXPERIENCE_HEADER_BYTES) / records.length).toBeLessThan(200);
  });

  it('keeps the complete records of a file cut mid-record and reports the tail', () => {
    const bytes = encodeExperienceFile([record(0), record(1)]);
    const cut = bytes.subarray(0, bytes.length - 10);
    const back = decodeExperienceFile(cut);
    expect(back.records).toHaveLength(1);
    expect(back.truncatedTailBytes).toBeGreaterThan(0);
  });

  it('refuses a corrupt record, another major version and a foreign file', () => {
    const bytes = encodeExperienceFile([record(0), record(1)]);
    const flipped = bytes.slice();
    flipped[EXPERIENCE_HEADER_BYTES + 40] ^= 0x10;
    expectCode(() => decodeExperienceFile(flipped), /record 0 .* CRC/);
    const v2 = bytes.slice();
    v2[4] = 2;
    expectCode(() => decodeExperienceFile(v2), /another major version/);
    expectCode(() => decodeExperienceFile(new TextEncoder().encode('{"not":"experience"}')), /not an experience file/);
    expectCode(() => decodeExperienceFile(new Uint8Array(3)), /too short/);
  });

  it('validates untrusted JSON records field by field', () => {
    const good = JSON.parse(JSON.stringify(record(4)));
    expect(validateExperienceRecord(good).ok).toBe(true);
    const bad = { ...good, observation: good.observation.slice(0, 31), cost: -1, extra: 1 };
    const r = validateExperienceRecord(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason.join(' ')).toMatch(/observation/);
      expect(r.reason.join(' ')).toMatch(/cost/);
    }
    expectCode(() => parseExperienceRecord({ ...good, action: [0, Number.NaN, 0] }, 'mqtt'), /mqtt: action\.1/);
    expectCode(() => encodeExperienceRecord(record(0, { reward: 1e300 })), /float32/);
    expectCode(() => encodeExperienceRecord(record(0, { policyVersion: 'x'.repeat(65) })), /policyVersion/);
  });

  it('maps intervention flags to bits and back', () => {
    const flags = { sanity: true, box: false, barrier: true, shield: false, monitor: true };
    expect(interventionBits(flags)).toBe(0b10101);
    expect(interventionFlags(0b10101)).toEqual(flags);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
