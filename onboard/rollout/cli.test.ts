/**
 * `aerie onboard --policy-dir DIR --trusted-keys KEYS` as a child process (from the TypeScript sources with tsx): it
 * starts on the active slot's policy and announces its slots and the policy commands in its birth; a slot altered on
 * disk is dropped and the runtime's own policy flies instead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateReleaseKeyPair, packBundle, signBundle, writeReleaseKeys } from '../../shared/bundle/index.js';
import { buildGoToGoalModel } from '../../shared/policy/index.js';
import { linearModel } from '../../shared/policy/test-models.js';
import { policyVersionFromSha256, topics } from '../../shared/protocol/index.js';
import { goToGoalModelFile } from '../../test/support/onboard-models.js';
import { Subscriber, startBroker, type TestBroker, tempDataDir, uniqueId, until } from '../uplink/test-support.js';
import { SlotStore } from './slots.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aerie-rollout-cli-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function onboard(args: string[]): { proc: ChildProcess; stderr: string[] } {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(CLI)}); try { process.exitCode = await m.main(process.argv.slice(1)); } catch (e) { process.stderr.write(String(e.message) + '\\n'); process.exitCode = 2; }`,
      '--',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AERIE_LOG_LEVEL: 'warn' } },
  );
  const stderr: string[] = [];
  proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  proc.stdout?.resume();
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });
  return { proc, stderr };
}

/** A policy folder with `model` in its active slot (activated over the runtime's own policy). */
async function policyDir(model: Uint8Array, keys: ReturnType<typeof generateReleaseKeyPair>): Promise<string> {
  const dir = tempDir();
  const bundle = signBundle(packBundle({ policy: model }), keys.privateKeyPem);
  const { store } = await SlotStore.open(dir);
  await store.installCandidate({
    info: {
      version: policyVersionFromSha256(sha(model)),
      sha256: sha(bundle),
      policySha256: sha(model),
      parts: [{ name: 'policy.onnx', sha256: sha(model), bytes: model.length }],
      installedAtMs: 0,
    },
    bundle,
    manifest: {},
    parts: { 'policy.onnx': model },
  });
  await store.activateCandidate(0, 3);
  return dir;
}

async function birthOf(dir: string, keysDir: string): Promise<Record<string, unknown>> {
  const id = uniqueId('cli');
  const data = tempDataDir();
  cleanups.push(data.cleanup);
  const station = await Subscriber.connect(broker.url, [topics.droneStatus(id)]);
  cleanups.push(async () => {
    await station.publish(topics.droneStatus(id), '', true);
    await station.close();
  });
  const port = await freeUdpPort();
  const child = onboard([
    ...['--mavlink', `udp://:${port}`, '--id', id, '--mqtt-url', broker.url, '--data-dir', data.dir],
    ...['--policy', goToGoalModelFile(), '--policy-dir', dir, '--trusted-keys', keysDir, '--stdin-control', 'false'],
  ]);
  await until(
    () => station.on(topics.droneStatus(id)).some((m) => m.json?.kind === 'birth') || child.proc.exitCode !== null,
    30_000,
    'birth',
  );
  expect(child.stderr.join('')).not.toMatch(/Error/);
  return station.on(topics.droneStatus(id)).find((m) => m.json?.kind === 'birth')?.json as Record<string, unknown>;
}

describe('aerie onboard --policy-dir', () => {
  it('starts on the active slot and announces its slots and the policy commands', async () => {
    const keys = generateReleaseKeyPair();
    const keysDir = tempDir();
    writeReleaseKeys(keysDir, keys);
    const model = linearModel();
    const birth = await birthOf(await policyDir(model, keys), keysDir);
    const version = policyVersionFromSha256(sha(model));
    expect(birth.policyVersion).toBe(version);
    expect(birth.policy).toMatchObject({
      active: { version },
      previous: { version: policyVersionFromSha256(sha(buildGoToGoalModel())) },
    });
    expect(birth.capabilities).toEqual(expect.arrayContaining(['install-policy', 'activate-policy', 'revert-policy']));
  }, 60_000);

  it('drops an active slot altered on disk and flies its own policy', async () => {
    const keys = generateReleaseKeyPair();
    const keysDir = tempDir();
    writeReleaseKeys(keysDir, keys);
    const dir = await policyDir(linearModel(), keys);
    writeFileSync(join(dir, 'active', 'policy.onnx'), linearModel({ outputSize: 4 }));
    const birth = await birthOf(dir, keysDir);
    const own = policyVersionFromSha256(sha(buildGoToGoalModel()));
    expect(birth.policyVersion).toBe(own);
    expect(birth.policy).toEqual({ active: { version: own, sha256: sha(buildGoToGoalModel()) } });
  }, 60_000);
});
