import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAerieError } from '../errors.js';
import { METADATA_KEYS } from '../policy/index.js';
import { linearModel, POLICY_METADATA } from '../policy/test-models.js';
import { policyVersionFromSha256 } from '../protocol/index.js';
import {
  BUNDLE_MAGIC,
  bundleVersionOf,
  canonicalJson,
  checkPx4Params,
  generateReleaseKeyPair,
  inspectBundle,
  openBundle,
  packBundle,
  readPrivateKeyFile,
  readTrustedKeys,
  signBundle,
  trustedKey,
  writeReleaseKeys,
} from './index.js';

const policy = linearModel();
const shield = linearModel({
  inputName: 'observation_action',
  inputSize: 35,
  outputName: 'cost',
  outputSize: 1,
  metadata: { ...POLICY_METADATA, [METADATA_KEYS.kind]: 'shield' },
});
const filterConfig = { maxSpeedMps: 8, barrier: { enabled: true } };
const px4Params = { COM_OF_LOSS_T: { value: 1 }, MPC_XY_VEL_MAX: { value: 12, tolerance: 0.5 } };

const release = generateReleaseKeyPair();
const trusted = [trustedKey(release.publicKeyPem)];

function packed(overrides: Partial<Parameters<typeof packBundle>[0]> = {}): Buffer {
  return packBundle({
    policy,
    shield,
    filterConfig,
    px4Params,
    lineage: {
      configHash: 'sha256:abc',
      seed: 7,
      dataset: 'runs/2026-11/experience',
      parent: 'sha256:0011223344556677',
    },
    evalReport: { successRate: 0.97, interventionShare: 0.1, breachesFilterOn: 0 },
    createdAtMs: 1_760_000_000_000,
    ...overrides,
  });
}

/** Offsets of a bundle's sections, read independently of the code under test. */
function layout(bytes: Buffer): {
  manifestAt: number;
  manifestLen: number;
  sigAt: number;
  sigLen: number;
  bodyAt: number;
} {
  const manifestLen = bytes.readUInt32BE(8);
  const sigLen = bytes.readUInt16BE(12 + manifestLen);
  return { manifestAt: 12, manifestLen, sigAt: 14 + manifestLen, sigLen, bodyAt: 14 + manifestLen + sigLen };
}

