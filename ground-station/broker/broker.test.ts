/**
 * The embedded broker's logins and ACL (shared/protocol aclAllows), with real mqtt.js clients over TCP: a drone publishes only under its own id,
 * cannot send commands, cannot subscribe to another drone's commands; refusals never reach a subscriber and are
 * counted; a taken port gives PORT_IN_USE with the way out.
 */
import { createServer } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { componentLogger } from '../../shared/log/index.js';
import { addCredential, CredentialChecker, type CredentialsFile, EMPTY_CREDENTIALS } from './credentials.js';
import { DropCounters } from './drops.js';
import { droneClientIdAllowed, type EmbeddedBroker, startEmbeddedBroker } from './embedded.js';

const FAST = { N: 1024, r: 8, p: 1 };

function credentialsFor(users: [string, 'drone' | 'operator'][]): {
  credentials: CredentialsFile;
  passwords: Record<string, string>;
} {
  let credentials = EMPTY_CREDENTIALS;
  const passwords: Record<string, string> = {};
  for (const [name, role] of users) {
    const added = addCredential(credentials, name, role, 1, FAST);
    credentials = added.credentials;
    passwords[name] = added.password;
  }
  return { credentials, passwords };
}

function connect(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
}

/** Resolves with the messages seen on `client` once `quietMs` passes after `until` resolves. */
function collect(client: MqttClient): { topics: string[] } {
  const seen = { topics: [] as string[] };
  client.on('message', (topic) => seen.topics.push(topic));
  return seen;
}

