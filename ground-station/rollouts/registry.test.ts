/**
 * The policy registry on every storage backend: what a publish needs (a trusted signature, intact parts, a passing
 * SITL evaluation of that very model), the states and their log, and the seeded baseline.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicyPath } from '../../onboard/policy/index.js';
import { generateReleaseKeyPair, parsePrivateKey, signBundle, trustedKey } from '../../shared/bundle/index.js';
import { parseConfig } from '../../shared/config/index.js';
import { isAerieError } from '../../shared/errors.js';
import type { StationStore } from '../storage/index.js';
import { type OpenedStore, storeBackends } from '../storage/test-support.js';
import { packFromFiles } from './policy-pack.js';
import { PolicyRegistry } from './registry.js';
import { EVAL_GATE_SCHEMA, summariseEvalReport } from './registry-gate.js';
import { seedDefaultBaseline, stationReleaseKeys } from './registry-seed.js';
import { type EvalFigures, evalReportJson, PASSING, policyFolder } from './test-support.js';

const release = generateReleaseKeyPair();
const key = parsePrivateKey(release.privateKeyPem);
const GATE = parseConfig(EVAL_GATE_SCHEMA, {});

async function signedBundle(figures: EvalFigures | null = PASSING, extra: { filter?: object } = {}) {
  const folder = policyFolder(figures);
  let filterConfigPath: string | undefined;
  if (extra.filter) {
    filterConfigPath = join(folder.dir, 'filter.json');
    writeFileSync(filterConfigPath, JSON.stringify(extra.filter));
  }
  const packed = await packFromFiles({
    policyPath: folder.policyPath,
    shieldPath: folder.shieldPath,
    filterConfigPath,
    ...(figures ? { evalReportPath: join(folder.dir, 'eval-report.json') } : {}),
  });
  return { folder, unsigned: packed.bytes, bytes: signBundle(packed.bytes, key) };
}

describe('evaluation reports', () => {
  it("reads aerie eval --json output and a trained policy's eval-report.json alike", () => {
    const report = evalReportJson('d'.repeat(64), PASSING);
    const a = summariseEvalReport(report);
    const b = summariseEvalReport({ configHash: 'sha256:x', stoppedBy: 'iterations', evaluation: report });
    expect(a).toEqual(b);
    expect(a.ok && a.value).toMatchObject({
      policySha256: 'd'.repeat(64),
      summaryFrom: 'sitl',
      sitl: { deliveries: 20, successRate: 0.97, interventionShare: 0.03, breachesFilterOn: 0 },
      vectorised: { episodes: 200, successRate: 0.9 },
      breachesFilterOff: null,
    });
    expect(summariseEvalReport({ successRate: 1 })).toMatchObject({ ok: false });
  });

  it('reads the committed default policy report', () => {
    const json = JSON.parse(readFileSync(join(defaultPolicyPath(), '..', 'eval-report.json'), 'utf8'));
    const r = summariseEvalReport(json);
    expect(r.ok).toBe(true);
  });
});

for (const backend of storeBackends()) {
  describe(`policy registry on ${backend.name}`, () => {
    let opened: OpenedStore;
    let store: StationStore;
    let registry: PolicyRegistry;
    beforeEach(async () => {
      opened = await backend.open();
      store = opened.store;
      registry = new PolicyRegistry({ store, trustedKeys: [trustedKey(release.publicKeyPem)], gate: GATE });
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    it('registers a signed, passing candidate with its lineage and evaluation, once', async () => {
      const { folder, bytes } = await signedBundle();
      const r = await registry.publish(bytes, 1000, 'alice');
      if (!r.ok) throw new Error(r.reason);
      expect(r.created).toBe(true);
      expect(r.policy).toMatchObject({
        version: `sha256:${folder.policySha256.slice(0, 16)}`,
        state: 'candidate',
        stateReason: 'published by alice',
        lineage: { seed: 11, configHash: expect.stringMatching(/^sha256:c+/) },
        evalReport: { summaryFrom: 'sitl', sitl: { successRate: 0.97 } },
        keyId: release.keyId,
        createdAtMs: 1000,
      });
      const again = await registry.publish(bytes, 2000);
      expect(again).toMatchObject({ ok: true, created: false, policy: { createdAtMs: 1000 } });
      const stored = await registry.bundle(r.policy.version);
      expect(stored?.bytes.equals(bytes)).toBe(true);
      const detail = await registry.get(r.policy.version);
      expect(detail?.history).toEqual([{ atMs: 1000, from: null, to: 'candidate', reason: 'published by alice' }]);
      expect((await registry.list()).map((p) => p.version)).toEqual([r.policy.version]);
    });

    it('refuses another bundle of the same policy version with 409', async () => {
      const { folder, bytes } = await signedBundle();
      expect((await registry.publish(bytes, 1000)).ok).toBe(true);
      const filter = join(folder.dir, 'filter.json');
      writeFileSync(filter, JSON.stringify({ maxHorizontalSpeedMS: 6 }));
      const other = await packFromFiles({
        policyPath: folder.policyPath,
        filterConfigPath: filter,
        evalReportPath: join(folder.dir, 'eval-report.json'),
      });
      const r = await registry.publish(signBundle(other.bytes, key), 2000);
      expect(r).toMatchObject({ ok: false, status: 409, code: 'POLICY_TRANSITION_INVALID' });
    });

    it('refuses unsigned, foreign-key and damaged bundles with their codes, and stores nothing', async () => {
      const { unsigned, bytes } = await signedBundle();
      expect(await registry.publish(unsigned, 1)).toMatchObject({ ok: false, code: 'BUNDLE_UNSIGNED', status: 422 });
      const other = parsePrivateKey(generateReleaseKeyPair().privateKeyPem);
      expect(await registry.publish(signBundle(unsigned, other), 1)).toMatchObject({ code: 'BUNDLE_UNTRUSTED_KEY' });
      const damaged = Buffer.from(bytes);
      damaged[damaged.length - 3] ^= 0x10;
      expect(await registry.publish(damaged, 1)).toMatchObject({ code: 'BUNDLE_HASH' });
      expect(await registry.list()).toEqual([]);
    });

    it('the evaluation gate: no report, a failing SITL report, or no SITL section is refused with the figures', async () => {
      const none = await registry.publish((await signedBundle(null)).bytes, 1);
      expect(none).toMatchObject({ ok: false, code: 'POLICY_EVAL_GATE' });
      expect(!none.ok && none.reason).toMatch(/no evaluation report/);

      const failing = await registry.publish(
        (await signedBundle({ successRate: 0.9, interventionShare: 0.08, breachesFilterOn: 1 })).bytes,
        1,
      );
      expect(!failing.ok && failing.reason).toMatch(
        /success 90\.0 % < 95\.0 %; interventions 8\.0 % of ticks > 5\.0 %; 1 deliveries with a breach/,
      );

      const { folder } = await signedBundle(null);
      const vecOnly = join(folder.dir, 'vec-eval.json');
      writeFileSync(vecOnly, JSON.stringify(evalReportJson(folder.policySha256, PASSING, false)));
      const packed = await packFromFiles({ policyPath: folder.policyPath, evalReportPath: vecOnly });
      const r = await registry.publish(signBundle(packed.bytes, key), 1);
      expect(!r.ok && r.reason).toMatch(/no SITL section/);

      const few = await registry.publish((await signedBundle({ ...PASSING, deliveries: 3 })).bytes, 1);
      expect(!few.ok && few.reason).toMatch(/3 SITL deliveries < 10/);
      expect(await registry.list()).toEqual([]);

      // The thresholds are configuration: a looser gate lets the 90 % candidate in.
      const loose = new PolicyRegistry({
        store,
        trustedKeys: [trustedKey(release.publicKeyPem)],
        gate: parseConfig(EVAL_GATE_SCHEMA, {
          gateMinSuccessRate: 0.85,
          gateMaxInterventionShare: 0.1,
          gateMaxBreaches: 1,
        }),
      });
      const ok = await loose.publish(
        (await signedBundle({ successRate: 0.9, interventionShare: 0.08, breachesFilterOn: 1 })).bytes,
        1,
      );
      expect(ok.ok).toBe(true);
    });

    it('moves states along the allowed transitions with reasons, and refuses the others', async () => {
      const r = await registry.publish((await signedBundle()).bytes, 1000);
      if (!r.ok) throw new Error(r.reason);
      const v = r.policy.version;
      await registry.transition(v, 'shadow', 'rollout ro_1: shadow', 2000);
      await registry.transition(v, 'canary', 'shadow divergence within bounds', 3000);
      const active = await registry.transition(v, 'active', 'promoted at 100 %', 4000);
      expect(active).toMatchObject({ state: 'active', stateReason: 'promoted at 100 %', updatedAtMs: 4000 });
      expect((await registry.active()).map((p) => p.version)).toEqual([v]);
      let err: unknown;
      try {
        await registry.transition(v, 'canary', 'no', 5000);
      } catch (e) {
        err = e;
      }
      expect(isAerieError(err, 'POLICY_TRANSITION_INVALID') && (err as Error).message).toMatch(
        /active; it cannot become canary/,
      );
      try {
        await registry.transition('sha256:ffffffffffffffff', 'active', 'x', 1);
      } catch (e) {
        err = e;
      }
      expect(isAerieError(err, 'POLICY_UNKNOWN')).toBe(true);
      expect((await registry.get(v))?.history.map((h) => h.to)).toEqual(['candidate', 'shadow', 'canary', 'active']);
    });

    it('seeds the default policy as the active baseline once, with the release key made on first start', async () => {
      const keys = stationReleaseKeys(join(policyFolder().dir, 'keys', 'release.key'), { create: true });
      const seeding = new PolicyRegistry({ store, trustedKeys: keys.trustedKeys, gate: GATE });
      const first = await seedDefaultBaseline(seeding, { privateKey: keys.privateKey, nowMs: 1000 });
      if (!first.ok) throw new Error(first.reason);
      expect(first.policy).toMatchObject({ state: 'active', label: 'default', keyId: keys.keyId });
      expect((first.policy.parts as { name: string }[]).map((p) => p.name)).toEqual(['policy.onnx', 'shield.onnx']);
      const policyBytes = readFileSync(defaultPolicyPath());
      const { createHash } = await import('node:crypto');
      expect(first.policy.policySha256).toBe(createHash('sha256').update(policyBytes).digest('hex'));
      const second = await seedDefaultBaseline(seeding, { privateKey: keys.privateKey, nowMs: 2000 });
      expect(second).toMatchObject({ ok: true, created: false });

      // A folder whose eval-report.json evaluated another model still seeds, without the report.
      const folder = policyFolder(null);
      writeFileSync(join(folder.dir, 'eval-report.json'), JSON.stringify(evalReportJson('e'.repeat(64), PASSING)));
      const r = await seedDefaultBaseline(seeding, {
        privateKey: keys.privateKey,
        nowMs: 3000,
        policyPath: folder.policyPath,
        shieldPath: null,
      });
      expect(r).toMatchObject({ ok: true, created: true, policy: { state: 'active', evalReport: null } });
    });
  });
}
