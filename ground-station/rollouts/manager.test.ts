/**
 * The rollout manager against a fake drone side (policy slots that obey the commands as the onboard side does) and a
 * real SQLite store: good candidates go shadow -> canary -> staged -> completed, degraded ones are rolled back with
 * every drone ending on the baseline, a restarted manager resumes, operators promote, pause, resume and abort.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../shared/random/index.js';
import { SqliteStore } from '../storage/index.js';
import { BASELINE_MODEL, DEGRADED_MODEL, type VersionModel } from './analysis/index.js';
import { FakeDroneSide } from './fake-drones/test-support.js';
import { RolloutManager } from './manager.js';
import type { Rollout } from './rollout.js';

const BASE = 'base0001';
const CAND = 'cand0001';
const IDS = Array.from({ length: 10 }, (_, i) => `d${String(i).padStart(2, '0')}`);
const silent = pino({ level: 'silent' });

let dir: string;
let store: SqliteStore;
let nowMs: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aerie-rollout-'));
  store = SqliteStore.open(join(dir, 'station.db'));
  nowMs = 1_700_000_000_000;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function manager(side: FakeDroneSide, updates: unknown[] = [], s = store): RolloutManager {
  return new RolloutManager({
    store: s,
    fleet: side.fleet,
    drones: side.port,
    clock: () => nowMs,
    logger: silent,
    onUpdate: (v) => updates.push(v),
    retryMs: 5_000,
  });
}

/** Rounds of: every drone flies a window, the manager ticks, the drone side answers. */
async function fly(
  m: RolloutManager,
  side: FakeDroneSide,
  rng: Rng,
  models: Record<string, VersionModel>,
  rounds: number,
  until?: () => boolean,
): Promise<void> {
  for (let k = 0; k < rounds; k++) {
    nowMs += 10_000;
    for (const w of side.windows(rng, models, nowMs)) m.onMetrics(w, nowMs);
    await m.tick(nowMs);
    side.deliver(m, nowMs);
    await m.tick(nowMs);
    side.deliver(m, nowMs);
    if (until?.()) return;
  }
}

const view = async (m: RolloutManager, id: string) => (await m.get(id)) as unknown as Rollout;

