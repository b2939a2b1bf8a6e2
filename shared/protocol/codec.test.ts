import { describe, expect, it } from 'vitest';
import { createRng } from '../random/index.js';
import {
  ALL_CHANNELS,
  type Channel,
  checkSchemaVersion,
  decodeCommand,
  decodePayload,
  encodePayload,
  exampleCommands,
  examplePayloads,
  MAX_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
} from './index.js';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const example = (channel: Channel): Record<string, unknown> =>
  examplePayloads()[channel] as unknown as Record<string, unknown>;

function refused(channel: Channel, payload: Uint8Array | string): string {
  const r = decodePayload(channel, payload);
  expect(r.ok).toBe(false);
  return r.ok ? '' : r.reason;
}

describe('schema version', () => {
  it('accepts any minor of major 1 and refuses another major with a reason', () => {
    expect(PROTOCOL_VERSION).toBe('1.0');
    expect(checkSchemaVersion({ schema: '1.0' })).toEqual({ ok: true, value: { major: 1, minor: 0 } });
    expect(checkSchemaVersion({ schema: '1.17' })).toEqual({ ok: true, value: { major: 1, minor: 17 } });
    const two = checkSchemaVersion({ schema: '2.0' });
    expect(two.ok).toBe(false);
    if (!two.ok) expect(two.reason).toMatch(/major 2.*major 1/);
    for (const bad of [{}, { schema: 1 }, { schema: '1' }, { schema: 'v1.0' }, { schema: '1.0.0' }, null, [], 'x']) {
      expect(checkSchemaVersion(bad).ok).toBe(false);
    }
  });
});

