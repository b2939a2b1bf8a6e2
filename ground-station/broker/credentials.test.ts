/**
 * Credentials: hashing, the file, and the Mosquitto files - checked against the real mosquitto_passwd and a real
 * mosquitto process started on a free port with the generated config (when the binaries are installed).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import {
  addCredential,
  CredentialChecker,
  EMPTY_CREDENTIALS,
  loadCredentials,
  parseCredentials,
  saveCredentials,
} from './credentials.js';
import { mosquittoAclFile, writeMosquittoConfig } from './mosquitto-config.js';
import { hashPasswordMosquitto, verifyPasswordMosquitto, verifyPasswordScrypt } from './passwords.js';

const FAST = { N: 1024, r: 8, p: 1 };
const dir = mkdtempSync(join(tmpdir(), 'aerie-cred-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function which(bin: string): string | null {
  for (const d of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    if (existsSync(join(d, bin))) return join(d, bin);
  }
  return null;
}

describe('credentials', () => {
  it('creates an entry whose two hashes both accept the password and refuse another', async () => {
    const { credentials, password } = addCredential(EMPTY_CREDENTIALS, 'drone-7', 'drone', 1234, FAST);
    const entry = credentials.users['drone-7'];
    expect(entry.role).toBe('drone');
    expect(entry.createdAtMs).toBe(1234);
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await verifyPasswordScrypt(password, entry.scrypt)).toBe(true);
    expect(await verifyPasswordScrypt(`${password}x`, entry.scrypt)).toBe(false);
    expect(verifyPasswordMosquitto(password, entry.mosquitto)).toBe(true);
    expect(verifyPasswordMosquitto(`${password}x`, entry.mosquitto)).toBe(false);
    expect(JSON.stringify(credentials)).not.toContain(password);
  });

  it('refuses a duplicate or malformed name', () => {
    const { credentials } = addCredential(EMPTY_CREDENTIALS, 'd1', 'drone', 1, FAST);
    expect(() => addCredential(credentials, 'd1', 'operator', 2, FAST)).toThrow(/CREDENTIALS_INVALID.*already/);
    expect(() => addCredential(credentials, 'bad/name', 'drone', 2, FAST)).toThrow(/CREDENTIALS_INVALID/);
    expect(() => addCredential(credentials, '', 'drone', 2, FAST)).toThrow(/CREDENTIALS_INVALID/);
  });

  it('saves owner-only, loads back, treats a missing file as empty and a broken one as CREDENTIALS_INVALID', () => {
    const file = join(dir, 'creds.json');
    expect(loadCredentials(file)).toEqual({ version: 1, users: {} });
    const { credentials } = addCredential(EMPTY_CREDENTIALS, 'ops', 'operator', 5, FAST);
    saveCredentials(file, credentials);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadCredentials(file)).toEqual(credentials);
    writeFileSync(file, '{"version":1,"users":{"x":{"role":"pilot"}}}');
    const err = (() => {
      try {
        loadCredentials(file);
      } catch (e) {
        return e;
      }
    })();
    expect(isAerieError(err, 'CREDENTIALS_INVALID')).toBe(true);
    expect((err as Error).message).toContain('users.x.role');
    writeFileSync(file, 'not json');
    expect(() => loadCredentials(file)).toThrow(/CREDENTIALS_INVALID.*not JSON/);
    expect(() => parseCredentials({ version: 2, users: {} })).toThrow(/CREDENTIALS_INVALID/);
  });

  it('checks logins, remembering a good one', async () => {
    const { credentials, password } = addCredential(EMPTY_CREDENTIALS, 'd1', 'drone', 1, FAST);
    const checker = new CredentialChecker(credentials);
    expect(await checker.check('d1', 'nope')).toBeNull();
    expect(await checker.check('d1', password)).toBe('drone');
    expect(await checker.check('d1', password)).toBe('drone');
    expect(await checker.check('d1', 'nope')).toBeNull();
    expect(await checker.check('nobody', password)).toBeNull();
    checker.addVolatileUser('station', 'station', 's3cret');
    expect(await checker.check('station', 's3cret')).toBe('station');
    expect(await checker.check('station', 'x')).toBeNull();
  });

  it('writes an ACL with a block per user', () => {
    let creds = addCredential(EMPTY_CREDENTIALS, 'd1', 'drone', 1, FAST).credentials;
    creds = addCredential(creds, 'ops', 'operator', 1, FAST).credentials;
    const acl = mosquittoAclFile(creds);
    expect(acl).toContain('user d1\ntopic write aerie/v1/drones/d1/status\n');
    expect(acl).toContain('topic read aerie/v1/drones/d1/commands\n');
    expect(acl).not.toMatch(/user d1\n(topic [^\n]*\n)*topic write aerie\/v1\/drones\/\+\/commands/);
    expect(acl).toMatch(/user ops\n(topic [^\n]*\n)*topic write aerie\/v1\/drones\/\+\/commands\n/);
    expect(acl).toMatch(/user ops\n(topic [^\n]*\n)*topic read #\n/);
  });
});

const passwdBin = which('mosquitto_passwd');
describe.skipIf(passwdBin === null)('Mosquitto password format', () => {
  it('reads a hash mosquitto_passwd wrote, and writes one in the same shape', () => {
    const file = join(dir, 'mp');
    execFileSync(passwdBin!, ['-c', '-b', file, 'alice', 'correct horse']);
    const hash = readFileSync(file, 'utf8').trim().split(':')[1];
    expect(verifyPasswordMosquitto('correct horse', hash)).toBe(true);
    expect(verifyPasswordMosquitto('wrong horse', hash)).toBe(false);
    const ours = hashPasswordMosquitto('correct horse');
    const shape = (h: string) => h.split('$').map((part, i) => (i === 3 || i === 4 ? part.length : part));
    expect(shape(ours)).toEqual(shape(hash));
  });
});

const mosquittoBin = which('mosquitto');
describe.skipIf(mosquittoBin === null)('generated Mosquitto config on a real mosquitto', () => {
  it('lets a drone in with its password, keeps it to its own topics, and refuses a wrong password', async () => {
    let creds = EMPTY_CREDENTIALS;
    const pw: Record<string, string> = {};
    for (const [name, role] of [
      ['d1', 'drone'],
      ['d2', 'drone'],
      ['ops', 'operator'],
    ] as const) {
      const added = addCredential(creds, name, role, 1, FAST);
      creds = added.credentials;
      pw[name] = added.password;
    }
    const port = await freePort();
    const out = join(dir, 'mosq');
    const paths = writeMosquittoConfig(creds, out, port);
    // Our own conf plus what a test needs: stay in the foreground as this user, bind to loopback only.
    const conf = join(out, 'test.conf');
    const base = readFileSync(paths.conf, 'utf8').replace(`listener ${port}`, `listener ${port} 127.0.0.1`);
    const user = process.getuid?.() === 0 ? 'user root\n' : '';
    writeFileSync(conf, `${base}${user}persistence false\nlog_dest stderr\n`);
    const proc = spawn(mosquittoBin!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => {
      stderr += String(d);
    });
    try {
      const url = `mqtt://127.0.0.1:${port}`;
      const connect = async (username: string, password: string) => {
        for (let i = 0; ; i++) {
          try {
            return await mqtt.connectAsync(url, { username, password, reconnectPeriod: 0, connectTimeout: 3000 });
          } catch (err) {
            // ECONNREFUSED while mosquitto starts; anything else is an answer.
            if (!String(err).includes('ECONNREFUSED') || i > 100) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };
      const ops = await connect('ops', pw.ops);
      await expect(connect('d1', 'wrong')).rejects.toThrow(/Not authorized|Bad username/i);
      const got: string[] = [];
      ops.on('message', (t) => got.push(t));
      await ops.subscribeAsync('aerie/v1/#', { qos: 1 });
      const d1 = await connect('d1', pw.d1);
      const d2 = await connect('d2', pw.d2);
      // Mosquitto acknowledges and silently drops what the ACL refuses.
      await d2.publishAsync('aerie/v1/drones/d1/telemetry', 'spoof', { qos: 1 });
      await d2.publishAsync('aerie/v1/drones/d1/commands', 'cmd', { qos: 1 });
      await d1.publishAsync('aerie/v1/drones/d1/telemetry', 'own', { qos: 1 });
      await waitFor(() => got.length > 0);
      await ops.publishAsync('aerie/v1/drones/d2/commands', 'from ops', { qos: 1 });
      await d2.publishAsync('aerie/v1/drones/d2/events', 'marker', { qos: 1 });
      await waitFor(() => got.includes('aerie/v1/drones/d2/events'));
      expect(got).toEqual(['aerie/v1/drones/d1/telemetry', 'aerie/v1/drones/d2/commands', 'aerie/v1/drones/d2/events']);
      await Promise.all([ops.endAsync(), d1.endAsync(), d2.endAsync()]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nmosquitto said:\n${stderr}`);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
