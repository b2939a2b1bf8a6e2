/**
 * The `bundle.*` benchmark figures (test/bench registers this): verifying a signed bundle (the default policy's, and
 * a 10 MiB one) and moving a 10 MiB bundle to a drone over the station's embedded broker (install-policy, 48 KiB
 * chunks, the drone's verdict), with a minimal drone side that assembles and verifies what it receives.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { defaultPolicyPath, defaultShieldPath } from '../../onboard/policy/index.js';
import {
  generateReleaseKeyPair,
  openBundle,
  packBundle,
  parsePrivateKey,
  signBundle,
  trustedKey,
} from '../../shared/bundle/index.js';
import { componentLogger } from '../../shared/log/index.js';
import { decodeCommand, decodePayload, encodePayload, PROTOCOL_VERSION, topics } from '../../shared/protocol/index.js';
import {
  addCredential,
  CredentialChecker,
  DropCounters,
  EMPTY_CREDENTIALS,
  startEmbeddedBroker,
} from '../broker/index.js';
import { connectBundleLink } from './bundle-distribution.js';

export interface BundleFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note: string;
}

const MIB = 1024 * 1024;

function bestOfMs(n: number, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

export async function measureBundles(): Promise<BundleFigure[]> {
  const keys = generateReleaseKeyPair();
  const key = parsePrivateKey(keys.privateKeyPem);
  const trusted = [trustedKey(keys.publicKeyPem)];
  const policy = readFileSync(defaultPolicyPath());
  const small = signBundle(packBundle({ policy, shield: readFileSync(defaultShieldPath()) }), key);
  const big = signBundle(packBundle({ policy, shield: randomBytes(10 * MIB) }), key);
  const check = (b: Buffer) => {
    if (!openBundle(b, { trustedKeys: trusted }).ok) throw new Error('bundle did not verify');
  };
  const smallMs = bestOfMs(50, () => check(small));
  const bigMs = bestOfMs(5, () => check(big));
  const transfer = await transferMibPerS(big, keys.publicKeyPem);
  return [
    {
      name: 'bundle.open_ms',
      value: smallMs,
      unit: 'ms',
      note: `openBundle of the default policy bundle (${small.length} bytes): signature, hashes, contract; best of 50`,
    },
    {
      name: 'bundle.open_mib_s',
      value: big.length / MIB / (bigMs / 1000),
      unit: 'MiB/s',
      note: 'openBundle throughput on a 10 MiB bundle (best of 5)',
    },
    {
      name: 'bundle.transfer_mib_s',
      value: transfer,
      unit: 'MiB/s',
      note: '10 MiB bundle to one drone over the embedded broker: install-policy, QoS 1 chunks, verified on arrival',
    },
  ];
}

async function transferMibPerS(bytes: Buffer, publicKeyPem: string): Promise<number> {
  let credentials = EMPTY_CREDENTIALS;
  const passwords: Record<string, string> = {};
  for (const [name, role] of [
    ['d1', 'drone'],
    ['station', 'station'],
  ] as const) {
    const added = addCredential(credentials, name, role, 1, { N: 1024, r: 8, p: 1 });
    credentials = added.credentials;
    passwords[name] = added.password;
  }
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    checker: new CredentialChecker(credentials),
    drops: new DropCounters(),
    logger: componentLogger('bench-broker'),
  });
  const options = { protocolVersion: 4 as const, reconnectPeriod: 0 };
  const station = await mqtt.connectAsync(broker.url, {
    ...options,
    clientId: 'bench-station',
    username: 'station',
    password: passwords.station,
  });
  const drone = await mqtt.connectAsync(broker.url, {
    ...options,
    clientId: 'd1',
    username: 'd1',
    password: passwords.d1,
  });
  try {
    // The drone side: ack, keep chunks, verify the whole file, report.
    const held = new Map<number, Buffer>();
    let seq = 0;
    drone.on('message', (topic, payload) => {
      void (async () => {
        if (topic === topics.droneCommands('d1')) {
          const c = decodeCommand(payload);
          if (!c.ok) return;
          const ack = encodePayload('acks', {
            schema: PROTOCOL_VERSION,
            id: 'd1',
            commandId: c.value.commandId,
            kind: c.value.kind,
            result: 'accepted',
            timeMs: Date.now(),
          });
          if (ack.ok) await drone.publishAsync(topics.droneAcks('d1'), ack.value, { qos: 1 });
          return;
        }
        const r = decodePayload('bundle', payload);
        if (!r.ok) return;
        const data = Buffer.from(r.value.data, 'base64');
        if (createHash('sha256').update(data).digest('hex') === r.value.chunkSha256) held.set(r.value.index, data);
        if (held.size < r.value.count) return;
        const file = Buffer.concat(Array.from({ length: r.value.count }, (_, i) => held.get(i) as Buffer));
        const ok = openBundle(file, { trustedKeys: [trustedKey(publicKeyPem)] }).ok;
        const event = encodePayload('events', {
          schema: PROTOCOL_VERSION,
          id: 'd1',
          seq: ++seq,
          timeMs: Date.now(),
          kind: 'policy',
          action: ok ? 'installed' : 'refused',
          policyVersion: r.value.version,
          transferId: r.value.transferId,
        });
        if (event.ok) await drone.publishAsync(topics.droneEvents('d1'), event.value, { qos: 1 });
      })();
    });
    await drone.subscribeAsync([topics.droneCommands('d1'), topics.droneBundle('d1')], { qos: 1 });
    const opened = openBundle(bytes, { trustedKeys: [trustedKey(publicKeyPem)] });
    if (!opened.ok) throw new Error(opened.reason);
    const { sender, detach } = await connectBundleLink(station, {
      source: async () => ({ bytes, sha256: opened.bundle.sha256, version: opened.bundle.version }),
    });
    const t0 = process.hrtime.bigint();
    const outcome = await sender.installOnDrone('d1', opened.bundle.version);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    await detach();
    if (outcome.result !== 'installed') throw new Error(`transfer ${outcome.result}`);
    return bytes.length / MIB / s;
  } finally {
    await drone.endAsync(true).catch(() => undefined);
    await station.endAsync(true).catch(() => undefined);
    await broker.close();
  }
}

/** The benchmark as test/bench/run.ts lists it. */
export const bundleBenchmark = {
  name: 'bundle',
  figures: ['bundle.open_ms', 'bundle.open_mib_s', 'bundle.transfer_mib_s'],
  run: measureBundles,
} as const;
