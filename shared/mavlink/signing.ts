/**
 * MAVLink 2 message signing. node-mavlink only checks the hash; the timestamp rules and replay protection of the
 * spec are enforced here: per (system, component, link id) stream the timestamp must grow, and a stream not seen
 * before must be within a minute of our own clock.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AerieError } from '../errors.js';
import { type Frame, SIGNATURE_LEN } from './frame.js';

/** Signing epoch: 2015-01-01T00:00:00Z, in Unix milliseconds. */
export const SIGNING_EPOCH_MS = Date.UTC(2015, 0, 1);
/** A new stream's first timestamp may differ from ours by at most this (spec: one minute). */
export const NEW_STREAM_WINDOW_10US = 60 * 100_000;

export type SignatureVerdict = 'ok' | 'unsigned' | 'bad-signature' | 'stale' | 'replay';

/** Read a 32-byte key: raw bytes, or 64 hex characters (whitespace ignored). */
export function readSigningKey(path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new AerieError('MAVLINK_SIGNING_KEY_INVALID', `cannot read ${path}: ${(err as Error).message}`);
  }
  if (data.length === 32) return data;
  const text = data.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  throw new AerieError(
    'MAVLINK_SIGNING_KEY_INVALID',
    `${path} holds ${data.length} bytes; expected 32 raw bytes or 64 hex characters`,
  );
}

function signatureOf(key: Buffer, frameWithoutHash: Buffer): Buffer {
  return createHash('sha256').update(key).update(frameWithoutHash).digest().subarray(0, 6);
}

/** Append the 13-byte signature block to a frame serialized with the signed flag. */
export function appendSignature(frame: Buffer, key: Buffer, linkId: number, timestamp10us: number): Buffer {
  const out = Buffer.allocUnsafe(frame.length + SIGNATURE_LEN);
  frame.copy(out, 0);
  signFrameInPlace(out, key, linkId, timestamp10us);
  return out;
}

/**
 * Write the signature block into the last 13 bytes of `frame` (a frame with the signed flag, followed by room for
 * the block).
 */
export function signFrameInPlace(frame: Buffer, key: Buffer, linkId: number, timestamp10us: number): void {
  const at = frame.length - SIGNATURE_LEN;
  frame[at] = linkId & 0xff;
  frame.writeUIntLE(timestamp10us, at + 1, 6);
  signatureOf(key, frame.subarray(0, frame.length - 6)).copy(frame, frame.length - 6);
}

/** A signing clock: 10 us units since 2015, never going backwards, strictly increasing per call. */
export class SigningClock {
  private last = 0;
  constructor(private readonly nowMs: () => number = Date.now) {}
  next(): number {
    const t = Math.floor((this.nowMs() - SIGNING_EPOCH_MS) * 100);
    this.last = Math.max(t, this.last + 1);
    return this.last;
  }
}

/** Checks incoming frames: hash, timestamp freshness and replay, per stream. */
export class SignatureVerifier {
  private readonly lastByStream = new Map<number, number>();
  readonly counters: Record<Exclude<SignatureVerdict, 'ok'>, number> = {
    unsigned: 0,
    'bad-signature': 0,
    stale: 0,
    replay: 0,
  };

  constructor(
    private readonly key: Buffer,
    private readonly nowMs: () => number = Date.now,
  ) {}

  verify(frame: Frame): SignatureVerdict {
    const verdict = this.check(frame);
    if (verdict !== 'ok') this.counters[verdict]++;
    return verdict;
  }

  private check(frame: Frame): SignatureVerdict {
    if (!frame.signed) return 'unsigned';
    const raw = frame.raw;
    const sigAt = raw.length - SIGNATURE_LEN;
    const expected = signatureOf(this.key, raw.subarray(0, raw.length - 6));
    if (!expected.equals(raw.subarray(raw.length - 6))) return 'bad-signature';
    const linkId = raw[sigAt];
    const timestamp = raw.readUIntLE(sigAt + 1, 6);
    const stream = (frame.sysid << 16) | (frame.compid << 8) | linkId;
    const last = this.lastByStream.get(stream);
    if (last === undefined) {
      const ours = (this.nowMs() - SIGNING_EPOCH_MS) * 100;
      if (Math.abs(timestamp - ours) > NEW_STREAM_WINDOW_10US) return 'stale';
    } else if (timestamp <= last) {
      return 'replay';
    }
    this.lastByStream.set(stream, timestamp);
    return 'ok';
  }
}
