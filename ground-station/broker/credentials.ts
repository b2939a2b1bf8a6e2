/**
 * The broker credentials file (`--credentials FILE`): one entry per drone and per operator, passwords kept only as
 * hashes. `aerie station add-drone ID` / `add-operator NAME` create entries and print the password once.
 *
 *   { "version": 1, "users": { "drone-7": { "role": "drone", "scrypt": "scrypt$...", "mosquitto": "$7$...",
 *     "createdAtMs": 1700000000000 } } }
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { AerieError } from '../../shared/errors.js';
import {
  DEFAULT_SCRYPT_COST,
  generatePassword,
  hashPasswordMosquitto,
  hashPasswordScrypt,
  type ScryptCost,
  verifyPasswordScrypt,
} from './passwords.js';

export const BROKER_ROLES = ['drone', 'operator', 'station'] as const;
export type BrokerRole = (typeof BROKER_ROLES)[number];

/** Drone ids and operator names: what the topic tree allows in a level. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const ENTRY_SCHEMA = z.strictObject({
  role: z.enum(BROKER_ROLES),
  scrypt: z.string().startsWith('scrypt$'),
  mosquitto: z.string().startsWith('$7$'),
  createdAtMs: z.number().int().nonnegative(),
});

const FILE_SCHEMA = z.strictObject({
  version: z.literal(1),
  users: z.record(z.string().regex(USERNAME_PATTERN), ENTRY_SCHEMA),
});

export type CredentialEntry = z.infer<typeof ENTRY_SCHEMA>;
export type CredentialsFile = z.infer<typeof FILE_SCHEMA>;

export const EMPTY_CREDENTIALS: CredentialsFile = Object.freeze({ version: 1 as const, users: {} });

/** Parse a credentials document; problems name the user and field. */
export function parseCredentials(raw: unknown, source = 'credentials'): CredentialsFile {
  const r = FILE_SCHEMA.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new AerieError('CREDENTIALS_INVALID', `${source}: ${problems.join('; ')}`, { source, problems });
  }
  return r.data;
}

/** Read a credentials file; a missing file is an empty set (the station starts; nobody can connect yet). */
export function loadCredentials(file: string): CredentialsFile {
  if (!existsSync(file)) return { version: 1, users: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AerieError('CREDENTIALS_INVALID', `${file}: not JSON (${(err as Error).message})`, { file });
  }
  return parseCredentials(raw, file);
}

/** Write atomically (temp file + rename), readable by the owner only: it holds password hashes. */
export function saveCredentials(file: string, credentials: CredentialsFile): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * A new entry for `username` with a fresh password. Refuses a bad name or one already present (delete the entry
 * by hand to rotate: a silent overwrite would lock out a drone that is flying).
 */
export function addCredential(
  credentials: CredentialsFile,
  username: string,
  role: BrokerRole,
  nowMs: number,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): { credentials: CredentialsFile; password: string } {
  if (!USERNAME_PATTERN.test(username)) {
    throw new AerieError('CREDENTIALS_INVALID', `${JSON.stringify(username)} is not a valid id ([A-Za-z0-9_-]{1,64})`);
  }
  if (Object.hasOwn(credentials.users, username)) {
    throw new AerieError(
      'CREDENTIALS_INVALID',
      `${username} already has credentials (${credentials.users[username].role}); remove its entry first to replace it`,
    );
  }
  const password = generatePassword();
  const entry: CredentialEntry = {
    role,
    scrypt: hashPasswordScrypt(password, cost),
    mosquitto: hashPasswordMosquitto(password),
    createdAtMs: nowMs,
  };
  return { credentials: { version: 1, users: { ...credentials.users, [username]: entry } }, password };
}

/**
 * Checks username/password pairs against the credentials. A successful check is remembered (keyed by a hash of the
 * password, in memory only) so a drone that reconnects on a flaky link does not pay scrypt again.
 */
export class CredentialChecker {
  private credentials: CredentialsFile;
  private readonly verified = new Map<string, string>();
  /** Extra users that live only in memory (the station's own client on the embedded broker). */
  private readonly volatile = new Map<string, { role: BrokerRole; password: string }>();

  constructor(credentials: CredentialsFile) {
    this.credentials = credentials;
  }

  replace(credentials: CredentialsFile): void {
    this.credentials = credentials;
    this.verified.clear();
  }

  addVolatileUser(username: string, role: BrokerRole, password: string): void {
    this.volatile.set(username, { role, password });
  }

  roleOf(username: string): BrokerRole | null {
    return this.volatile.get(username)?.role ?? this.credentials.users[username]?.role ?? null;
  }

  /** The role when the password is right, else null. */
  async check(username: string, password: string): Promise<BrokerRole | null> {
    const v = this.volatile.get(username);
    if (v) return v.password === password ? v.role : null;
    const entry = this.credentials.users[username];
    if (!entry) return null;
    const key = createHash('sha256').update(password).digest('base64');
    if (this.verified.get(username) === key) return entry.role;
    const good = await verifyPasswordScrypt(password, entry.scrypt);
    if (!good) return null;
    this.verified.set(username, key);
    return entry.role;
  }
}
