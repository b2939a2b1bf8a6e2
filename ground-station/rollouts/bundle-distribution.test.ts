/**
 * Bundle distribution over a real broker (the station's embedded aedes with its logins and ACL): a drone-side double
 * that answers install-policy, loses a chunk, reports what is missing and checks the assembled file with openBundle.
 * The station resends only the missing chunk; refusals and silence come back as outcomes with their reasons.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  generateReleaseKeyPair,
  openBundle,
  packBundle,
  parsePrivateKey,
  signBundle,
  trustedKey,
} from '../../shared/bundle/index.js';
import { componentLogger } from '../../shared/log/index.js';
import { linearModel } from '../../shared/policy/test-models.js';
import { BUNDLE_CHUNK_BYTES, type Command, encodePayload, topics } from '../../shared/protocol/index.js';
import { addCredential, CredentialChecker, type CredentialsFile, EMPTY_CREDENTIALS } from '../broker/credentials.js';
import { DropCounters } from '../broker/drops.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../broker/embedded.js';
import { BundleSender, bundleChunks, connectBundleLink } from './bundle-distribution.js';
import { droneDouble } from './test-support.js';

const FAST = { N: 1024, r: 8, p: 1 };
const release = generateReleaseKeyPair();
const key = parsePrivateKey(release.privateKeyPem);

/** A signed bundle of several chunks (a large shield part makes it span them). */
function bigBundle(): { bytes: Buffer; version: string; sha256: string } {
  const bytes = signBundle(
    packBundle({ policy: linearModel(), shield: randomBytes(3 * BUNDLE_CHUNK_BYTES + 1000) }),
    key,
  );
  const r = openBundle(bytes, { trustedKeys: [trustedKey(release.publicKeyPem)] });
  if (!r.ok) throw new Error(r.reason);
  return { bytes, version: r.bundle.version, sha256: r.bundle.sha256 };
}

