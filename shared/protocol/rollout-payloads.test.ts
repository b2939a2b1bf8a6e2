/** The protocol additions for policy rollouts: bundle chunks, policy commands and events, slots, shadow metrics. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_CHUNK_BYTES,
  CHANNEL_DELIVERY,
  decodeCommand,
  decodePayload,
  encodePayload,
  examplePayloads,
  examplePolicyEvents,
  MAX_BUNDLE_CHUNKS,
  parseDroneTopic,
  topics,
} from './index.js';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const T = 1_760_000_000_000;

function chunk(over: Record<string, unknown> = {}) {
  return { ...examplePayloads().bundle, ...over };
}

describe('bundle channel', () => {
  it('is station -> drone, QoS 1, not retained, with its own topic', () => {
    expect(topics.droneBundle('d-7')).toBe('aerie/v1/drones/d-7/bundle');
    expect(parseDroneTopic('aerie/v1/drones/d-7/bundle')).toEqual({ id: 'd-7', channel: 'bundle' });
    expect(CHANNEL_DELIVERY.bundle).toEqual({ qos: 1, retain: false });
  });

  it('carries a full-size chunk within the channel limit', () => {
    const data = Buffer.alloc(BUNDLE_CHUNK_BYTES, 0xab);
    const full = chunk({
      totalBytes: 3 * BUNDLE_CHUNK_BYTES + 5,
      count: 4,
      index: 3,
      data: data.toString('base64'),
      chunkSha256: createHash('sha256').update(data).digest('hex'),
    });
    const encoded = encodePayload('bundle', full as never);
    expect(encoded.ok && decodePayload('bundle', encoded.value).ok).toBe(true);
    expect(MAX_BUNDLE_CHUNKS).toBe(1366);
  });

  it('refuses an index past the count, a count that does not fit totalBytes, oversized or non-base64 data', () => {
    const reason = (v: unknown) => {
      const r = decodePayload('bundle', bytes(v));
      return r.ok ? 'accepted' : r.reason;
    };
    expect(reason(chunk({ index: 2 }))).toMatch(/index/);
    expect(reason(chunk({ count: 3 }))).toMatch(/count/);
    expect(reason(chunk({ data: Buffer.alloc(BUNDLE_CHUNK_BYTES + 3).toString('base64') }))).toMatch(/data/);
    expect(reason(chunk({ data: 'not base64!' }))).toMatch(/data/);
    expect(reason(chunk({ sha256: 'A'.repeat(64) }))).toMatch(/sha256/);
  });
});

describe('policy commands', () => {
  const base = { schema: '1.0', timeMs: T };
  it('decodes install-policy, shadow-policy and revert-policy, and names a missing field', () => {
    const install = {
      ...base,
      commandId: 'i1',
      kind: 'install-policy',
      version: 'sha256:00112233aabbccdd',
      sha256: 'c'.repeat(64),
      totalBytes: 1000,
    };
    expect(decodeCommand(bytes(install)).ok).toBe(true);
    expect(
      decodeCommand(bytes({ ...base, commandId: 's1', kind: 'shadow-policy', version: 'v', enabled: false })).ok,
    ).toBe(true);
    expect(decodeCommand(bytes({ ...base, commandId: 'r1', kind: 'revert-policy' })).ok).toBe(true);
    const { totalBytes: _, ...noSize } = install;
    const r = decodeCommand(bytes(noSize));
    expect(r).toMatchObject({ ok: false, commandId: 'i1', kind: 'install-policy', unsupported: false });
    expect(!r.ok && r.reason).toMatch(/totalBytes/);
    expect(decodeCommand(bytes({ ...install, totalBytes: 65 * 1024 * 1024 })).ok).toBe(false);
    const shadow = decodeCommand(bytes({ ...base, commandId: 's2', kind: 'shadow-policy', version: 'v' }));
    expect(!shadow.ok && shadow.reason).toMatch(/enabled/);
  });
});

describe('policy events, slots and shadow metrics', () => {
  it('decodes every example policy event and refuses an unknown action', () => {
    for (const e of examplePolicyEvents())
      expect(decodePayload('events', bytes(e)), JSON.stringify(e).slice(0, 80)).toEqual({ ok: true, value: e });
    const r = decodePayload('events', bytes({ ...examplePolicyEvents()[0], action: 'exploded' }));
    expect(!r.ok && r.reason).toMatch(/action/);
  });

  it('accepts a birth without policy slots (older drones) and refuses a slot without its sha256', () => {
    const { policy, ...birth } = examplePayloads().status as Record<string, unknown>;
    expect(policy).toBeDefined();
    expect(decodePayload('status', bytes(birth)).ok).toBe(true);
    const r = decodePayload('status', bytes({ ...birth, policy: { active: { version: 'sha256:0011223344556677' } } }));
    expect(!r.ok && r.reason).toMatch(/policy\.active\.sha256/);
  });

  it('accepts metrics without shadow, and a shadow window with no ticks has null divergence', () => {
    const { shadow, ...metrics } = examplePayloads().metrics;
    expect(decodePayload('metrics', bytes(metrics)).ok).toBe(true);
    const idle = { ...shadow, ticks: 0, divergenceMeanMps: null, divergenceP95Mps: null };
    expect(decodePayload('metrics', bytes({ ...metrics, shadow: idle })).ok).toBe(true);
    const r = decodePayload('metrics', bytes({ ...metrics, shadow: { ...idle, divergenceMeanMps: -1 } }));
    expect(!r.ok && r.reason).toMatch(/shadow\.divergenceMeanMps/);
  });
});
