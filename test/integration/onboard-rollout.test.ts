/**
 * Onboard rollouts against the simulated fleet over real UDP and a real MQTT broker: a signed bundle installed by
 * chunks across a reconnect and activated while landed (then flown); tampered, wrongly signed, wrong-contract and
 * wrong-PX4-parameter bundles refused with their reasons and nothing changed; shadow mode measuring divergence; and
 * a candidate that faults on its first flight reverted on the drone.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RolloutManager } from '../../onboard/rollout/index.js';
import { splitIntoChunks } from '../../onboard/rollout/transfer.js';
import { OnboardRuntime } from '../../onboard/runtime.js';
import { runtimePort, Uplink } from '../../onboard/uplink/index.js';
import {
  type Received,
  Subscriber,
  startBroker,
  TcpProxy,
  tempDataDir,
  testConfig,
  until,
} from '../../onboard/uplink/test-support.js';
import { decodeContainer, encodeContainer } from '../../shared/bundle/container.js';
import {
  generateReleaseKeyPair,
  type PackInput,
  packBundle,
  signBundle,
  trustedKey,
} from '../../shared/bundle/index.js';
import {
  ACTION_SIZE,
  BATCH_DIM,
  buildGoToGoalModel,
  encodeModel,
  OBSERVATION_SIZE,
  observationIndex,
} from '../../shared/policy/index.js';
import { linearModel, POLICY_METADATA } from '../../shared/policy/test-models.js';
import { BUNDLE_CHUNK_BYTES, PROTOCOL_VERSION, policyVersionFromSha256, topics } from '../../shared/protocol/index.js';
import { startTestVehicles } from '../support/index.js';
import { nanNearGoalPolicyModel, writeTempModel } from '../support/onboard-models.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const versionOf = (model: Uint8Array) => policyVersionFromSha256(sha(model));

/** Go-to-goal at a fraction of its horizontal gain: flies a delivery, and is another model (another version). */
function gentleGoToGoalModel(gain: number): Uint8Array {
  const w = new Float32Array(OBSERVATION_SIZE * ACTION_SIZE);
  w[observationIndex('goal_n') * ACTION_SIZE + 0] = gain;
  w[observationIndex('goal_e') * ACTION_SIZE + 1] = gain;
  w[observationIndex('goal_d') * ACTION_SIZE + 2] = 1;
  return encodeModel({
    name: 'test_gentle_go_to_goal',
    inputs: [{ name: 'observation', dims: [BATCH_DIM, OBSERVATION_SIZE] }],
    outputs: [{ name: 'action', dims: [BATCH_DIM, ACTION_SIZE] }],
    nodes: [{ op: 'Gemm', inputs: ['observation', 'w', 'b'], outputs: ['action'] }],
    initializers: [
      { name: 'w', dims: [OBSERVATION_SIZE, ACTION_SIZE], data: w },
      { name: 'b', dims: [ACTION_SIZE], data: new Float32Array(ACTION_SIZE) },
    ],
    metadata: POLICY_METADATA,
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const keys = generateReleaseKeyPair();
const activeModel = buildGoToGoalModel();
const activeVersion = versionOf(activeModel);

function signed(input: PackInput, privateKeyPem = keys.privateKeyPem): Buffer {
  return signBundle(packBundle(input), privateKeyPem);
}

/** One drone (runtime + rollout + uplink through a cuttable proxy) and a station client on the broker. */
async function startDrone(options: { probationFlights?: number } = {}) {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const proxy = new TcpProxy(broker.host, broker.port);
  await proxy.start();
  cleanups.push(() => proxy.stop());
  const vehicles = await startTestVehicles(1, {
    portKey: import.meta.url,
    timing: 'realtime',
    speed: 4,
    estimatorReadyS: 2,
  });
  cleanups.push(() => vehicles.close());
  const activePath = writeTempModel(activeModel);
  const runtime = await OnboardRuntime.create({
    link: { mavlink: vehicles.vehicles[0].url },
    policyPath: activePath,
    // The machine running these is shared and loaded, and at 4x a 75 ms wall hiccup is a stale state: stalls and
    // stale telemetry are other tests' subjects (onboard-stall, onboard-serial), not these.
    control: { policyDeadlineMs: 50, stallThresholdMs: 2000 },
    safety: { stateStaleMs: 1500, stateLostLandMs: 5000 },
    timeScale: 4,
  });
  cleanups.push(() => runtime.stop());
  const dir = mkdtempSync(join(tmpdir(), 'aerie-policy-dir-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const data = tempDataDir();
  cleanups.push(data.cleanup);
  const config = testConfig(proxy.url, data.dir, { metricsWindowS: 1, mqttPassword: 'pw' });
  const rollout = await RolloutManager.open(runtime, {
    dir,
    trustedKeys: [trustedKey(keys.publicKeyPem)],
    fallbackPolicyPath: activePath,
    probationFlights: options.probationFlights ?? 3,
    progressIdleMs: 300,
    installTimeoutMs: 60_000,
    http: { username: config.id, password: 'pw' },
  });
  cleanups.push(() => rollout.stop());
  const station = await Subscriber.connect(broker.url, [`aerie/v1/drones/${config.id}/#`]);
  cleanups.push(async () => {
    await station.publish(topics.droneStatus(config.id), '', true);
    await station.close();
  });
  const uplink = Uplink.open(config, runtimePort(runtime, rollout));
  cleanups.push(() => uplink.stop(0));
  await runtime.start();
  rollout.start();
  uplink.start();
  expect(await runtime.waitForAutopilot(10_000)).toBe(true);
  const id = config.id;

  let n = 0;
  const drone = {
    id,
    dir,
    runtime,
    rollout,
    uplink,
    proxy,
    station,
    async command(body: Record<string, unknown>): Promise<Record<string, unknown>> {
      const commandId = `c-${++n}`;
      await station.publish(
        topics.droneCommands(id),
        JSON.stringify({ schema: PROTOCOL_VERSION, commandId, timeMs: Date.now(), ...body }),
      );
      await station.waitFor(
        () => station.on(topics.droneAcks(id)).some((m) => m.json?.commandId === commandId),
        30_000,
        `ack of ${body.kind}`,
      );
      return {
        commandId,
        ...(station.on(topics.droneAcks(id)).find((m) => m.json?.commandId === commandId)?.json ?? {}),
      };
    },
    policyEvents(): Record<string, unknown>[] {
      return station
        .on(topics.droneEvents(id))
        .map((m: Received) => m.json as Record<string, unknown>)
        .filter((e) => e.kind === 'policy');
    },
    async policyEvent(pred: (e: Record<string, unknown>) => boolean, what: string, timeoutMs = 30_000) {
      await station.waitFor(() => drone.policyEvents().some(pred), timeoutMs, what);
      return drone.policyEvents().find(pred) as Record<string, unknown>;
    },
    lastBirth(): Record<string, unknown> | undefined {
      return station
        .on(topics.droneStatus(id))
        .filter((m) => m.json?.kind === 'birth')
        .at(-1)?.json as Record<string, unknown> | undefined;
    },
    async landedAndDisarmed(timeoutMs = 60_000): Promise<void> {
      await until(
        () => !runtime.link.state().armed && runtime.link.state().landedState === 'on-ground',
        timeoutMs,
        'landed and disarmed',
      );
    },
    /** Fly one delivery assigned over MQTT; resolves with its outcome event. */
    async fly(dropNeM: [number, number], taskId: string): Promise<Record<string, unknown>> {
      await drone.landedAndDisarmed();
      const ack = await drone.command({
        kind: 'assign-delivery',
        taskId,
        dropNeM,
        cruiseAltM: 8,
        releaseBy: 'hover',
      });
      expect(ack).toMatchObject({ result: 'accepted' });
      const outcome = (e: Record<string, unknown>) => e.missionEvent === 'outcome' && e.taskId === taskId;
      const events = () => station.on(topics.droneEvents(id)).map((m) => m.json as Record<string, unknown>);
      await station
        .waitFor(() => events().some(outcome), 120_000, `outcome of ${taskId}`)
        .catch((err: Error) => {
          const s = runtime.link.state();
          const seen = events()
            .filter((e) => e.kind === 'mission' || e.kind === 'alert')
            .map((e) => `${e.missionEvent ?? e.code}:${e.phase ?? ''}:${e.detail ?? e.message ?? ''}`);
          throw new Error(
            `${err.message}; mission ${runtime.loop.currentMission?.phase}, armed ${s.armed}, ${s.landedState}, ` +
              `mode ${s.mode.name}, link ${runtime.link.isUp}, uplink ${uplink.isOnline}; events: ${seen.join(' | ')}`,
          );
        });
      return events().find(outcome) as Record<string, unknown>;
    },
    metrics(): Record<string, unknown>[] {
      return station.on(topics.droneMetrics(id)).map((m) => m.json as Record<string, unknown>);
    },
  };
  // The first birth carries the policy slots: nothing installed, the runtime's own policy active.
  await station.waitFor(() => drone.lastBirth()?.policy !== undefined, 10_000, 'birth with policy slots');
  expect(drone.lastBirth()?.policy).toMatchObject({ active: { version: activeVersion } });
  return drone;
}

/** A tiny station-side HTTP server for bundles, with basic auth. */
async function serveBundles(username: string, password: string) {
  const files = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const want = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if (req.headers.authorization !== want) return void res.writeHead(401).end();
    const body = files.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    add(name: string, bytes: Buffer): string {
      files.set(`/api/policies/${name}/bundle`, bytes);
      return `${base}/api/policies/${name}/bundle`;
    },
  };
}

describe('onboard rollouts', () => {
  it('installs a signed bundle by chunks across a reconnect, activates it while landed, and flies it', async () => {
    const d = await startDrone();
    const model = gentleGoToGoalModel(0.8);
    const version = versionOf(model);
    // Padding in the evaluation summary makes a bundle of several chunks.
    const bundle = signed({ policy: model, evalReport: { notes: 'x'.repeat(3 * BUNDLE_CHUNK_BYTES) } });
    const chunks = splitIntoChunks(bundle, 'tx-a', version, BUNDLE_CHUNK_BYTES);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const sendChunk = (i: number) =>
      d.station.publish(topics.droneBundle(d.id), JSON.stringify({ schema: PROTOCOL_VERSION, ...chunks[i] }));

    const ack = await d.command({
      kind: 'install-policy',
      version,
      sha256: sha(bundle),
      totalBytes: bundle.length,
      transferId: 'tx-a',
    });
    expect(ack).toMatchObject({ result: 'accepted' });
    // The first two chunks arrive and are kept on disk.
    await sendChunk(0);
    await sendChunk(1);
    await until(() => existsSync(join(d.dir, 'transfers', 'tx-a', '1.chunk')), 10_000, 'two chunks on disk');
    // The drone's link drops; the rest are sent while it is away (lost, or queued by the broker).
    const connectsBefore = d.uplink.connectionCounters().connects;
    const eventsBefore = d.policyEvents().length;
    d.proxy.cut();
    for (let i = 2; i < chunks.length; i++) await sendChunk(i);
    await until(() => d.uplink.connectionCounters().connects > connectsBefore, 20_000, 'reconnect');
    // Back online, the drone says what it still misses; only those are resent, never the chunks it kept.
    const resent = new Set<number>();
    await until(
      () => {
        for (const e of d.policyEvents().slice(eventsBefore)) {
          if (e.action !== 'bundle-progress' || e.transferId !== 'tx-a') continue;
          for (const i of e.missingChunks as number[]) {
            if (!resent.has(i)) {
              resent.add(i);
              void sendChunk(i);
            }
          }
        }
        return d.policyEvents().some((e) => e.action === 'installed' || e.action === 'refused');
      },
      30_000,
      'installed',
    );
    // Chunks sent while it was away were lost (a clean session) and asked for again; the kept ones never were.
    expect(resent.size).toBeGreaterThan(0);
    expect(resent.has(0) || resent.has(1)).toBe(false);
    expect(d.policyEvents().find((e) => e.action === 'installed')).toMatchObject({
      policyVersion: version,
      commandId: ack.commandId,
    });
    await d.station.waitFor(() => (d.lastBirth()?.policy as { candidate?: unknown })?.candidate !== undefined, 5000);
    expect(d.lastBirth()?.policy).toMatchObject({
      active: { version: activeVersion },
      candidate: { version, sha256: sha(bundle) },
    });
    expect(existsSync(join(d.dir, 'candidate', 'policy.onnx'))).toBe(true);

    // Activated while landed and disarmed: the runtime flies it at once.
    await d.landedAndDisarmed();
    const activated = await d.command({ kind: 'activate-policy', version, sha256: sha(bundle) });
    expect(activated).toMatchObject({ result: 'accepted' });
    expect(d.runtime.policy.current?.info.sha256).toBe(sha(model));
    await d.policyEvent((e) => e.action === 'activated' && e.policyVersion === version, 'activated');
    await d.station.waitFor(() => d.lastBirth()?.policyVersion === version, 5000, 'birth with the new version');
    expect(d.lastBirth()?.policy).toMatchObject({ active: { version }, previous: { version: activeVersion } });

    // In flight, another activation is refused with the reason.
    const outcome = d.fly([25, 0], 'T-a');
    await until(() => d.runtime.link.state().armed, 30_000, 'armed');
    const refused = await d.command({ kind: 'activate-policy', version, sha256: sha(bundle) });
    expect(refused).toMatchObject({ result: 'rejected', reason: expect.stringMatching(/landed and disarmed/) });
    const flown = await outcome;
    expect(flown, String(flown.detail)).toMatchObject({ outcome: 'delivered' });
    await d.station.waitFor(
      () => d.metrics().some((m) => m.policyVersion === version && (m.policyTicks as number) > 0),
      10_000,
      'metrics of the new policy',
    );
  }, 240_000);

  it('refuses tampered, wrongly signed, wrong-contract and wrong-parameter bundles with their reasons; nothing changes', async () => {
    const d = await startDrone();
    const http = await serveBundles(d.id, 'pw');
    const before = { slots: d.rollout.store.current, sha: d.runtime.policy.current?.info.sha256 };
    const model = gentleGoToGoalModel(0.7);
    const good = signed({ policy: model, px4Params: { COM_OF_LOSS_T: { value: 1 }, MPC_XY_VEL_MAX: { value: 12 } } });

    const tampered = Buffer.from(good);
    tampered[tampered.length - 10] ^= 0xff; // inside the policy part
    const other = generateReleaseKeyPair();
    const untrusted = signed({ policy: model }, other.privateKeyPem);
    const c = decodeContainer(good);
    if (!c.ok) throw new Error(c.reason);
    const badSignature = encodeContainer({ ...c.value, signature: Buffer.from(c.value.signature).fill(7, 0, 8) });
    const cases: [string, Buffer, string, RegExp][] = [
      ['tampered', tampered, 'BUNDLE_HASH', /policy\.onnx/],
      ['untrusted', untrusted, 'BUNDLE_UNTRUSTED_KEY', new RegExp(other.keyId)],
      ['bad-signature', badSignature, 'BUNDLE_SIGNATURE', /does not verify/],
      ['contract-version', signed({ policy: model, contractVersion: '99.0.0' }), 'BUNDLE_CONTRACT', /99\.0\.0/],
      ['contract-outputs', signed({ policy: linearModel({ outputSize: 4 }) }), 'POLICY_CONTRACT_MISMATCH', /action/],
      [
        'px4-params',
        signed({
          policy: model,
          px4Params: { MPC_XY_VEL_MAX: { value: 8, tolerance: 0.5 }, COM_OF_LOSS_T: { value: 1 } },
        }),
        'BUNDLE_PX4_PARAMS',
        /MPC_XY_VEL_MAX is 12/,
      ],
    ];
    for (const [name, bytes, code, reason] of cases) {
      const version = name === 'contract-outputs' ? versionOf(linearModel({ outputSize: 4 })) : versionOf(model);
      const ack = await d.command({
        kind: 'install-policy',
        version,
        sha256: sha(bytes),
        totalBytes: bytes.length,
        url: http.add(name, bytes),
      });
      expect(ack, name).toMatchObject({ result: 'accepted' });
      const event = await d.policyEvent((e) => e.commandId === ack.commandId && e.action !== 'bundle-progress', name);
      expect(event, name).toMatchObject({ action: 'refused', code, reason: expect.stringMatching(reason) });
      expect(d.rollout.store.current, name).toEqual(before.slots);
      expect(d.runtime.policy.current?.info.sha256, name).toBe(before.sha);
    }
    expect(d.lastBirth()?.policy).toEqual({ active: { version: activeVersion, sha256: before.sha } });

    // The good bundle (its PX4 parameters read from the autopilot and matching) installs over the same path.
    const ack = await d.command({
      kind: 'install-policy',
      version: versionOf(model),
      sha256: sha(good),
      totalBytes: good.length,
      url: http.add('good', good),
    });
    const event = await d.policyEvent((e) => e.commandId === ack.commandId, 'installed');
    expect(event).toMatchObject({ action: 'installed', policyVersion: versionOf(model) });
    expect(d.runtime.policy.current?.info.sha256).toBe(before.sha);
  }, 180_000);

  it('runs a candidate in shadow: divergence above zero for another model, zero for the same one', async () => {
    const d = await startDrone();
    const http = await serveBundles(d.id, 'pw');
    const shadowFlight = async (model: Uint8Array, task: string) => {
      const bundle = signed({ policy: model });
      const version = versionOf(model);
      const install = await d.command({
        kind: 'install-policy',
        version,
        sha256: sha(bundle),
        totalBytes: bundle.length,
        url: http.add(task, bundle),
      });
      await d.policyEvent((e) => e.commandId === install.commandId && e.action === 'installed', 'installed');
      expect(await d.command({ kind: 'shadow-policy', version, enabled: true })).toMatchObject({ result: 'accepted' });
      await d.policyEvent((e) => e.action === 'shadow-started' && e.policyVersion === version, 'shadow-started');
      await d.station.waitFor(() => (d.lastBirth()?.policy as { shadow?: string })?.shadow === version, 5000);
      const flown = await d.fly([25, 0], task);
      expect(flown, String(flown.detail)).toMatchObject({ outcome: 'delivered' });
      await d.station.waitFor(
        () => d.metrics().some((m) => (m.shadow as { policyVersion?: string })?.policyVersion === version),
        10_000,
      );
      expect(await d.command({ kind: 'shadow-policy', version, enabled: false })).toMatchObject({ result: 'accepted' });
      const stopped = await d.policyEvent(
        (e) => e.action === 'shadow-stopped' && e.policyVersion === version,
        'stopped',
      );
      const windows = d
        .metrics()
        .map((m) => m.shadow as Record<string, number> & { policyVersion: string })
        .filter((s) => s?.policyVersion === version && s.ticks > 0);
      const ticks = windows.reduce((s, w) => s + w.ticks, 0);
      const mean = windows.reduce((s, w) => s + w.divergenceMeanMps * w.ticks, 0) / ticks;
      return { ticks, mean, maxP95: Math.max(...windows.map((w) => w.divergenceP95Mps)), stopped };
    };
    // The active policy is untouched by the shadow: the same model flies throughout.
    const other = await shadowFlight(gentleGoToGoalModel(0.5), 'T-other');
    expect(other.ticks).toBeGreaterThan(20);
    expect(other.mean).toBeGreaterThan(0.2);
    expect(other.maxP95).toBeGreaterThan(0.5);
    expect(other.stopped.reason).toMatch(/mean divergence/);
    const same = await shadowFlight(activeModel, 'T-same');
    expect(same.ticks).toBeGreaterThan(20);
    expect(same.mean).toBeLessThan(1e-6);
    expect(d.runtime.policy.current?.info.sha256).toBe(sha(activeModel));
  }, 300_000);

  it('reverts a candidate that faults on its first flight, on the drone, and tells the station', async () => {
    const d = await startDrone({ probationFlights: 3 });
    const http = await serveBundles(d.id, 'pw');
    // Flies towards its goal and answers NaN within 15 m of it: the monitor holds, then lands.
    const model = nanNearGoalPolicyModel({ radiusM: 15, speedFraction: 0.5 });
    const version = versionOf(model);
    const bundle = signed({ policy: model });
    const install = await d.command({
      kind: 'install-policy',
      version,
      sha256: sha(bundle),
      totalBytes: bundle.length,
      url: http.add('faulty', bundle),
    });
    await d.policyEvent((e) => e.commandId === install.commandId && e.action === 'installed', 'installed');
    await d.landedAndDisarmed();
    expect(await d.command({ kind: 'activate-policy', version, sha256: sha(bundle) })).toMatchObject({
      result: 'accepted',
    });
    expect(d.rollout.store.current.probation).toMatchObject({ flights: 0, limit: 3, tripped: null });

    const outcome = await d.fly([40, 0], 'T-fault');
    expect(outcome.outcome).not.toBe('delivered');
    const rolledBack = await d.policyEvent((e) => e.action === 'rolled-back', 'rolled-back', 90_000);
    expect(rolledBack).toMatchObject({ policyVersion: version, reason: expect.stringMatching(/probation.*polic/) });
    expect(d.runtime.link.state().armed).toBe(false);
    expect(d.runtime.policy.current?.info.sha256).toBe(sha(activeModel));
    expect(d.rollout.store.current).toMatchObject({ active: null, previous: null, probation: null });
    await d.station.waitFor(() => d.lastBirth()?.policyVersion === activeVersion, 5000, 'birth back on the baseline');
    expect(existsSync(join(d.dir, 'active'))).toBe(false);
  }, 240_000);
});
