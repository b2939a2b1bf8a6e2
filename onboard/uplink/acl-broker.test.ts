/**
 * The uplink under the protocol's ACL: an embedded aedes broker that authenticates drones by password and asks
 * shared/protocol aclAllows on every publish and subscribe, as the station's broker does. The uplink's own traffic
 * must all be allowed; a drone's client that tries to command another drone or read its telemetry is refused.
 */
import { createServer, type Socket } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { connect } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type AclRole, aclAllows, topics } from '../../shared/protocol/index.js';
import { FakeRuntime, Subscriber, sleep, tempDataDir, testConfig, uniqueId, until } from './test-support.js';
import { Uplink } from './uplink.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function aclBroker(accounts: Record<string, { password: string; role: AclRole }>) {
  const refused: string[] = [];
  const roleOf = (client: { id: string } | null) => (client ? sessions.get(client.id) : undefined);
  const sessions = new Map<string, { username: string; role: AclRole }>();
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const account = username ? accounts[username] : undefined;
      if (!account || password?.toString() !== account.password) {
        const err = new Error('bad username or password') as AuthenticateError;
        err.returnCode = 4;
        done(err, false);
        return;
      }
      sessions.set(client.id, { username: username as string, role: account.role });
      done(null, true);
    },
    authorizePublish: (client, packet, callback) => {
      const who = roleOf(client);
      if (who && aclAllows(who, 'publish', packet.topic)) callback(null);
      else {
        refused.push(`publish ${who?.username} ${packet.topic}`);
        callback(new Error('not authorised'));
      }
    },
    authorizeSubscribe: (client, sub, callback) => {
      const who = roleOf(client);
      if (who && aclAllows(who, 'subscribe', sub.topic)) callback(null, sub);
      else {
        refused.push(`subscribe ${who?.username} ${sub.topic}`);
        callback(null, null);
      }
    },
  });
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    broker.handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  });
  return { url, refused };
}

describe('the uplink under the ACL', () => {
  it('does only what a drone may, and a drone may not command another', async () => {
    const id = uniqueId('d');
    const other = uniqueId('d');
    const { url, refused } = await aclBroker({
      [id]: { password: 'pw-1', role: 'drone' },
      [other]: { password: 'pw-2', role: 'drone' },
      station: { password: 'pw-s', role: 'station' },
    });
    const station = await Subscriber.connectWith(url, ['aerie/v1/drones/#'], { username: 'station', password: 'pw-s' });
    cleanups.push(() => station.close());
    const data = tempDataDir();
    cleanups.push(data.cleanup);
    const runtime = new FakeRuntime();
    const uplink = Uplink.open(testConfig(url, data.dir, { id, mqttPassword: 'pw-1', metricsWindowS: 0.5 }), runtime);
    cleanups.push(() => uplink.stop(0));
    uplink.start();
    await station.waitFor(() => station.on(topics.droneStatus(id)).length >= 1, 10_000, 'birth');
    runtime.emit({ ...quiet, events: [{ kind: 'phase', phase: 'takeoff', timeMs: 1 }] });
    await station.publish(
      topics.droneCommands(id),
      JSON.stringify({ schema: '1.0', commandId: 'c1', timeMs: Date.now(), kind: 'emergency-stop' }),
    );
    await station.waitFor(() => station.on(topics.droneAcks(id)).length === 1, 5000, 'ack');
    await station.waitFor(() => station.on(topics.droneMetrics(id)).length >= 1, 5000, 'metrics');
    await station.waitFor(() => station.on(topics.droneEvents(id)).length >= 1, 5000, 'events');
    await station.waitFor(() => station.on(topics.droneTelemetry(id)).length >= 1, 5000, 'telemetry');
    expect(refused).toEqual([]);
    expect(runtime.estops).toBe(1);

    // Another drone's client tries to command ours and to read its telemetry.
    const rogue = connect(url, {
      protocolVersion: 4,
      clientId: uniqueId('rogue-'),
      username: other,
      password: 'pw-2',
      reconnectPeriod: 0,
    });
    cleanups.push(() => rogue.endAsync(true));
    await new Promise<void>((resolve) => rogue.once('connect', () => resolve()));
    // SUBACK 0x80: mqtt.js reports it as a subscribe error.
    const suback = await new Promise<string>((resolve) => {
      rogue.subscribe(topics.droneTelemetry(id), { qos: 1 }, (err) => resolve(err ? err.message : 'granted'));
    });
    expect(suback).toMatch(/Subscribe error/);
    expect(refused).toContain(`subscribe ${other} ${topics.droneTelemetry(id)}`);
    rogue.publish(
      topics.droneCommands(id),
      JSON.stringify({ schema: '1.0', commandId: 'evil', timeMs: Date.now(), kind: 'emergency-stop' }),
      { qos: 0 },
    );
    await until(() => refused.some((r) => r.startsWith(`publish ${other} `)), 5000, 'refused publish');
    await sleep(200);
    expect(station.on(topics.droneAcks(id)).map((m) => m.json?.commandId)).toEqual(['c1']);
    expect(runtime.estops).toBe(1);

    // A wrong password gets no session at all: the uplink keeps retrying, offline, and no birth appears.
    const data2 = tempDataDir();
    cleanups.push(data2.cleanup);
    const impostor = Uplink.open(testConfig(url, data2.dir, { id: other, mqttPassword: 'wrong' }), new FakeRuntime());
    cleanups.push(() => impostor.stop(0));
    impostor.start();
    await until(() => impostor.connectionCounters().attempts >= 3, 5000, 'retries');
    expect(impostor.isOnline).toBe(false);
    expect(impostor.connectionCounters().connects).toBe(0);
    expect(station.on(topics.droneStatus(other))).toEqual([]);
  });
});

const quiet = {
  phase: 'takeoff' as const,
  events: [],
  policy: null,
  decision: {
    layers: { sanity: false, box: false, barrier: false, shield: false, monitor: false },
    interventions: [],
    policyFault: false,
    error: null,
    barrier: { breached: [] },
    monitor: { transition: null },
  },
};