describe('policy bundles', () => {
  it('packs, signs and opens: parts, version from the policy hash, file hash, lineage and PX4 parameters', () => {
    const signed = signBundle(packed(), release.privateKeyPem);
    expect(signed.subarray(0, 8).equals(BUNDLE_MAGIC)).toBe(true);
    const r = openBundle(signed, { trustedKeys: trusted });
    if (!r.ok) throw new Error(r.reason);
    const b = r.bundle;
    const policySha = createHash('sha256').update(policy).digest('hex');
    expect(b.version).toBe(policyVersionFromSha256(policySha));
    expect(bundleVersionOf(b)).toBe(b.version);
    expect(b.sha256).toBe(createHash('sha256').update(signed).digest('hex'));
    expect(b.totalBytes).toBe(signed.length);
    expect(b.keyId).toBe(release.keyId);
    expect(Buffer.compare(b.policy, Buffer.from(policy))).toBe(0);
    expect(Buffer.compare(b.shield as Buffer, Buffer.from(shield))).toBe(0);
    expect(b.filterConfig).toEqual(filterConfig);
    expect(b.px4Params).toEqual(px4Params);
    expect(b.manifest.lineage.seed).toBe(7);
    expect(b.manifest.parts.map((p) => p.name)).toEqual(['policy.onnx', 'shield.onnx', 'filter.json']);
    expect(b.manifest.parts[0]).toEqual({ name: 'policy.onnx', sha256: policySha, bytes: policy.length });
  });

  it('signs the canonical manifest: the same inputs give the same bytes whatever the key order', () => {
    const a = packed({ evalReport: { b: 1, a: { y: 2, x: 1 } } });
    const b = packed({ evalReport: { a: { x: 1, y: 2 }, b: 1 } });
    expect(a.equals(b)).toBe(true);
    expect(canonicalJson({ b: [1, { d: 1, c: null }], a: 'x', u: undefined })).toBe(
      '{"a":"x","b":[1,{"c":null,"d":1}]}',
    );
    // Ed25519 is deterministic, so signing twice gives the same file too.
    expect(signBundle(a, release.privateKeyPem).equals(signBundle(b, release.privateKeyPem))).toBe(true);
  });

  it('refuses a tampered part with BUNDLE_HASH and names the part', () => {
    const signed = signBundle(packed(), release.privateKeyPem);
    const { bodyAt } = layout(signed);
    const tampered = Buffer.from(signed);
    tampered[bodyAt + policy.length + 10] ^= 0x01; // inside shield.onnx
    const r = openBundle(tampered, { trustedKeys: trusted });
    expect(r).toMatchObject({ ok: false, code: 'BUNDLE_HASH' });
    expect(!r.ok && r.reason).toContain('shield.onnx');
  });

  it('refuses a manifest changed after signing with BUNDLE_SIGNATURE', () => {
    const signed = signBundle(packed(), release.privateKeyPem);
    const { manifestAt, manifestLen } = layout(signed);
    const text = signed.subarray(manifestAt, manifestAt + manifestLen).toString('utf8');
    // Same length, still canonical: raise the speed limit the policy expects.
    const edited = text.replace('"value":12', '"value":19');
    expect(edited).not.toBe(text);
    const tampered = Buffer.from(signed);
    tampered.write(edited, manifestAt, 'utf8');
    const r = openBundle(tampered, { trustedKeys: trusted });
    expect(r).toMatchObject({ ok: false, code: 'BUNDLE_SIGNATURE' });
  });

  it('refuses a bundle signed by another key with BUNDLE_UNTRUSTED_KEY, and an unsigned one with BUNDLE_UNSIGNED', () => {
    const other = generateReleaseKeyPair();
    const r1 = openBundle(signBundle(packed(), other.privateKeyPem), { trustedKeys: trusted });
    expect(r1).toMatchObject({ ok: false, code: 'BUNDLE_UNTRUSTED_KEY' });
    expect(!r1.ok && r1.reason).toContain(other.keyId);
    const r2 = openBundle(packed(), { trustedKeys: trusted });
    expect(r2).toMatchObject({ ok: false, code: 'BUNDLE_UNSIGNED' });
    // A signature spliced from another key's bundle under our key id does not verify.
    const ours = signBundle(packed(), release.privateKeyPem);
    const theirs = signBundle(packed(), other.privateKeyPem);
    const spliced = Buffer.from(ours);
    const lo = layout(ours);
    const lt = layout(theirs);
    theirs.copy(spliced, lo.sigAt, lt.sigAt, lt.sigAt + 64);
    expect(openBundle(spliced, { trustedKeys: trusted })).toMatchObject({ ok: false, code: 'BUNDLE_SIGNATURE' });
  });

  it('refuses another contract major with BUNDLE_CONTRACT (after the signature and hashes pass)', () => {
    const signed = signBundle(packed({ contractVersion: '2.0.0' }), release.privateKeyPem);
    const r = openBundle(signed, { trustedKeys: trusted });
    expect(r).toMatchObject({ ok: false, code: 'BUNDLE_CONTRACT' });
    expect(!r.ok && r.reason).toContain('2.0.0');
    const minor = signBundle(packed({ contractVersion: '1.7.3' }), release.privateKeyPem);
    expect(openBundle(minor, { trustedKeys: trusted }).ok).toBe(true);
  });

  it('refuses truncated files, garbage, trailing bytes and another format with BUNDLE_MALFORMED', () => {
    const signed = signBundle(packed(), release.privateKeyPem);
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['garbage', Buffer.from('PK\u0003\u0004 this is a zip file, not a bundle')],
      ['header only', signed.subarray(0, 10)],
      ['inside the manifest', signed.subarray(0, 40)],
      ['inside the parts', signed.subarray(0, signed.length - 100)],
      ['trailing bytes', Buffer.concat([signed, Buffer.from('x')])],
    ];
    for (const [what, bytes] of cases) {
      const r = openBundle(bytes, { trustedKeys: trusted });
      expect(r, what).toMatchObject({ ok: false, code: 'BUNDLE_MALFORMED' });
    }
    const truncated = openBundle(signed.subarray(0, signed.length - 100), { trustedKeys: trusted });
    expect(!truncated.ok && truncated.reason).toContain('truncated');

    // A format-2 file: same layout, the manifest says format 2.
    const { manifestAt, manifestLen } = layout(signed);
    const format2 = Buffer.from(signed);
    const text = signed
      .subarray(manifestAt, manifestAt + manifestLen)
      .toString('utf8')
      .replace('"format":1', '"format":2');
    format2.write(text, manifestAt, 'utf8');
    const r = openBundle(format2, { trustedKeys: trusted });
    expect(r).toMatchObject({ ok: false, code: 'BUNDLE_MALFORMED' });
    expect(!r.ok && r.reason).toContain('format 2');
  });

  it('checks the format before the signature: a garbage file with no key is malformed, not unsigned', () => {
    expect(openBundle(Buffer.from('AERIEBDL'), { trustedKeys: [] })).toMatchObject({ code: 'BUNDLE_MALFORMED' });
  });

  it('inspects without verifying, and re-signing replaces the key id', () => {
    const unsigned = packed({ label: 'nightly-42' });
    const i = inspectBundle(unsigned);
    if (!i.ok) throw new Error(i.reason);
    expect(i.signed).toBe(false);
    expect(i.manifest.keyId).toBeNull();
    expect(i.manifest.label).toBe('nightly-42');
    const other = generateReleaseKeyPair();
    const resigned = signBundle(signBundle(unsigned, other.privateKeyPem), release.privateKeyPem);
    const j = inspectBundle(resigned);
    expect(j.ok && j.manifest.keyId).toBe(release.keyId);
    expect(openBundle(resigned, { trustedKeys: trusted }).ok).toBe(true);
  });

  it('packs without optional parts; refuses a bad PX4 parameter name or a non-JSON filter file', () => {
    const r = openBundle(signBundle(packBundle({ policy }), release.privateKeyPem), { trustedKeys: trusted });
    if (!r.ok) throw new Error(r.reason);
    expect(r.bundle.manifest.parts.map((p) => p.name)).toEqual(['policy.onnx']);
    expect(r.bundle.shield).toBeUndefined();
    expect(r.bundle.px4Params).toEqual({});
    expect(() => packBundle({ policy, px4Params: { 'mpc xy': { value: 1 } } })).toThrow(/BUNDLE_MALFORMED/);
    expect(() => packBundle({ policy, filterConfig: Buffer.from('{nope') })).toThrow(/BUNDLE_MALFORMED/);
  });

  it('compares PX4 parameters as float32, within tolerance, and names each difference', () => {
    expect(checkPx4Params(px4Params, { COM_OF_LOSS_T: Math.fround(1), MPC_XY_VEL_MAX: 12.4 })).toEqual({ ok: true });
    const r = checkPx4Params(px4Params, { COM_OF_LOSS_T: 2, MPC_XY_VEL_MAX: 13 });
    expect(r).toMatchObject({ ok: false, code: 'BUNDLE_PX4_PARAMS' });
    expect(!r.ok && r.mismatches.map((m) => m.name)).toEqual(['COM_OF_LOSS_T', 'MPC_XY_VEL_MAX']);
    expect(!r.ok && r.reason).toContain('COM_OF_LOSS_T is 2, expected 1');
    const missing = checkPx4Params({ NAV_RCL_ACT: { value: 2 } }, {});
    expect(!missing.ok && missing.reason).toContain('NAV_RCL_ACT is missing');
    // 0.1 is not exact in float32: what PX4 returns for a 0.1 parameter still matches exactly.
    expect(checkPx4Params({ MPC_ACC_HOR: { value: 0.1 } }, { MPC_ACC_HOR: Math.fround(0.1) })).toEqual({ ok: true });
  });

  it('writes key files (private 0600, never overwritten) and reads a folder of trusted keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-keys-'));
    const pair = writeReleaseKeys(dir);
    expect(statSync(join(dir, 'release.key')).mode & 0o777).toBe(0o600);
    expect(() => writeReleaseKeys(dir)).toThrow(/BUNDLE_KEY_INVALID/);
    writeFileSync(join(dir, 'second.pub'), release.publicKeyPem);
    writeFileSync(join(dir, 'notes.txt'), 'not a key');
    const keys = readTrustedKeys(dir);
    expect(keys.map((k) => k.keyId).sort()).toEqual([pair.keyId, release.keyId].sort());
    const signed = signBundle(packed(), readPrivateKeyFile(join(dir, 'release.key')));
    expect(openBundle(signed, { trustedKeys: keys }).ok).toBe(true);
    writeFileSync(join(dir, 'broken.pub'), readFileSync(join(dir, 'release.key')).toString().slice(0, 40));
    try {
      readTrustedKeys(dir);
      expect.unreachable();
    } catch (err) {
      expect(isAerieError(err, 'BUNDLE_KEY_INVALID')).toBe(true);
    }
    expect(() => readTrustedKeys(join(dir, 'nowhere'))).toThrow(/FILE_NOT_FOUND/);
  });
});
