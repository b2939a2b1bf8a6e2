import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minimal } from 'node-mavlink';
import { describe, expect, it } from 'vitest';
import { type Frame, FrameEncoder, FrameParser } from './frame.js';
import { appendSignature, readSigningKey, SIGNING_EPOCH_MS, SignatureVerifier, SigningClock } from './signing.js';

const KEY = Buffer.alloc(32, 7);
const NOW_MS = Date.UTC(2026, 10, 24, 12);
const ts = (ms: number) => Math.floor((ms - SIGNING_EPOCH_MS) * 100);

function signedFrame(enc: FrameEncoder, key: Buffer, timestamp10us: number, linkId = 1): Frame {
  const bytes = appendSignature(enc.encodeForSigning(new minimal.Heartbeat()), key, linkId, timestamp10us);
  let out: Frame | undefined;
  new FrameParser('datagram').push(bytes, (f) => {
    out = f;
  });
  if (!out) throw new Error('signed frame did not parse');
  return out;
}

describe('MAVLink 2 signing', () => {
  it('accepts a fresh signed frame and rejects replays, stale, unsigned and wrong-key frames', () => {
    const enc = new FrameEncoder(1, 1);
    const verifier = new SignatureVerifier(KEY, () => NOW_MS);
    const first = signedFrame(enc, KEY, ts(NOW_MS));
    expect(first.signed).toBe(true);
    expect(verifier.verify(first)).toBe('ok');
    expect(verifier.verify(first)).toBe('replay');
    expect(verifier.verify(signedFrame(enc, KEY, ts(NOW_MS) + 1))).toBe('ok');
    expect(verifier.verify(signedFrame(enc, KEY, ts(NOW_MS) - 5))).toBe('replay');
    // A new stream (another link id) whose clock is two minutes off is stale.
    expect(verifier.verify(signedFrame(enc, KEY, ts(NOW_MS - 120_000), 9))).toBe('stale');
    expect(verifier.verify(signedFrame(enc, Buffer.alloc(32, 8), ts(NOW_MS) + 10))).toBe('bad-signature');
    let unsigned: Frame | undefined;
    new FrameParser().push(enc.encode(new minimal.Heartbeat()), (f) => {
      unsigned = f;
    });
    expect(verifier.verify(unsigned!)).toBe('unsigned');
    expect(verifier.counters).toEqual({ unsigned: 1, 'bad-signature': 1, stale: 1, replay: 2 });
  });

  it('keeps the signing clock strictly increasing even when the wall clock stalls', () => {
    const clock = new SigningClock(() => NOW_MS);
    const a = clock.next();
    expect(clock.next()).toBe(a + 1);
    expect(a).toBe(ts(NOW_MS));
  });

  it('reads keys as 32 raw bytes or 64 hex characters and refuses anything else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-key-'));
    writeFileSync(join(dir, 'raw'), KEY);
    writeFileSync(join(dir, 'hex'), `${KEY.toString('hex')}\n`);
    writeFileSync(join(dir, 'short'), 'abc');
    expect(readSigningKey(join(dir, 'raw'))).toEqual(KEY);
    expect(readSigningKey(join(dir, 'hex'))).toEqual(KEY);
    expect(() => readSigningKey(join(dir, 'short'))).toThrow(/MAVLINK_SIGNING_KEY_INVALID/);
    expect(() => readSigningKey(join(dir, 'missing'))).toThrow(/cannot read/);
  });
});