describe('every channel', () => {
  for (const channel of ALL_CHANNELS) {
    describe(channel, () => {
      it('round-trips its example through encode and decode', () => {
        const value = example(channel);
        const encoded = encodePayload(channel, value as never);
        expect(encoded.ok).toBe(true);
        if (!encoded.ok) return;
        const decoded = decodePayload(channel, encoded.value);
        expect(decoded).toEqual({ ok: true, value });
      });

      it('accepts a newer minor with fields it does not know, and strips them', () => {
        const decoded = decodePayload(channel, bytes({ ...example(channel), schema: '1.9', addedInMinor9: 'x' }));
        expect(decoded.ok).toBe(true);
        if (decoded.ok) expect(decoded.value).not.toHaveProperty('addedInMinor9');
      });

      it('refuses another major with the reason', () => {
        expect(refused(channel, bytes({ ...example(channel), schema: '2.0' }))).toMatch(/major 2/);
        expect(refused(channel, bytes({ ...example(channel), schema: '0.9' }))).toMatch(/major 0/);
        const { schema: _, ...noSchema } = example(channel);
        expect(refused(channel, bytes(noSchema))).toMatch(/schema is missing/);
      });

      it('refuses malformed JSON, non-objects, empty and non-UTF-8 payloads', () => {
        const good = JSON.stringify(example(channel));
        expect(refused(channel, good.slice(0, good.length - 1))).toMatch(/not JSON/);
        expect(refused(channel, '')).toMatch(/empty/);
        expect(refused(channel, '[1,2]')).toMatch(/not a JSON object/);
        expect(refused(channel, 'null')).toMatch(/not a JSON object/);
        expect(refused(channel, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toMatch(/UTF-8/);
      });

      it('refuses a payload over its size limit before parsing it', () => {
        const huge = Buffer.alloc(MAX_PAYLOAD_BYTES[channel] + 1, 0x20);
        expect(refused(channel, huge)).toMatch(/exceeds/);
      });

      it('refuses wrong types and names the field', () => {
        const value = example(channel);
        // The first field after schema of each payload, given a value of the wrong type.
        const field = Object.keys(value).find((k) => k !== 'schema' && k !== 'kind') as string;
        const reason = refused(channel, bytes({ ...value, [field]: { wrong: true } }));
        expect(reason).toContain(field);
      });
    });
  }

  it('refuses unknown kinds on the kinded channels', () => {
    expect(refused('status', bytes({ ...example('status'), kind: 'zombie' }))).toMatch(/unknown status kind "zombie"/);
    expect(refused('events', bytes({ ...example('events'), kind: 'gossip' }))).toMatch(/unknown events kind/);
    expect(refused('commands', bytes({ ...example('commands'), kind: 'barrel-roll' }))).toMatch(
      /unknown commands kind "barrel-roll"/,
    );
    expect(refused('commands', bytes({ ...example('commands'), kind: undefined }))).toMatch(/kind missing/);
  });
});

describe('payload rules', () => {
  it('decodes every command kind', () => {
    for (const c of exampleCommands()) {
      const r = decodePayload('commands', bytes(c));
      expect(r.ok, c.kind).toBe(true);
    }
  });

  it('wants a drop point in an assignment and a sane cruise altitude', () => {
    const { dropNeM: _d, dropGeo: _g, ...noDrop } = exampleCommands()[0] as Record<string, unknown>;
    expect(refused('commands', bytes(noDrop))).toMatch(/dropNeM or dropGeo/);
    expect(refused('commands', bytes({ ...exampleCommands()[0], cruiseAltM: 500 }))).toMatch(/cruiseAltM/);
    expect(refused('commands', bytes({ ...exampleCommands()[0], dropNeM: [Number.NaN, 1] }))).toMatch(/dropNeM/);
  });

  it('refuses a malformed airspace inside set-airspace and fleet airspace', () => {
    const cmd = exampleCommands()[5] as Record<string, unknown>;
    expect(refused('commands', bytes({ ...cmd, airspace: { geofence: { polygonNeM: [], ceilingM: 10 } } }))).toMatch(
      /airspace.geofence.polygonNeM/,
    );
    const fleet = example('airspace');
    expect(refused('airspace', bytes({ ...fleet, origin: { latDeg: 91, lonDeg: 0, altAmslM: 0 } }))).toMatch(
      /origin.latDeg/,
    );
  });

  it('keeps death pairing fields and the birth invariants', () => {
    const death = { schema: '1.0', kind: 'death', id: 'd1', online: false, sessionId: 's1' };
    expect(decodePayload('status', bytes(death)).ok).toBe(true);
    expect(refused('status', bytes({ ...death, online: true }))).toMatch(/online/);
    expect(refused('status', bytes({ ...death, sessionId: undefined }))).toMatch(/sessionId/);
    expect(refused('status', bytes({ ...example('status'), id: 'a/b' }))).toMatch(/id/);
  });

  it('validates experience records with shared/experience', () => {
    const batch = example('experience') as { records: Record<string, unknown>[] };
    const bad = { ...batch, records: [{ ...batch.records[0], observation: [1, 2, 3] }] };
    expect(refused('experience', bytes(bad))).toMatch(/records.0.observation/);
    expect(refused('experience', bytes({ ...batch, records: [] }))).toMatch(/records/);
  });

  it('refuses outgoing payloads that break the schema, as a value', () => {
    const telemetry = { ...example('telemetry'), batteryRemaining: Number.NaN };
    const r = encodePayload('telemetry', telemetry as never);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/batteryRemaining/);
  });
});

describe('decodeCommand', () => {
  it('salvages the commandId and kind of a refused command so it can be answered', () => {
    const wrongMajor = decodeCommand(bytes({ ...exampleCommands()[1], schema: '2.1' }));
    expect(wrongMajor).toMatchObject({ ok: false, commandId: 'c-2', kind: 'abort', unsupported: false });
    const unknown = decodeCommand(bytes({ schema: '1.0', commandId: 'c-9', kind: 'barrel-roll', timeMs: 1 }));
    expect(unknown).toMatchObject({ ok: false, commandId: 'c-9', kind: 'barrel-roll', unsupported: true });
    const badArgs = decodeCommand(bytes({ ...exampleCommands()[0], cruiseAltM: 'high' }));
    expect(badArgs).toMatchObject({ ok: false, commandId: 'c-1', unsupported: false });
  });

  it('cannot name a command it cannot read', () => {
    expect(decodeCommand('{"commandId": "c-1"')).toMatchObject({ ok: false, commandId: null });
    expect(decodeCommand(bytes({ schema: '1.0', commandId: 42, kind: 'abort' }))).toMatchObject({ commandId: null });
    expect(decodeCommand(bytes([{ commandId: 'x' }]))).toMatchObject({ commandId: null });
  });
});

describe('decodePayload on garbage', () => {
  it('never throws on random bytes, truncations or field mutations', () => {
    const rng = createRng(7);
    const samples: Uint8Array[] = [];
    for (const channel of ALL_CHANNELS) {
      const good = bytes(example(channel));
      for (let k = 0; k < 40; k++) {
        const copy = Buffer.from(good);
        for (let m = 0; m < 1 + Math.floor(rng.next() * 4); m++) {
          copy[Math.floor(rng.next() * copy.length)] = Math.floor(rng.next() * 256);
        }
        samples.push(copy, good.subarray(0, Math.floor(rng.next() * good.length)));
      }
    }
    samples.push(Buffer.from('['.repeat(100_000)), Buffer.from('{"schema":"1.0","a":'.repeat(1000)));
    let refusedCount = 0;
    for (const channel of ALL_CHANNELS) {
      for (const s of samples) {
        const r = decodePayload(channel, s);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) {
          refusedCount++;
          expect(r.reason.length).toBeGreaterThan(0);
        }
        expect(
          decodeCommand(s).ok === true || typeof (decodeCommand(s) as { reason: string }).reason === 'string',
        ).toBe(true);
      }
    }
    expect(refusedCount).toBeGreaterThan(samples.length);
  });
});