describe('RolloutManager', () => {
  it('takes a good candidate shadow -> canary -> staged -> completed, with every drone on it and the history stored', async () => {
    const side = new FakeDroneSide(IDS, BASE);
    const updates: unknown[] = [];
    const m = manager(side, updates);
    const started = await m.startRollout({ candidate: CAND, steps: [0.2, 0.5, 1], shadowMinTicks: 2000 });
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    const id = started.value.id;
    expect(started.value).toMatchObject({ state: 'shadow', baseline: BASE, candidate: CAND, share: 0 });
    // Shadow on two drones (20 % of ten): installed, shadow on, still flying the baseline.
    await fly(m, side, createRng(1), { [BASE]: BASELINE_MODEL, [CAND]: BASELINE_MODEL }, 1);
    const shadowed = [...side.drones.values()].filter((d) => d.shadow === CAND);
    expect(shadowed).toHaveLength(2);
    expect(shadowed.every((d) => d.active === BASE)).toBe(true);
    await fly(m, side, createRng(2), { [BASE]: BASELINE_MODEL, [CAND]: BASELINE_MODEL }, 400, () =>
      [...side.drones.values()].every((d) => d.active === CAND),
    );
    const v = await view(m, id);
    expect(v.state).toBe('completed');
    expect(v.history.map((t: { to: string }) => t.to)).toEqual(['shadow', 'canary', 'staged', 'completed']);
    expect(v.history[1].reason).toMatch(/shadow passed/);
    expect(v.history[2].reason).toMatch(/promoted from step 0 \(20 %\)/);
    // The analysis that promoted the last step stays on show.
    expect(v.analysis?.decision).toBe('promote');
    expect([...side.drones.values()].every((d) => d.active === CAND)).toBe(true);
    const log = await store.listRolloutTransitions(id);
    expect(log.map((t) => t.toState)).toEqual(['shadow', 'canary', 'staged', 'completed']);
    expect(updates.length).toBeGreaterThan(3);
    expect((updates.at(-1) as { state: string }).state).toBe('completed');
  });

  it('rolls a degraded candidate back and ends every drone on the baseline, flying ones after they land', async () => {
    const side = new FakeDroneSide(IDS, BASE);
    const m = manager(side);
    const started = await m.startRollout({ candidate: CAND, steps: [0.2, 0.5, 1], shadowMinTicks: 0 });
    if (!started.ok) throw new Error('not started');
    const id = started.value.id;
    expect(started.value.state).toBe('canary');
    const models = { [BASE]: BASELINE_MODEL, [CAND]: DEGRADED_MODEL };
    await fly(m, side, createRng(3), models, 2);
    const canaries = [...side.drones.values()].filter((d) => d.active === CAND);
    expect(canaries).toHaveLength(2);
    // One canary is in the air, another offline, when the verdict comes.
    canaries[0].landed = false;
    canaries[0].armed = true;
    canaries[1].online = false;
    await fly(m, side, createRng(4), models, 100, () => m.list()[0].state === 'rolled-back');
    const v = await view(m, id);
    expect(v.state).toBe('rolled-back');
    expect(v.history.at(-1)?.reason).toMatch(/rolled back at step 0 \(20 %\): .*worse/);
    expect(Object.values(v.drones).every((a) => a === 'baseline')).toBe(true);
    expect(canaries[0].active).toBe(CAND);
    expect(side.sent.some((s) => s.droneId === canaries[0].id && s.kind === 'revert')).toBe(false);
    // Waiting for its switch back: the dispatcher is told to give it no new order.
    expect(m.switchingDrones().has(canaries[0].id)).toBe(true);
    // It lands; the offline one comes back: both are reverted.
    canaries[0].landed = true;
    canaries[0].armed = false;
    canaries[1].online = true;
    await fly(m, side, createRng(5), models, 2);
    expect([...side.drones.values()].every((d) => d.active === BASE)).toBe(true);
    expect(m.switchingDrones().size).toBe(0);
    // Candidate episodes it took (each window holds one episode).
    expect(v.analysis === null || v.analysis.candidate.episodes <= 30).toBe(true);
  });

  it('resumes a rollout after a restart where it was, with its samples, and finishes it', async () => {
    const side = new FakeDroneSide(IDS, BASE);
    const m1 = manager(side);
    const started = await m1.startRollout({
      candidate: CAND,
      steps: [0.3, 1],
      shadowMinTicks: 0,
      minEpisodesPerStep: 40,
    });
    if (!started.ok) throw new Error('not started');
    const id = started.value.id;
    const models = { [BASE]: BASELINE_MODEL, [CAND]: BASELINE_MODEL };
    await fly(m1, side, createRng(6), models, 6);
    const before = await view(m1, id);
    expect(before.state).toBe('canary');
    expect(before.analysis?.candidate.episodes).toBeGreaterThan(0);
    // Windows that arrive after the last tick are stored by stop().
    const late = side.windows(createRng(60), models, nowMs + 1000);
    for (const w of late) m1.onMetrics(w, nowMs + 1000);
    const lateCandidate = late.filter((w) => w.policyVersion === CAND).reduce((n, w) => n + w.episodes, 0);
    await m1.stop();
    // A new station process on the same database.
    const store2 = SqliteStore.open(join(dir, 'station.db'));
    try {
      const m2 = manager(side, [], store2);
      await m2.restore();
      const resumed = await view(m2, id);
      expect(resumed.state).toBe('canary');
      expect(resumed.analysis).toEqual(before.analysis);
      expect(resumed.stepStartedAtMs).toBe(before.stepStartedAtMs);
      expect(resumed.drones).toEqual(before.drones);
      await m2.tick(nowMs + 1000);
      expect((await view(m2, id)).analysis?.candidate.episodes).toBe(
        (before.analysis?.candidate.episodes ?? 0) + lateCandidate,
      );
      await fly(m2, side, createRng(7), models, 300, () => m2.list()[0].state === 'completed');
      const after = await view(m2, id);
      expect(after.state).toBe('completed');
      expect((await store2.listRolloutTransitions(id)).map((t) => t.toState)).toEqual(['canary', 'completed']);
      expect([...side.drones.values()].every((d) => d.active === CAND)).toBe(true);
    } finally {
      await store2.close();
    }
  });

  it('obeys pause, resume, promote and abort; abort puts the fleet back on the baseline', async () => {
    const side = new FakeDroneSide(IDS, BASE);
    const m = manager(side);
    const s = await m.startRollout({ candidate: CAND, shadowMinTicks: 0 });
    if (!s.ok) throw new Error('not started');
    const id = s.value.id;
    expect(s.value.steps).toEqual([0.1, 0.25, 0.5, 1]);
    const models = { [BASE]: BASELINE_MODEL, [CAND]: BASELINE_MODEL };
    await fly(m, side, createRng(8), models, 1);
    expect((await m.act(id, 'pause')).ok).toBe(true);
    expect(await m.act(id, 'pause')).toMatchObject({ ok: false, reason: { code: 'conflict' } });
    // Paused: no automatic promotion, however much data comes.
    await fly(m, side, createRng(9), models, 60);
    expect((await view(m, id)).state).toBe('paused');
    expect((await m.act(id, 'resume')).ok).toBe(true);
    expect((await view(m, id)).state).toBe('canary');
    const promoted = await m.act(id, 'promote', 'alice');
    expect(promoted).toMatchObject({ ok: true, value: { state: 'staged', stepIndex: 1, share: 0.25 } });
    await fly(m, side, createRng(10), models, 1);
    expect([...side.drones.values()].filter((d) => d.active === CAND).length).toBe(3);
    expect((await m.act(id, 'abort')).ok).toBe(true);
    await fly(m, side, createRng(11), models, 1);
    expect([...side.drones.values()].every((d) => d.active === BASE)).toBe(true);
    const v = await view(m, id);
    expect(v.history.map((t: { to: string; reason: string }) => `${t.to}: ${t.reason}`)).toEqual([
      `canary: started: staged ${CAND} against ${BASE}`,
      'paused: paused by operator',
      'canary: resumed by operator',
      'staged: promoted by alice',
      'aborted: aborted by operator',
    ]);
    expect(await m.act(id, 'resume')).toMatchObject({ ok: false, reason: { code: 'conflict' } });
    expect(await m.act('ro_none', 'pause')).toMatchObject({ ok: false, reason: { code: 'not-found' } });
  });

  it('keeps drones that refuse the bundle or do not support rollouts on the baseline and picks others', async () => {
    const side = new FakeDroneSide(IDS.slice(0, 4), BASE);
    side.drones.get('d00')!.refuseBundle = 'BUNDLE_SIGNATURE';
    side.drones.get('d01')!.refuseBundle = 'BUNDLE_SIGNATURE';
    side.drones.get('d02')!.unsupported = true;
    const m = manager(side);
    const s = await m.startRollout({ candidate: CAND, steps: [0.5, 1], shadowMinTicks: 0 });
    if (!s.ok) throw new Error('not started');
    await fly(m, side, createRng(12), { [BASE]: BASELINE_MODEL, [CAND]: BASELINE_MODEL }, 4);
    const v = await view(m, s.value.id);
    const refusedNow = Object.keys(v.refused);
    expect(refusedNow.length).toBeGreaterThan(0);
    for (const d of refusedNow) expect(v.drones[d]).toBe('baseline');
    for (const id of ['d00', 'd01']) if (v.refused[id]) expect(v.refused[id]).toMatch(/^BUNDLE_SIGNATURE/);
    if (v.refused.d02) expect(v.refused.d02).toMatch(/unsupported/);
    // Whoever can fly the candidate does: the share is met by the one drone that can.
    expect(side.drones.get('d03')?.active).toBe(CAND);
  });

  it('validates a start: bad plans, a second live rollout, an unknown candidate, a fleet already on it', async () => {
    const side = new FakeDroneSide(IDS.slice(0, 3), BASE);
    const m = manager(side);
    expect(await m.startRollout({ candidate: CAND, steps: [0.5, 0.2, 1] })).toMatchObject({
      ok: false,
      reason: { code: 'invalid-request' },
    });
    expect(await m.startRollout({ candidate: CAND, steps: [0.5] })).toMatchObject({
      ok: false,
      reason: { code: 'invalid-request', message: expect.stringMatching(/ends at 1/) },
    });
    expect(await m.startRollout({ candidate: BASE })).toMatchObject({ ok: false, reason: { code: 'invalid-request' } });
    expect(await m.startRollout({ candidate: CAND, bogus: 1 })).toMatchObject({ ok: false });
    expect((await m.startRollout({ candidate: CAND })).ok).toBe(true);
    expect(await m.startRollout({ candidate: 'other' })).toMatchObject({ ok: false, reason: { code: 'conflict' } });

    const withRegistry = new RolloutManager({
      store,
      fleet: side.fleet,
      drones: side.port,
      policies: { lookup: async (v) => (v === 'known' ? { version: v, sha256: 'a'.repeat(64) } : null) },
      clock: () => nowMs,
      logger: silent,
    });
    expect(await withRegistry.startRollout({ candidate: 'unknown' })).toMatchObject({
      ok: false,
      reason: { code: 'not-found' },
    });
    const ok = await withRegistry.startRollout({ candidate: 'known' });
    expect(ok).toMatchObject({ ok: true, value: { candidateSha256: 'a'.repeat(64) } });
  });

  it('A/B mode holds its share, reports effect sizes and promotes only by hand', async () => {
    const side = new FakeDroneSide(IDS, BASE);
    const m = manager(side);
    const s = await m.startRollout({ candidate: CAND, mode: 'ab', shadowMinTicks: 0 });
    if (!s.ok) throw new Error('not started');
    expect(s.value).toMatchObject({ steps: [0.5], share: 0.5 });
    const better = { ...BASELINE_MODEL, successRate: 0.99, interventionsPerTick: 0.01 };
    await fly(m, side, createRng(13), { [BASE]: BASELINE_MODEL, [CAND]: better }, 60);
    const v = await view(m, s.value.id);
    expect(v.state).toBe('canary');
    expect(v.analysis?.decision).toBe('promote');
    const eff = v.analysis?.effects.find((e) => e.metric === 'interventions_per_tick');
    expect(eff?.ci95[1]).toBeLessThan(0);
    expect([...side.drones.values()].filter((d) => d.active === CAND)).toHaveLength(5);
    await m.act(s.value.id, 'promote');
    await fly(m, side, createRng(14), { [BASE]: BASELINE_MODEL, [CAND]: better }, 1);
    expect([...side.drones.values()].every((d) => d.active === CAND)).toBe(true);
  });

  it('asks a drone that refused a switch for now again within seconds, not after the full retry', async () => {
    const side = new FakeDroneSide(IDS.slice(0, 2), BASE);
    const m = manager(side);
    const s = await m.startRollout({ candidate: CAND, steps: [0.5, 1], shadowMinTicks: 0 });
    if (!s.ok) throw new Error('not started');
    const canary = Object.keys(s.value.drones as Record<string, string>).find(
      (id) => (s.value.drones as Record<string, string>)[id] === 'candidate',
    ) as string;
    const drone = side.drones.get(canary);
    if (!drone) throw new Error('no canary');
    drone.refuseActivations = 1;
    const activations = () => side.sent.filter((x) => x.droneId === canary && x.kind === 'activate').length;
    await m.tick(nowMs);
    side.deliver(m, nowMs);
    await m.tick(nowMs);
    side.deliver(m, nowMs);
    expect(activations()).toBe(1);
    expect(drone.active).toBe(BASE);
    await m.tick(nowMs + 1000);
    expect(activations()).toBe(1);
    await m.tick(nowMs + 2500);
    side.deliver(m, nowMs + 2500);
    expect(activations()).toBe(2);
    expect(drone.active).toBe(CAND);
  });

  it('rolls the fleet back when a canary drone reverts the candidate by itself', async () => {
    const side = new FakeDroneSide(IDS, BASE);
    const m = manager(side);
    const s = await m.startRollout({ candidate: CAND, shadowMinTicks: 0, steps: [0.2, 1] });
    if (!s.ok) throw new Error('not started');
    await fly(m, side, createRng(15), { [BASE]: BASELINE_MODEL, [CAND]: BASELINE_MODEL }, 1);
    const canary = [...side.drones.values()].find((d) => d.active === CAND);
    if (!canary) throw new Error('no canary');
    canary.active = BASE;
    m.onPolicyEvent({ id: canary.id, action: 'rolled-back', policyVersion: CAND, reason: 'monitor tripped' }, nowMs);
    await m.idle();
    const v = await view(m, s.value.id);
    expect(v.state).toBe('rolled-back');
    expect(v.history.at(-1)?.reason).toMatch(/reverted the candidate itself: monitor tripped/);
  });
});