describe('bundle distribution over MQTT', () => {
  let broker: EmbeddedBroker;
  let passwords: Record<string, string>;
  let station: MqttClient;
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    let credentials: CredentialsFile = EMPTY_CREDENTIALS;
    passwords = {};
    for (const [name, role] of [
      ['d1', 'drone'],
      ['d2', 'drone'],
      ['station', 'station'],
    ] as const) {
      const added = addCredential(credentials, name, role, 1, FAST);
      credentials = added.credentials;
      passwords[name] = added.password;
    }
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      checker: new CredentialChecker(credentials),
      drops: new DropCounters(),
      logger: componentLogger('broker-test'),
    });
    station = await mqtt.connectAsync(broker.url, {
      clientId: 'station-bundles',
      username: 'station',
      password: passwords.station,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(station);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
    await broker.close();
  });

  const source = (b: { bytes: Buffer; version: string; sha256: string }) => async (v: string) =>
    v === b.version ? { bytes: b.bytes, sha256: b.sha256, version: v } : null;

  it('installs a bundle, resending only the chunk the drone reports missing', async () => {
    const b = bigBundle();
    const d1 = await droneDouble(broker.url, 'd1', passwords.d1, release.publicKeyPem, { lose: [1] });
    clients.push(d1.client);
    const { sender, detach } = await connectBundleLink(station, { source: source(b), idleResendMs: 60_000 });
    const outcome = await sender.installOnDrone('d1', b.version);
    await detach();
    expect(outcome).toEqual({ result: 'installed', droneId: 'd1', version: b.version, chunksSent: 5 });
    expect(d1.received).toEqual([0, 1, 2, 3, 1]);
    const install = d1.commands[0];
    expect(install).toMatchObject({
      kind: 'install-policy',
      version: b.version,
      sha256: b.sha256,
      totalBytes: b.bytes.length,
    });
    expect(install).not.toHaveProperty('url');
  });

  it("reports the drone's refusal with its code, a rejected command, and silence as failed", async () => {
    const b = bigBundle();
    const other = generateReleaseKeyPair();
    const d1 = await droneDouble(broker.url, 'd1', passwords.d1, other.publicKeyPem);
    const d2 = await droneDouble(broker.url, 'd2', passwords.d2, release.publicKeyPem, { ack: 'rejected' });
    clients.push(d1.client, d2.client);
    const { sender, detach } = await connectBundleLink(station, { source: source(b), idleResendMs: 60_000 });
    const [r1, r2] = await Promise.all([
      sender.installOnDrone('d1', b.version),
      sender.installOnDrone('d2', b.version),
    ]);
    expect(r1).toMatchObject({ result: 'refused', code: 'BUNDLE_UNTRUSTED_KEY' });
    expect(r1.result === 'refused' && r1.reason).toContain(release.keyId);
    expect(r2).toMatchObject({ result: 'refused', code: 'rejected', reason: 'install-policy rejected: not landed' });

    const silent = await droneDouble(broker.url, 'd1', passwords.d1, release.publicKeyPem, { silent: true });
    clients.push(silent.client);
    await d1.client.endAsync(true);
    const r3 = await sender.installOnDrone('d1', b.version, { timeoutMs: 1500 });
    expect(r3).toMatchObject({ result: 'failed', reason: expect.stringContaining('no verdict from d1') });
    expect(await sender.installOnDrone('d1', 'sha256:ffffffffffffffff')).toMatchObject({
      result: 'failed',
      reason: expect.stringContaining('no bundle'),
    });
    expect(sender.pending()).toEqual([]);
    await detach();
  });

  it('sends every chunk again after silence, at most maxResends times, and still takes the verdict', async () => {
    const b = bigBundle();
    const sent: number[] = [];
    const sender = new BundleSender({
      source: source(b),
      ports: {
        sendCommand: async () => ({ ok: true, value: undefined }),
        sendChunk: async (_id, c) => {
          sent.push(c.index);
          return { ok: true, value: undefined };
        },
      },
      idleResendMs: 50,
      maxResends: 2,
    });
    const started = await sender.startInstall('d9', b.version);
    expect(started.started.ok).toBe(true);
    const deadline = Date.now() + 5000;
    while (sent.length < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    // The first send and two resends of the four chunks, then it waits.
    expect(sent).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    const [{ transferId }] = sender.pending();
    sender.handleEvent('d9', {
      schema: '1.0',
      id: 'd9',
      seq: 1,
      timeMs: 1,
      kind: 'policy',
      action: 'installed',
      policyVersion: b.version,
      transferId,
    });
    expect(await started.outcome).toMatchObject({ result: 'installed', chunksSent: 12 });
  });

  it('a drone cannot publish chunks to another drone (ACL), and HTTP transfers carry the URL', async () => {
    const b = bigBundle();
    const d2 = await droneDouble(broker.url, 'd2', passwords.d2, release.publicKeyPem);
    clients.push(d2.client);
    const d1 = await mqtt.connectAsync(broker.url, {
      clientId: 'd1',
      username: 'd1',
      password: passwords.d1,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(d1);
    const chunk = bundleChunks(b.bytes, b.version, 'forged')[0];
    const enc = encodePayload('bundle', chunk);
    if (!enc.ok) throw new Error(enc.reason);
    // aedes drops an unauthorised publish; a chunk from the station after it proves the path was clear.
    await d1.publishAsync(topics.droneBundle('d2'), enc.value, { qos: 0 }).catch(() => undefined);
    const marker = encodePayload('bundle', { ...chunk, transferId: 'from-station' });
    if (!marker.ok) throw new Error(marker.reason);
    await station.publishAsync(topics.droneBundle('d2'), marker.value, { qos: 1 });
    const deadline = Date.now() + 5000;
    while (!d2.transfersSeen.includes('from-station') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(d2.transfersSeen).toEqual(['from-station']);

    const commands: Command[] = [];
    const sender = new BundleSender({
      source: source(b),
      publicBaseUrl: 'http://station.test:8080/',
      ports: {
        sendCommand: async (_id, c) => {
          commands.push(c);
          return { ok: true, value: undefined };
        },
        sendChunk: async () => ({ ok: false, reason: 'not used' }),
      },
      timeoutMs: 500,
    });
    const r = await sender.installOnDrone('d2', b.version, { via: 'http' });
    expect(r.result).toBe('failed');
    expect(commands[0]).toMatchObject({
      kind: 'install-policy',
      url: `http://station.test:8080/api/policies/${encodeURIComponent(b.version)}/bundle`,
    });
    expect(d2.received).toEqual([]);
  });
});
