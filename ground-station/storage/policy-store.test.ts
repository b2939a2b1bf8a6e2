/**
 * The policy registry's rows, bundles and transition log, on every backend (SQLite always, PostgreSQL when
 * DATABASE_URL is set).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyRecord } from './policy-store.js';
import type { StationStore } from './store.js';
import { type OpenedStore, storeBackends } from './test-support.js';

const policy = (version: string, createdAtMs: number, extra: Partial<PolicyRecord> = {}): PolicyRecord => ({
  version,
  sha256: 'a'.repeat(64),
  policySha256: 'b'.repeat(64),
  state: 'candidate',
  stateReason: 'published by alice',
  label: 'nightly ✓',
  manifest: { format: 1, version, parts: [{ name: 'policy.onnx', bytes: 10 }] },
  lineage: { configHash: 'sha256:cafe', seed: 3 },
  evalReport: { summaryFrom: 'sitl', successRate: 0.97 },
  totalBytes: 4096,
  createdAtMs,
  updatedAtMs: createdAtMs,
  ...extra,
});

for (const backend of storeBackends()) {
  describe(`policy registry on ${backend.name}`, () => {
    let opened: OpenedStore;
    let store: StationStore;
    beforeEach(async () => {
      opened = await backend.open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    it('stores a version with its bundle bytes, refuses the same version twice, and reads both after a reopen', async () => {
      const bundle = randomBytes(200_000);
      const p = policy('sha256:0000000000000001', 1000);
      expect(await store.insertPolicy(p, bundle)).toBe(true);
      expect(await store.insertPolicy({ ...p, label: 'again' }, randomBytes(10))).toBe(false);
      const again = await opened.reopen();
      expect(await again.getPolicy(p.version)).toEqual(p);
      expect((await again.getPolicyBundle(p.version))?.equals(bundle)).toBe(true);
      expect(await again.getPolicy('sha256:ffffffffffffffff')).toBeNull();
      expect(await again.getPolicyBundle('sha256:ffffffffffffffff')).toBeNull();
      const noEval = policy('sha256:0000000000000002', 2000, { evalReport: null, label: null });
      await again.insertPolicy(noEval, bundle.subarray(0, 5));
      expect(await again.getPolicy(noEval.version)).toEqual(noEval);
    });

    it('lists newest first, filtered by state, with a limit', async () => {
      await store.insertPolicy(policy('v1', 1000, { state: 'retired' }), Buffer.from('x'));
      await store.insertPolicy(policy('v2', 2000, { state: 'active' }), Buffer.from('x'));
      await store.insertPolicy(policy('v3', 3000), Buffer.from('x'));
      expect((await store.listPolicies()).map((p) => p.version)).toEqual(['v3', 'v2', 'v1']);
      expect((await store.listPolicies({ states: ['active', 'candidate'] })).map((p) => p.version)).toEqual([
        'v3',
        'v2',
      ]);
      expect((await store.listPolicies({ limit: 1 })).map((p) => p.version)).toEqual(['v3']);
    });

    it('moves a state only from the expected one, and logs each transition with its reason', async () => {
      await store.insertPolicy(policy('v1', 1000), Buffer.from('x'));
      expect(await store.movePolicy('v1', 'candidate', 'shadow', 2000, 'rollout ro_1 started')).toBe(true);
      // Someone else already moved it: the second mover loses and nothing is logged.
      expect(await store.movePolicy('v1', 'candidate', 'canary', 2500, 'stale')).toBe(false);
      expect(await store.movePolicy('nope', 'candidate', 'canary', 2500, 'unknown')).toBe(false);
      expect(await store.movePolicy('v1', 'shadow', 'canary', 3000, 'shadow passed')).toBe(true);
      const p = await store.getPolicy('v1');
      expect(p).toMatchObject({ state: 'canary', stateReason: 'shadow passed', updatedAtMs: 3000, createdAtMs: 1000 });
      expect(await store.listPolicyTransitions('v1')).toEqual([
        { version: 'v1', atMs: 1000, fromState: null, toState: 'candidate', reason: 'published by alice' },
        { version: 'v1', atMs: 2000, fromState: 'candidate', toState: 'shadow', reason: 'rollout ro_1 started' },
        { version: 'v1', atMs: 3000, fromState: 'shadow', toState: 'canary', reason: 'shadow passed' },
      ]);
    });
  });
}