describe('embedded broker', () => {
  let broker: EmbeddedBroker;
  let drops: DropCounters;
  let passwords: Record<string, string>;
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    const made = credentialsFor([
      ['d1', 'drone'],
      ['d2', 'drone'],
      ['ops', 'operator'],
    ]);
    passwords = made.passwords;
    drops = new DropCounters();
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      checker: new CredentialChecker(made.credentials),
      drops,
      logger: componentLogger('broker-test'),
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await broker.close();
  });

  async function login(username: string, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const c = await connect(broker.url, {
      clientId: `aerie-${username}`,
      username,
      password: passwords[username],
      ...extra,
    });
    clients.push(c);
    return c;
  }

  it('refuses a wrong password and an unknown user, and counts them', async () => {
    await expect(connect(broker.url, { username: 'd1', password: 'wrong' })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(connect(broker.url, { username: 'ghost', password: 'x' })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(connect(broker.url, {})).rejects.toThrow(/Bad username or password/i);
    expect(drops.get('login-refused')).toBe(3);
    const ok = await login('d1');
    expect(ok.connected).toBe(true);
  });

  it('delivers a drone its own publish but never one under another id or a command', async () => {
    const ops = await login('ops');
    const seen = collect(ops);
    await ops.subscribeAsync('aerie/v1/#', { qos: 1 });
    const d1 = await login('d1');
    await d1.publishAsync('aerie/v1/drones/d1/telemetry', '{"ok":1}', { qos: 1 });

    // Under another drone's id: refused, connection closed, never delivered.
    const evil = await login('d2');
    const closed = new Promise<void>((resolve) => evil.once('close', () => resolve()));
    evil.publish('aerie/v1/drones/d1/telemetry', '{"spoof":1}', { qos: 1 });
    await closed;
    // A command from a drone: same.
    const evil2 = await login('d2', { clientId: 'd2.second' });
    const closed2 = new Promise<void>((resolve) => evil2.once('close', () => resolve()));
    evil2.publish('aerie/v1/drones/d1/commands', '{"kind":"land"}', { qos: 0 });
    await closed2;

    // A marker after the refused ones: once it arrives, anything earlier that was going to arrive has.
    await d1.publishAsync('aerie/v1/drones/d1/events', '{"marker":1}', { qos: 1 });
    await waitFor(() => seen.topics.includes('aerie/v1/drones/d1/events'));
    expect(seen.topics).toEqual(['aerie/v1/drones/d1/telemetry', 'aerie/v1/drones/d1/events']);
    expect(drops.get('unauthorised-publish')).toBe(2);
  });

  it("answers a drone's subscription to another drone's commands with a failure and keeps it connected", async () => {
    const d2 = await login('d2');
    await expect(d2.subscribeAsync('aerie/v1/drones/d1/commands', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const grants = await d2.subscribeAsync('aerie/v1/drones/d2/commands', { qos: 1 });
    expect(grants.map((g) => [g.topic, g.qos])).toEqual([['aerie/v1/drones/d2/commands', 1]]);
    const ops = await login('ops');
    await ops.publishAsync('aerie/v1/drones/d1/commands', '{"kind":"land"}', { qos: 1 });
    await ops.publishAsync('aerie/v1/drones/d2/commands', '{"kind":"return"}', { qos: 1 });
    const got: string[] = [];
    d2.on('message', (topic) => got.push(topic));
    await waitFor(() => got.length > 0);
    expect(got).toEqual(['aerie/v1/drones/d2/commands']);
    expect(d2.connected).toBe(true);
    expect(drops.get('unauthorised-subscribe')).toBe(1);
  });

  it("refuses at connect a will on another drone's status topic, and delivers a drone's own will", async () => {
    await expect(
      connect(broker.url, {
        clientId: 'aerie-d2',
        username: 'd2',
        password: passwords.d2,
        will: { topic: 'aerie/v1/drones/d1/status', payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
      }),
    ).rejects.toThrow(/Not authorized/i);
    expect(drops.get('unauthorised-will')).toBe(1);

    const ops = await login('ops');
    const got: string[] = [];
    ops.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await ops.subscribeAsync('aerie/v1/drones/+/status', { qos: 1 });
    const d1 = await login('d1', {
      will: { topic: 'aerie/v1/drones/d1/status', payload: Buffer.from('dead'), qos: 1, retain: true },
    });
    // Abrupt: the socket dies without DISCONNECT, so the broker publishes the will.
    d1.stream.destroy();
    await waitFor(() => got.length > 0);
    expect(got).toEqual(['aerie/v1/drones/d1/status dead']);
  });

  it("refuses a drone that uses another drone's client id (which would take over its session)", async () => {
    const d1 = await login('d1');
    await expect(connect(broker.url, { clientId: 'aerie-d1', username: 'd2', password: passwords.d2 })).rejects.toThrow(
      /Identifier rejected/i,
    );
    await expect(connect(broker.url, { clientId: 'd1', username: 'd2', password: passwords.d2 })).rejects.toThrow(
      /Identifier rejected/i,
    );
    expect(d1.connected).toBe(true);
    expect(drops.get('client-id-refused')).toBe(2);
    expect(droneClientIdAllowed('d1', 'aerie-d1.s-42')).toBe(true);
    expect(droneClientIdAllowed('d1', 'aerie-d10')).toBe(false);
    expect(droneClientIdAllowed('d1', 'd1-x')).toBe(false);
    // Operators pick any client id.
    const ops = await connect(broker.url, { clientId: 'whatever', username: 'ops', password: passwords.ops });
    clients.push(ops);
  });

  it('lets anyone in with --allow-anonymous, still held to the ACL of the id it claims', async () => {
    const open = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      checker: new CredentialChecker(EMPTY_CREDENTIALS),
      allowAnonymous: true,
      drops,
      logger: componentLogger('broker-test'),
    });
    try {
      const d = await connect(open.url, { clientId: 'aerie-dx', username: 'dx', password: 'anything' });
      clients.push(d);
      await d.publishAsync('aerie/v1/drones/dx/telemetry', '{}', { qos: 1 });
      const closed = new Promise<void>((resolve) => d.once('close', () => resolve()));
      d.publish('aerie/v1/drones/dy/telemetry', '{}', { qos: 1 });
      await closed;
      expect(drops.get('unauthorised-publish')).toBe(1);
    } finally {
      await open.close();
    }
  });

  it('names the port and the two ways out when the MQTT port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startEmbeddedBroker({
        host: '127.0.0.1',
        port,
        checker: new CredentialChecker(EMPTY_CREDENTIALS),
        drops,
        logger: componentLogger('broker-test'),
      }).catch((e: unknown) => e);
      expect(isAerieError(err, 'PORT_IN_USE')).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain(`MQTT port ${port}`);
      expect(message).toContain(`--mqtt-url mqtt://127.0.0.1:${port}`);
      expect(message).toContain('--mqtt-port 0');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
