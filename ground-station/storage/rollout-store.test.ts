/**
 * Rollout rows and their transition log, on every backend (SQLite always, PostgreSQL when DATABASE_URL is set).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RolloutRecord } from './rollout-store.js';
import type { StationStore } from './store.js';
import { type OpenedStore, storeBackends } from './test-support.js';

const rollout = (id: string, createdAtMs: number, extra: Partial<RolloutRecord> = {}): RolloutRecord => ({
  id,
  candidate: 'cand1',
  baseline: 'base1',
  state: 'canary',
  document: { id, drones: { d1: 'candidate', d2: 'baseline' }, samples: { n: 3, sum: 1.5 }, note: 'é ✓' },
  createdAtMs,
  updatedAtMs: createdAtMs,
  ...extra,
});

for (const backend of storeBackends()) {
  describe(`rollouts on ${backend.name}`, () => {
    let opened: OpenedStore;
    let store: StationStore;
    beforeEach(async () => {
      opened = await backend.open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    it('saves a rollout, replaces it on save, and reads it back after a reopen', async () => {
      const a = rollout('ro_a', 1000);
      await store.saveRollout(a);
      expect(await store.getRollout('ro_a')).toEqual(a);
      const moved = rollout('ro_a', 1000, { state: 'staged', updatedAtMs: 5000, document: { id: 'ro_a', step: 2 } });
      await store.saveRollout(moved);
      const again = await opened.reopen();
      expect(await again.getRollout('ro_a')).toEqual(moved);
      expect(await again.getRollout('nope')).toBeNull();
    });

    it('lists newest first, filtered by state, with a limit', async () => {
      await store.saveRollout(rollout('ro_1', 1000, { state: 'completed' }));
      await store.saveRollout(rollout('ro_2', 2000, { state: 'canary' }));
      await store.saveRollout(rollout('ro_3', 3000, { state: 'paused' }));
      expect((await store.listRollouts()).map((r) => r.id)).toEqual(['ro_3', 'ro_2', 'ro_1']);
      expect((await store.listRollouts({ states: ['canary', 'paused'] })).map((r) => r.id)).toEqual(['ro_3', 'ro_2']);
      expect((await store.listRollouts({ limit: 1 })).map((r) => r.id)).toEqual(['ro_3']);
    });

    it('keeps the transition log in order per rollout', async () => {
      await store.saveRollout(rollout('ro_a', 1000));
      await store.saveRollout(rollout('ro_b', 1000));
      await store.appendRolloutTransitions([
        { rolloutId: 'ro_a', atMs: 1000, fromState: null, toState: 'shadow', reason: 'started' },
        { rolloutId: 'ro_a', atMs: 2000, fromState: 'shadow', toState: 'canary', reason: 'shadow passed' },
      ]);
      await store.appendRolloutTransitions([
        { rolloutId: 'ro_b', atMs: 1500, fromState: null, toState: 'canary', reason: 'started' },
      ]);
      await store.appendRolloutTransitions([
        { rolloutId: 'ro_a', atMs: 3000, fromState: 'canary', toState: 'rolled-back', reason: 'worse' },
      ]);
      const log = await store.listRolloutTransitions('ro_a');
      expect(log.map((t) => [t.fromState, t.toState])).toEqual([
        [null, 'shadow'],
        ['shadow', 'canary'],
        ['canary', 'rolled-back'],
      ]);
      expect(log[2]).toEqual({
        rolloutId: 'ro_a',
        atMs: 3000,
        fromState: 'canary',
        toState: 'rolled-back',
        reason: 'worse',
      });
      expect(await store.listRolloutTransitions('none')).toEqual([]);
    });
  });
}
