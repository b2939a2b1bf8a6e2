import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootLogger } from '../../shared/log/index.js';
import {
  ABSENT_OBSERVATION,
  buildGoToGoalModel,
  buildMlpModel,
  METADATA_KEYS,
  observationIndex,
} from '../../shared/policy/index.js';
import { linearModel, POLICY_METADATA, randomMlpLayers, seededRandom } from '../../shared/policy/test-models.js';
import { PolicySlot, ShieldSlot } from './index.js';

const silent = rootLogger.child({ test: 'slot' });
const goalNorth = Float32Array.from(ABSENT_OBSERVATION, (x, i) => (i === observationIndex('goal_n') ? 0.4 : x));

describe('PolicySlot', () => {
  it('flies nothing before the first model, then the model it was given', async () => {
    const slot = new PolicySlot(silent);
    expect(await slot.runWithDeadline(goalNorth, 1000)).toMatchObject({
      ok: false,
      reason: 'error',
      detail: 'no model loaded',
    });
    const swapped = await slot.swap(buildGoToGoalModel(), { label: 'builtin:go-to-goal' });
    expect(swapped).toMatchObject({ ok: true, previous: null, info: { name: 'go-to-goal' } });
    const r = await slot.runWithDeadline(goalNorth, 1000);
    expect(r.ok && r.action[0]).toBeCloseTo(0.4, 6);
    await slot.clear();
    expect(slot.current).toBeNull();
  });

  it('keeps the previous policy flying when a new one is refused, whatever the reason', async () => {
    const slot = new PolicySlot(silent);
    await slot.swap(buildGoToGoalModel(), { label: 'go-to-goal' });
    const flying = slot.current;
    const refusals: [string, Parameters<PolicySlot['swap']>[0], 'load-failed' | 'contract-mismatch', RegExp][] = [
      ['wrong input name', linearModel({ inputName: 'state' }), 'contract-mismatch', /input is named 'state'/],
      ['wrong size', linearModel({ inputSize: 30 }), 'contract-mismatch', /\[batch, 30\], expected \[batch, 32\]/],
      [
        'wrong contract major',
        linearModel({ metadata: { ...POLICY_METADATA, [METADATA_KEYS.contractVersion]: '3.0.0' } }),
        'contract-mismatch',
        /contract version 3.0.0 has another major version/,
      ],
      ['corrupt bytes', new Uint8Array([8, 7, 0xff, 0xff, 0xff, 1, 2, 3]), 'load-failed', /is not an ONNX model/],
      ['missing file', join('/nonexistent', 'policy.onnx'), 'load-failed', /cannot read model file .*: no such file/],
    ];
    for (const [what, source, reason, message] of refusals) {
      const outcome = await slot.swap(source, { label: what });
      expect(outcome.ok, what).toBe(false);
      if (outcome.ok) continue;
      expect(outcome.reason, what).toBe(reason);
      expect(outcome.code, what).toBe(reason === 'load-failed' ? 'POLICY_LOAD_FAILED' : 'POLICY_CONTRACT_MISMATCH');
      expect(outcome.message, what).toMatch(message);
      expect(outcome.kept?.name, what).toBe('go-to-goal');
      expect(slot.current, what).toBe(flying);
      const r = await slot.runWithDeadline(goalNorth, 1000);
      expect(r.ok && r.action[0], what).toBeCloseTo(0.4, 6);
    }
    await slot.clear();
  });

  it('swaps to a conforming model, applies swaps in call order, and releases the old one', async () => {
    const slot = new PolicySlot(silent);
    await slot.swap(buildGoToGoalModel(), { label: 'first' });
    const first = slot.current!;
    const other = buildMlpModel({
      layers: randomMlpLayers([32, 3], seededRandom(5)),
      inputSize: 32,
      outputActivation: 'tanh',
    });
    const [a, b] = await Promise.all([
      slot.swap(other, { label: 'second' }),
      slot.swap(linearModel(), { label: 'third' }),
    ]);
    expect(a).toMatchObject({ ok: true, previous: { source: 'first' }, info: { source: 'second' } });
    expect(b).toMatchObject({ ok: true, previous: { source: 'second' }, info: { source: 'third' } });
    expect(slot.current?.info.source).toBe('third');
    expect(await first.runWithDeadline(goalNorth, 1000)).toMatchObject({ ok: false, reason: 'error' });
    await slot.clear();
  });
});

describe('ShieldSlot', () => {
  it('holds a shield and refuses a policy offered as one', async () => {
    const slot = new ShieldSlot(silent);
    const shield = buildMlpModel({
      kind: 'shield',
      layers: randomMlpLayers([35, 8, 1], seededRandom(6)),
      inputSize: 35,
      outputActivation: 'none',
    });
    expect(await slot.swap(shield)).toMatchObject({ ok: true });
    expect(await slot.swap(buildGoToGoalModel())).toMatchObject({ ok: false, reason: 'contract-mismatch' });
    const r = await slot.costWithDeadline(ABSENT_OBSERVATION, [0, 0, 0], 1000);
    expect(r.ok && Number.isFinite(r.cost)).toBe(true);
    await slot.clear();
  });
});
