/**
 * The bundle file's byte layout. Big-endian lengths; nothing is compressed (ONNX weights do not compress much, and a
 * plain layout is easy to check by hand with `xxd`):
 *
 *   "AERIEBDL"            8 bytes, magic
 *   manifestBytes          uint32, M
 *   manifest               M bytes, canonical JSON (canonicalManifestBytes)
 *   signatureBytes         uint16, S: 0 when unsigned, 64 for Ed25519
 *   signature              S bytes, Ed25519 over the manifest's M bytes
 *   parts                  each part's bytes, in the manifest's `parts` order, sizes from the manifest
 *
 * The file ends exactly after the last part. Pure: no I/O.
 */
import { MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES } from './manifest.js';

export const BUNDLE_MAGIC = Buffer.from('AERIEBDL', 'ascii');
export const ED25519_SIGNATURE_BYTES = 64;

export interface BundleContainer {
  readonly manifestBytes: Buffer;
  /** Empty when unsigned. */
  readonly signature: Buffer;
  /** Everything after the signature: the parts, concatenated. */
  readonly body: Buffer;
}

export function encodeContainer(c: BundleContainer): Buffer {
  const head = Buffer.alloc(BUNDLE_MAGIC.length + 4);
  BUNDLE_MAGIC.copy(head, 0);
  head.writeUInt32BE(c.manifestBytes.length, BUNDLE_MAGIC.length);
  const sigLen = Buffer.alloc(2);
  sigLen.writeUInt16BE(c.signature.length, 0);
  return Buffer.concat([head, c.manifestBytes, sigLen, c.signature, c.body]);
}

/** Split a file into its sections, or say why it is not a bundle. Copies nothing (views on `bytes`). */
export function decodeContainer(
  bytes: Uint8Array,
): { ok: true; value: BundleContainer } | { ok: false; reason: string } {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length > MAX_BUNDLE_BYTES) {
    return { ok: false, reason: `file of ${buf.length} bytes exceeds the ${MAX_BUNDLE_BYTES}-byte bundle limit` };
  }
  if (buf.length < BUNDLE_MAGIC.length + 4 || !buf.subarray(0, BUNDLE_MAGIC.length).equals(BUNDLE_MAGIC)) {
    return { ok: false, reason: 'not an Aerie bundle (no AERIEBDL header)' };
  }
  const manifestLen = buf.readUInt32BE(BUNDLE_MAGIC.length);
  const manifestStart = BUNDLE_MAGIC.length + 4;
  if (manifestLen === 0 || manifestLen > MAX_MANIFEST_BYTES) {
    return { ok: false, reason: `manifest length ${manifestLen} is outside 1..${MAX_MANIFEST_BYTES}` };
  }
  const sigLenAt = manifestStart + manifestLen;
  if (buf.length < sigLenAt + 2) {
    return { ok: false, reason: `truncated: ${buf.length} bytes, the manifest alone needs ${sigLenAt + 2}` };
  }
  const sigLen = buf.readUInt16BE(sigLenAt);
  if (sigLen !== 0 && sigLen !== ED25519_SIGNATURE_BYTES) {
    return { ok: false, reason: `signature length ${sigLen} is neither 0 (unsigned) nor ${ED25519_SIGNATURE_BYTES}` };
  }
  const bodyAt = sigLenAt + 2 + sigLen;
  if (buf.length < bodyAt) return { ok: false, reason: `truncated inside the signature (${buf.length} bytes)` };
  return {
    ok: true,
    value: {
      manifestBytes: buf.subarray(manifestStart, sigLenAt),
      signature: buf.subarray(sigLenAt + 2, bodyAt),
      body: buf.subarray(bodyAt),
    },
  };
}
