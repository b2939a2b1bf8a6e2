/**
 * Release keys: Ed25519 (node:crypto), stored as PEM. The station signs with `release.key` (PKCS#8, mode 0600);
 * drones trust the `.pub` files (SPKI) in a folder. A key's id is the first 16 hex digits of the SHA-256 of its
 * public key's DER encoding, so a manifest can name the key that signed it.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AerieError } from '../errors.js';

export const PRIVATE_KEY_FILE = 'release.key';
export const PUBLIC_KEY_FILE = 'release.pub';

/** A public key a verifier accepts signatures from. */
export interface TrustedKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** Where it came from (a file path), for messages. */
  readonly source?: string;
}

export interface ReleaseKeyPair {
  readonly keyId: string;
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** The id of a public key: SHA-256 of its SPKI DER, first 16 hex digits. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function generateReleaseKeyPair(): ReleaseKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function ensureEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AerieError('BUNDLE_KEY_INVALID', `${what} is a ${key.asymmetricKeyType ?? 'symmetric'} key, not Ed25519`);
  }
  return key;
}

/** A private key from PEM text (or a KeyObject, checked). Throws BUNDLE_KEY_INVALID. */
export function parsePrivateKey(pem: string | KeyObject, what = 'private key'): KeyObject {
  if (typeof pem !== 'string') {
    if (pem.type !== 'private') throw new AerieError('BUNDLE_KEY_INVALID', `${what} is not a private key`);
    return ensureEd25519(pem, what);
  }
  try {
    return ensureEd25519(createPrivateKey(pem), what);
  } catch (err) {
    if (err instanceof AerieError) throw err;
    throw new AerieError('BUNDLE_KEY_INVALID', `${what} is not a PEM private key: ${(err as Error).message}`);
  }
}

/** A public key from PEM text (or the public half of a private key). Throws BUNDLE_KEY_INVALID. */
export function parsePublicKey(pem: string | KeyObject, what = 'public key'): KeyObject {
  if (typeof pem !== 'string') return ensureEd25519(pem.type === 'private' ? createPublicKey(pem) : pem, what);
  try {
    return ensureEd25519(createPublicKey(pem), what);
  } catch (err) {
    if (err instanceof AerieError) throw err;
    throw new AerieError('BUNDLE_KEY_INVALID', `${what} is not a PEM public key: ${(err as Error).message}`);
  }
}

export function trustedKey(pem: string | KeyObject, source?: string): TrustedKey {
  const publicKey = parsePublicKey(pem, source ?? 'public key');
  return { keyId: keyIdOf(publicKey), publicKey, ...(source ? { source } : {}) };
}

/** Write `release.key` (0600) and `release.pub` into `dir` (created). Refuses to overwrite an existing key. */
export function writeReleaseKeys(dir: string, pair: ReleaseKeyPair = generateReleaseKeyPair()): ReleaseKeyPair {
  mkdirSync(dir, { recursive: true });
  const keyPath = join(dir, PRIVATE_KEY_FILE);
  if (existsSync(keyPath)) {
    throw new AerieError('BUNDLE_KEY_INVALID', `${keyPath} exists; refusing to overwrite a release key`, { keyPath });
  }
  writeFileSync(keyPath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  chmodSync(keyPath, 0o600);
  writeFileSync(join(dir, PUBLIC_KEY_FILE), pair.publicKeyPem, { mode: 0o644 });
  return pair;
}

/** Read a private key file. Throws FILE_NOT_FOUND or BUNDLE_KEY_INVALID. */
export function readPrivateKeyFile(path: string): KeyObject {
  if (!existsSync(path)) throw new AerieError('FILE_NOT_FOUND', `no key file at ${path}`, { path });
  return parsePrivateKey(readFileSync(path, 'utf8'), path);
}

/**
 * The trusted keys of a folder: every `*.pub` file in it (a drone's `--trusted-keys DIR`), or one `.pub` file.
 * Throws FILE_NOT_FOUND when the path does not exist and BUNDLE_KEY_INVALID for a file that is not an Ed25519 key.
 */
export function readTrustedKeys(path: string): TrustedKey[] {
  if (!existsSync(path)) throw new AerieError('FILE_NOT_FOUND', `no trusted keys at ${path}`, { path });
  const files = path.endsWith('.pub')
    ? [path]
    : readdirSync(path)
        .filter((f) => f.endsWith('.pub'))
        .sort()
        .map((f) => join(path, f));
  return files.map((f) => trustedKey(readFileSync(f, 'utf8'), f));
}
