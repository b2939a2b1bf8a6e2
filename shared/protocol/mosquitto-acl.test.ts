/**
 * mosquittoAcl checked on a real Mosquitto: a private instance (started here when the binary is installed) with a
 * password file and the generated ACL must allow and refuse exactly what aclAllows says, for what a drone may
 * publish and what it may read. The rule lives once in acl.ts; this keeps the file it writes honest.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AclPrincipal, aclAllows, mosquittoAcl } from './index.js';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));
const PASSWD = ['/usr/bin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd'].find((p) => existsSync(p));

const drone: AclPrincipal = { username: 'd1', role: 'drone' };
const PUBLISHES = [
  'aerie/v1/drones/d1/status',
  'aerie/v1/drones/d1/telemetry',
  'aerie/v1/drones/d1/events',
  'aerie/v1/drones/d1/metrics',
  'aerie/v1/drones/d1/experience',
  'aerie/v1/drones/d1/acks',
  'aerie/v1/drones/d1/commands',
  'aerie/v1/drones/d2/commands',
  'aerie/v1/drones/d1/bundle',
  'aerie/v1/drones/d2/status',
  'aerie/v1/fleet/estop',
  'aerie/v1/fleet/traffic',
  'other/topic',
];
/** Topics the station may publish: which of them reach a drone subscribed to '#'? */
const READABLE_BY_STATION = [
  'aerie/v1/drones/d1/commands',
  'aerie/v1/drones/d2/commands',
  'aerie/v1/drones/d1/bundle',
  'aerie/v1/drones/d2/bundle',
  'aerie/v1/fleet/estop',
  'aerie/v1/fleet/airspace',
];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function client(port: number, username: string, password: string): Promise<MqttClient> {
  const c = connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, username, password, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

describe.skipIf(!MOSQUITTO || !PASSWD)('mosquittoAcl on a real Mosquitto', () => {
  let dir = '';
  let port = 0;
  let proc: ChildProcess | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aerie-mosquitto-'));
    // Mosquitto started as root drops to its own user: let it read the files.
    chmodSync(dir, 0o755);
    const pw = join(dir, 'passwords');
    execFileSync(PASSWD as string, ['-b', '-c', pw, 'd1', 'pw-d1']);
    execFileSync(PASSWD as string, ['-b', pw, 'd2', 'pw-d2']);
    execFileSync(PASSWD as string, ['-b', pw, 'station', 'pw-st']);
    writeFileSync(join(dir, 'acl'), mosquittoAcl({ drones: ['d1', 'd2'], operators: ['station'] }));
    port = await freePort();
    writeFileSync(
      join(dir, 'mosquitto.conf'),
      `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${pw}\nacl_file ${join(dir, 'acl')}\npersistence false\n`,
    );
    for (const f of ['passwords', 'acl', 'mosquitto.conf']) chmodSync(join(dir, f), 0o644);
    proc = spawn(MOSQUITTO as string, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await waitForPort(port, 10_000);
  });

  afterAll(() => {
    proc?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers exactly the publishes aclAllows grants a drone', async () => {
    const station = await client(port, 'station', 'pw-st');
    const seen = new Set<string>();
    station.on('message', (topic) => seen.add(topic));
    await station.subscribeAsync('#', { qos: 1 });
    const d1 = await client(port, 'd1', 'pw-d1');
    for (const topic of PUBLISHES) await d1.publishAsync(topic, 'x', { qos: 1 });
    // A marker the station may publish proves everything before it was routed.
    await station.publishAsync('aerie/v1/fleet/estop', 'marker', { qos: 1 });
    const deadline = Date.now() + 5000;
    while (!seen.has('aerie/v1/fleet/estop') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const delivered = PUBLISHES.filter((t) => seen.has(t) && t !== 'aerie/v1/fleet/estop');
    const expected = PUBLISHES.filter((t) => aclAllows(drone, 'publish', t));
    expect(delivered).toEqual(expected);
    await d1.endAsync();
    await station.endAsync();
  });

  it('lets a drone read exactly the topics aclAllows lets it subscribe to', async () => {
    // Mosquitto's acl_file grants every SUBSCRIBE and filters at delivery by 'read' (aedes refuses the SUBSCRIBE
    // instead): either way the drone receives only what the rule allows. So subscribe to everything and see.
    const d1 = await client(port, 'd1', 'pw-d1');
    const received = new Set<string>();
    d1.on('message', (topic) => received.add(topic));
    await d1.subscribeAsync('#', { qos: 1 });
    const station = await client(port, 'station', 'pw-st');
    const d2 = await client(port, 'd2', 'pw-d2');
    const published: string[] = [];
    for (const topic of READABLE_BY_STATION) {
      await station.publishAsync(topic, 'x', { qos: 1 });
      published.push(topic);
    }
    for (const topic of ['aerie/v1/drones/d2/status', 'aerie/v1/drones/d2/telemetry']) {
      await d2.publishAsync(topic, 'x', { qos: 1 });
      published.push(topic);
    }
    await d1.publishAsync('aerie/v1/drones/d1/status', 'marker', { qos: 1 });
    await station.publishAsync('aerie/v1/fleet/traffic', 'last', { qos: 1 });
    const deadline = Date.now() + 5000;
    while (!received.has('aerie/v1/fleet/traffic') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    expect(published.filter((t) => received.has(t))).toEqual(published.filter((t) => aclAllows(drone, 'subscribe', t)));
    await Promise.all([d1.endAsync(), d2.endAsync(), station.endAsync()]);
  });

  it('refuses a wrong password', async () => {
    await expect(client(port, 'd1', 'nope')).rejects.toThrow(/Not authorized|Bad username/i);
  });
});
