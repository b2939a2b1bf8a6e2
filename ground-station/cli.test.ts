/**
 * `aerie station` through its main(): help, add-drone/add-operator, mosquitto-config, export-experience, a run
 * with a generated operator token stopped like SIGINT, and the taken-port message.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeExperienceFile } from '../shared/experience/index.js';
import { componentLogger } from '../shared/log/index.js';
import { examplePayloads } from '../shared/protocol/index.js';
import { DropCounters, loadCredentials, verifyPasswordMosquitto } from './broker/index.js';
import { main } from './cli.js';
import { ExperienceStore } from './experience/index.js';
import type { StationHandle } from './station.js';
import { SqliteStore } from './storage/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(extra: { signal?: AbortSignal; onStarted?: (s: StationHandle) => void } = {}) {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env: {},
      ...extra,
    },
    out: () => out,
    err: () => err,
  };
}

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('aerie station CLI', () => {
  it('prints its help with the options and subcommands', async () => {
    const c = io();
    expect(await main(['--help'], c.io)).toBe(0);
    for (const s of [
      '--mqtt-port',
      '--mqtt-url',
      '--http-port',
      '--operator-token',
      '--db',
      'add-drone',
      'mosquitto-config',
    ]) {
      expect(c.out()).toContain(s);
    }
    const sub = io();
    expect(await main(['mosquitto-config', '--help'], sub.io)).toBe(0);
    expect(sub.out()).toContain('--out');
  });

  it('adds drones and operators, printing each password once, and refuses a duplicate', async () => {
    const creds = join(dir, 'creds.json');
    const a = io();
    expect(await main(['add-drone', 'drone-7', '--credentials', creds], a.io)).toBe(0);
    const password = /password: (\S+)/.exec(a.out())?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await main(['add-operator', 'alice', '--credentials', creds], io().io)).toBe(0);
    const file = loadCredentials(creds);
    expect(Object.keys(file.users).sort()).toEqual(['alice', 'drone-7']);
    expect(readFileSync(creds, 'utf8')).not.toContain(password!);
    const dup = io();
    expect(await main(['add-drone', 'drone-7', '--credentials', creds], dup.io)).toBe(2);
    expect(dup.err()).toContain('CREDENTIALS_INVALID');
    const missing = io();
    expect(await main(['add-drone', '--credentials', creds], missing.io)).toBe(2);
    expect(missing.err()).toContain('CLI_USAGE');

    const out = join(dir, 'mosq');
    const m = io();
    expect(await main(['mosquitto-config', '--out', out, '--credentials', creds, '--mqtt-port', '1884'], m.io)).toBe(0);
    const line = readFileSync(join(out, 'passwords'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('drone-7:'))!;
    expect(verifyPasswordMosquitto(password!, line.slice('drone-7:'.length))).toBe(true);
    expect(readFileSync(join(out, 'acl'), 'utf8')).toMatch(
      /user drone-7\n(topic [^\n]*\n)*topic write aerie\/v1\/drones\/drone-7\/telemetry\n/,
    );
    expect(readFileSync(join(out, 'aerie-mosquitto.conf'), 'utf8')).toContain('listener 1884');
  });

  it('exports the stored experience as a dataset file', async () => {
    const db = join(dir, 'exp.db');
    const store = SqliteStore.open(db);
    const experience = new ExperienceStore(store, new DropCounters(), componentLogger('cli-test'));
    const batch = examplePayloads().experience;
    await experience.accept(batch, '', 1);
    await experience.accept({ ...batch, seq: 2, records: [{ ...batch.records[0], step: 1 }] }, '', 2);
    await store.close();
    const out = join(dir, 'exp.aexp');
    const c = io();
    expect(await main(['export-experience', '--db', db, '--out', out], c.io)).toBe(0);
    expect(c.out()).toContain('2 batches');
    expect(decodeExperienceFile(readFileSync(out)).records.map((r) => r.step)).toEqual([0, 1]);
  });

  it('runs with a generated operator token and stops cleanly', async () => {
    const stop = new AbortController();
    let station: StationHandle | undefined;
    const c = io({
      signal: stop.signal,
      onStarted: (s) => {
        station = s;
      },
    });
    const running = main(
      [
        '--mqtt-port',
        '0',
        '--http-port',
        '0',
        '--db',
        join(dir, 'run.db'),
        '--credentials',
        join(dir, 'none.json'),
        '--log-level',
        'silent',
      ],
      c.io,
    );
    const { waitFor } = await import('./test-support.js');
    await waitFor(() => station !== undefined, 'station up');
    const token = /operator token: (\S+)/.exec(c.out())?.[1];
    expect(token).toBe(station!.operatorToken);
    const res = await fetch(`${station!.httpUrl}/api/fleet`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect((await fetch(`${station!.httpUrl}/api/fleet`)).status).toBe(401);
    stop.abort();
    expect(await running).toBe(0);
    expect(c.out()).toContain('stopped');
    await expect(fetch(`${station!.httpUrl}/healthz`)).rejects.toThrow();
  });

  it('says the MQTT port is taken and how to use the broker already there', async () => {
    const blocker = await listen();
    const port = (blocker.address() as { port: number }).port;
    try {
      const c = io();
      const code = await main(
        ['--mqtt-port', String(port), '--http-port', '0', '--db', join(dir, 'port.db'), '--log-level', 'silent'],
        c.io,
      );
      expect(code).toBe(3);
      expect(c.err()).toContain(`PORT_IN_USE: MQTT port ${port} on 127.0.0.1 is already taken`);
      expect(c.err()).toContain(`--mqtt-url mqtt://127.0.0.1:${port}`);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('refuses an unknown option by name', async () => {
    const c = io();
    expect(await main(['--mqtt-prot', '1'], c.io)).toBe(2);
    expect(c.err()).toContain('CONFIG_UNKNOWN_KEY');
    expect(c.err()).toContain('mqttProt');
  });
});
