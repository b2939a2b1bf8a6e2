/**
 * The rollout manager on a real policy slot with a scripted vehicle (no autopilot, no broker): install by chunks,
 * refusals that change nothing, activation only on the ground, and a trip on probation that survives a restart and
 * is reverted once landed.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateReleaseKeyPair, packBundle, signBundle, trustedKey } from '../../shared/bundle/index.js';
import { EMPTY_AIRSPACE } from '../../shared/geo/index.js';
import { buildGoToGoalModel } from '../../shared/policy/index.js';
import { linearModel } from '../../shared/policy/test-models.js';
import { policyVersionFromSha256 } from '../../shared/protocol/index.js';
import { goToGoalModelFile } from '../../test/support/onboard-models.js';
import { parseControlConfig, type TickReport } from '../control/index.js';
import type { VehicleState } from '../link/index.js';
import { PolicySlot } from '../policy/index.js';
import { DEFAULT_SAFETY_CONFIG } from '../safety/index.js';
import { RolloutManager } from './manager.js';
import { splitIntoChunks } from './transfer.js';
import type { PolicyEvent, RolloutHost } from './types.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const keys = generateReleaseKeyPair();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function makeHost(fallback: string) {
  const policy = new PolicySlot();
  const r = await policy.swap(fallback);
  if (!r.ok) throw new Error(r.message);
  cleanups.push(() => policy.clear());
  const vehicle = { armed: false, landedState: 'on-ground' } as VehicleState;
  const listeners: ((r: TickReport) => void)[] = [];
  const host: RolloutHost = {
    policy,
    shield: null,
    link: {
      isUp: false,
      state: () => vehicle,
      mavlink: { send: () => Buffer.alloc(0), on: () => () => {} },
      tracker: { autopilot: null },
    },
    loop: { currentMission: null, getAirspace: () => EMPTY_AIRSPACE, getNeighbours: () => [] },
    controlConfig: parseControlConfig({}),
    safetyConfig: DEFAULT_SAFETY_CONFIG,
    clock: { nowMs: () => Date.now() },
    onTick: (l) => {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
  };
  const tick = (fault: boolean, transition: { from: string; to: string; rules: string[] } | null = null) => {
    const report = {
      policy: fault ? { ok: false } : { ok: true, action: new Float32Array(3) },
      observation: null,
      decision: { policyFault: fault, monitor: { transition } },
    } as unknown as TickReport;
    for (const l of [...listeners]) l(report);
  };
  return { host, vehicle, tick };
}

async function open(dir: string, host: RolloutHost, fallback: string, events: PolicyEvent[]) {
  const m = await RolloutManager.open(host, {
    dir,
    trustedKeys: [trustedKey(keys.publicKeyPem)],
    fallbackPolicyPath: fallback,
    probationFlights: 2,
    faultStreakTicks: 3,
    progressIdleMs: 100,
  });
  m.setEventSink((e) => events.push(e));
  m.start();
  cleanups.push(() => m.stop());
  return m;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aerie-rollout-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const until = async (p: () => boolean, what: string) => {
  const t0 = Date.now();
  while (!p()) {
    if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('RolloutManager', () => {
  it('installs by chunks, activates only on the ground, and reverts a tripped policy after a restart', async () => {
    const dir = tempDir();
    const fallback = goToGoalModelFile();
    const fallbackSha = sha(buildGoToGoalModel());
    const { host, vehicle, tick } = await makeHost(fallback);
    const events: PolicyEvent[] = [];
    const m = await open(dir, host, fallback, events);
    expect(events[0]).toMatchObject({ action: 'loaded', policyVersion: policyVersionFromSha256(fallbackSha) });

    const model = linearModel();
    const version = policyVersionFromSha256(sha(model));
    const bundle = signBundle(packBundle({ policy: model }), keys.privateKeyPem);
    const chunks = splitIntoChunks(bundle, 'tx-1', version, 700);
    // Chunks before the command are kept; the command finds them and asks only for the rest.
    await m.chunk(chunks[0]);
    const ack = await m.command({
      commandId: 'i-1',
      kind: 'install-policy',
      version,
      sha256: sha(bundle),
      totalBytes: bundle.length,
      transferId: 'tx-1',
    });
    expect(ack).toEqual({ result: 'accepted' });
    await until(() => events.some((e) => e.action === 'bundle-progress'), 'progress');
    expect(events.find((e) => e.action === 'bundle-progress')?.missingChunks).toEqual(
      chunks.slice(1).map((c) => c.index),
    );
    for (const c of chunks.slice(1)) await m.chunk(c);
    await m.settled();
    expect(events.at(-1)).toMatchObject({ action: 'installed', policyVersion: version, commandId: 'i-1' });
    expect(m.status()).toMatchObject({ candidate: { version, sha256: sha(bundle) } });

    vehicle.armed = true;
    expect(await m.command({ commandId: 'a-1', kind: 'activate-policy', version })).toMatchObject({
      result: 'rejected',
      reason: 'activation only while landed and disarmed: the vehicle is armed',
    });
    vehicle.armed = false;
    expect(await m.command({ commandId: 'a-2', kind: 'activate-policy', version })).toMatchObject({
      result: 'accepted',
    });
    expect(host.policy.current?.info.sha256).toBe(sha(model));
    expect(m.status()).toMatchObject({
      active: { version },
      previous: { version: policyVersionFromSha256(fallbackSha) },
    });

    // The first flight: a policy-fault streak trips the probation; the process dies before landing.
    tick(false);
    vehicle.armed = true;
    vehicle.landedState = 'in-air';
    tick(false);
    for (let i = 0; i < 3; i++) tick(true);
    await until(() => m.store.current.probation?.tripped !== null, 'trip written');
    expect(m.store.current.probation?.tripped).toBe('3 policy faults in a row');
    await m.stop();

    // Restarted: the runtime flies the active slot; once landed and disarmed, it goes back to the fallback.
    const again = await makeHost(fallback);
    const events2: PolicyEvent[] = [];
    const m2 = await open(dir, again.host, fallback, events2);
    expect(again.host.policy.current?.info.sha256).toBe(sha(model));
    again.vehicle.armed = true;
    again.vehicle.landedState = 'in-air';
    again.tick(false);
    expect(m2.store.current.active).not.toBeNull();
    again.vehicle.armed = false;
    again.vehicle.landedState = 'on-ground';
    again.tick(false);
    await until(() => events2.some((e) => e.action === 'rolled-back'), 'rolled back');
    expect(events2.find((e) => e.action === 'rolled-back')).toMatchObject({
      policyVersion: version,
      reason: expect.stringMatching(/tripped on probation .*3 policy faults in a row/),
    });
    expect(again.host.policy.current?.info.sha256).toBe(fallbackSha);
    expect(m2.store.current).toMatchObject({ active: null, previous: null, probation: null });
  });

  it('ends the probation after its flights without a trip', async () => {
    const dir = tempDir();
    const fallback = goToGoalModelFile();
    const { host, vehicle, tick } = await makeHost(fallback);
    const m = await open(dir, host, fallback, []);
    const model = linearModel();
    const bundle = signBundle(packBundle({ policy: model }), keys.privateKeyPem);
    const version = policyVersionFromSha256(sha(model));
    for (const c of splitIntoChunks(bundle, 'tx', version)) await m.chunk(c);
    await m.command({
      commandId: 'i',
      kind: 'install-policy',
      version,
      sha256: sha(bundle),
      totalBytes: bundle.length,
      transferId: 'tx',
    });
    await m.settled();
    await m.command({ commandId: 'a', kind: 'activate-policy', version });
    for (let flight = 1; flight <= 2; flight++) {
      vehicle.armed = true;
      tick(false);
      tick(false, { from: 'none', to: 'return', rules: ['battery_critical'] }); // not the policy's doing
      vehicle.armed = false;
      tick(false);
      await until(() => (m.store.current.probation?.flights ?? 2) >= flight, `flight ${flight}`);
    }
    expect(m.store.current.probation).toBeNull();
    expect(m.store.current.active).not.toBeNull();
  });

  it('refuses a bundle whose PX4 parameters cannot be read (link down), and changes nothing', async () => {
    const dir = tempDir();
    const fallback = goToGoalModelFile();
    const { host } = await makeHost(fallback);
    const events: PolicyEvent[] = [];
    const m = await open(dir, host, fallback, events);
    const model = linearModel();
    const bundle = signBundle(
      packBundle({ policy: model, px4Params: { COM_OF_LOSS_T: { value: 1 } } }),
      keys.privateKeyPem,
    );
    const version = policyVersionFromSha256(sha(model));
    for (const c of splitIntoChunks(bundle, 'tx', version)) await m.chunk(c);
    await m.command({
      commandId: 'i',
      kind: 'install-policy',
      version,
      sha256: sha(bundle),
      totalBytes: bundle.length,
      transferId: 'tx',
    });
    await m.settled();
    expect(events.at(-1)).toMatchObject({
      action: 'refused',
      code: 'BUNDLE_PX4_PARAMS',
      reason: expect.stringMatching(/link is down/),
      commandId: 'i',
    });
    expect(m.store.current).toMatchObject({ active: null, candidate: null, previous: null });
    expect(await m.command({ commandId: 'r', kind: 'revert-policy' })).toMatchObject({ result: 'rejected' });
  });
});
