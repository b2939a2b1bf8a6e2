/**
 * Password hashing for broker credentials (node:crypto only). Each credential keeps two hashes made from the one
 * password when it is created, since neither can be derived from the other afterwards:
 *  - scrypt, checked by the embedded broker: `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`;
 *  - Mosquitto's own PBKDF2-SHA512 format, `$7$<iterations>$<salt b64>$<hash b64>` (12-byte salt, 64-byte hash,
 *    101 iterations as mosquitto_passwd 2.0 writes), copied verbatim into the Mosquitto password file.
 */
import { pbkdf2Sync, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

export interface ScryptCost {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Node's defaults (N = 2^14): tens of milliseconds a check, off the event loop (libuv thread pool). */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 16384, r: 8, p: 1 };
const SCRYPT_KEY_BYTES = 32;
export const MOSQUITTO_PBKDF2_ITERATIONS = 101;

/** A fresh random password, shown once: 24 bytes as base64url (32 characters). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

export function hashPasswordScrypt(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, SCRYPT_KEY_BYTES, { ...cost, maxmem: 256 * cost.N * cost.r });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface ParsedScrypt {
  readonly cost: ScryptCost;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export function parseScryptHash(text: string): ParsedScrypt | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const hash = Buffer.from(parts[5], 'base64');
  const powerOfTwo = Number.isInteger(N) && N >= 2 && (N & (N - 1)) === 0;
  if (!powerOfTwo || !(r >= 1 && r <= 64) || !(p >= 1 && p <= 16) || salt.length < 8 || hash.length < 16) return null;
  return { cost: { N, r, p }, salt, hash };
}

/** Check a password against an scrypt hash, asynchronously (the broker must not block while drones connect). */
export function verifyPasswordScrypt(password: string, stored: string): Promise<boolean> {
  const parsed = parseScryptHash(stored);
  if (!parsed) return Promise.resolve(false);
  const { cost, salt, hash } = parsed;
  return new Promise((resolve) => {
    scrypt(password, salt, hash.length, { ...cost, maxmem: 256 * cost.N * cost.r }, (err, derived) => {
      resolve(!err && derived.length === hash.length && timingSafeEqual(derived, hash));
    });
  });
}

/** Mosquitto 2.x password-file hash (`$7$`: PBKDF2-SHA512). */
export function hashPasswordMosquitto(password: string, iterations = MOSQUITTO_PBKDF2_ITERATIONS): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Check a password against a Mosquitto `$7$` hash (tests, and a sanity check of imported files). */
export function verifyPasswordMosquitto(password: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 5 || parts[0] !== '' || parts[1] !== '7') return false;
  const iterations = Number(parts[2]);
  const salt = Buffer.from(parts[3], 'base64');
  const hash = Buffer.from(parts[4], 'base64');
  if (!Number.isInteger(iterations) || iterations < 1 || hash.length === 0) return false;
  const derived = pbkdf2Sync(password, salt, iterations, hash.length, 'sha512');
  return timingSafeEqual(derived, hash);
}
