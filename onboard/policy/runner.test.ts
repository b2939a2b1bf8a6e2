import type * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ABSENT_OBSERVATION, observationIndex, POLICY_INTERFACE } from '../../shared/policy/index.js';
import { nanWhenFlyingSouthPolicyModel } from '../../shared/policy/test-models.js';
import { loadGoToGoalPolicy, loadPolicy, type MicrosecondClock, type ModelInfo, PolicyRunner } from './index.js';

const observation = (edit: (obs: Float32Array) => void = () => {}): Float32Array => {
  const obs = Float32Array.from(ABSENT_OBSERVATION);
  edit(obs);
  return obs;
};

/** A clock that moves `stepUs` every time it is read, as if everything between two reads took that long. */
const steppingClock = (stepUs: number): MicrosecondClock => {
  let t = 0;
  return { nowUs: () => (t += stepUs) };
};

const fakeInfo: ModelInfo = {
  ...POLICY_INTERFACE,
  source: 'fake',
  sha256: '0'.repeat(64),
  sizeBytes: 0,
  contractVersion: '1.0.0',
  name: null,
  obsMean: null,
  obsStd: null,
  metadata: {},
};

/** A session at the edge whose run() the test controls. */
function fakeSession(run: () => Promise<void>): ort.InferenceSession {
  return { run, release: async () => {} } as unknown as ort.InferenceSession;
}

describe('PolicyRunner.runWithDeadline', () => {
  it('returns the action and its latency, and counts the run', async () => {
    const policy = await loadGoToGoalPolicy();
    const r = await policy.runWithDeadline(
      observation((o) => (o[observationIndex('goal_n')] = 0.5)),
      1000,
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Array.from(r.action)).toEqual([0.5, 0, 0]);
      expect(r.latencyUs).toBeGreaterThan(0);
    }
    expect(policy.counters).toMatchObject({ runs: 1, ok: 1, deadline: 0, nonFinite: 0, error: 0 });
    await policy.release();
  });

  it('reports an answer later than its deadline as a deadline fault', async () => {
    // The model's clock says 5 s passed; the real timer (2 s) cannot fire first however loaded the machine is.
    const policy = await loadGoToGoalPolicy({ clock: steppingClock(5_000_000) });
    const r = await policy.runWithDeadline(observation(), 2000);
    expect(r).toMatchObject({ ok: false, reason: 'deadline', detail: 'answered after 5000000 us, deadline 2000 ms' });
    // With a deadline of 0 no real inference can be on time, whatever the machine.
    const real = await loadGoToGoalPolicy();
    expect(await real.runWithDeadline(observation(), 0)).toMatchObject({ ok: false, reason: 'deadline' });
    expect(real.counters.deadline).toBe(1);
    await Promise.all([policy.release(), real.release()]);
  });

  it('stops waiting at the deadline, refuses to overlap a late inference, and recovers once it ends', async () => {
    let finish: () => void = () => {};
    let calls = 0;
    const runner = new PolicyRunner(
      fakeSession(() => {
        calls++;
        return calls === 1 ? new Promise<void>((resolve) => (finish = resolve)) : Promise.resolve();
      }),
      fakeInfo,
    );
    expect(await runner.runWithDeadline(observation(), 20)).toMatchObject({
      ok: false,
      reason: 'deadline',
      detail: 'no answer within 20 ms',
    });
    expect(runner.busy).toBe(true);
    expect(await runner.runWithDeadline(observation(), 20)).toMatchObject({
      reason: 'deadline',
      detail: 'the previous inference is still running',
    });
    expect(calls).toBe(1);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runner.busy).toBe(false);
    expect(await runner.runWithDeadline(observation(), 20)).toMatchObject({ ok: true });
  });

  it('re-arms its one deadline timer on every run: a firing with no run waiting is ignored, a later hang still expires', async () => {
    let hang: (() => void) | null = null;
    const runner = new PolicyRunner(
      fakeSession(() => (hang === null ? Promise.resolve() : new Promise<void>((resolve) => (hang = resolve)))),
      fakeInfo,
    );
    expect(await runner.runWithDeadline(observation(), 5)).toMatchObject({ ok: true });
    // The timer armed for that run fires now, with nothing waiting.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await runner.runWithDeadline(observation(), 5)).toMatchObject({ ok: true });
    expect(runner.counters).toMatchObject({ runs: 2, ok: 2, deadline: 0 });
    hang = () => {};
    expect(await runner.runWithDeadline(observation(), 5)).toMatchObject({
      ok: false,
      reason: 'deadline',
      detail: 'no answer within 5 ms',
    });
    // Another deadline value for the same runner (a timer of its own) also expires.
    (hang as () => void)();
    await new Promise((resolve) => setImmediate(resolve));
    hang = () => {};
    expect(await runner.runWithDeadline(observation(), 8)).toMatchObject({ detail: 'no answer within 8 ms' });
    (hang as () => void)();
    await runner.release();
  });

  it('reports an inference that throws as an error fault', async () => {
    const runner = new PolicyRunner(
      fakeSession(() => Promise.reject(new Error('kernel exploded'))),
      fakeInfo,
    );
    expect(await runner.runWithDeadline(observation(), 50)).toMatchObject({
      ok: false,
      reason: 'error',
      detail: 'inference failed: kernel exploded',
    });
    expect(runner.counters.error).toBe(1);
  });

  it('reports NaN in the action as a non-finite fault, and the same model is fine otherwise', async () => {
    const policy = await loadPolicy(nanWhenFlyingSouthPolicyModel(), { label: 'nan-policy' });
    const north = await policy.runWithDeadline(
      observation((o) => (o[observationIndex('velocity_n')] = 0.25)),
      1000,
    );
    expect(north.ok && Array.from(north.action)).toEqual([0.5, 0.5, 0.5]);
    const south = await policy.runWithDeadline(
      observation((o) => (o[observationIndex('velocity_n')] = -0.25)),
      1000,
    );
    expect(south).toMatchObject({ ok: false, reason: 'non-finite', detail: 'action[0] is NaN' });
    expect(policy.counters).toMatchObject({ ok: 1, nonFinite: 1 });
    await policy.release();
  });

  it('refuses a non-finite or wrongly sized observation before running, and a released runner', async () => {
    const policy = await loadGoToGoalPolicy();
    expect(
      await policy.runWithDeadline(
        observation((o) => (o[observationIndex('velocity_n')] = Number.NaN)),
        1000,
      ),
    ).toMatchObject({ ok: false, reason: 'non-finite', detail: 'observation[4] (velocity_n) is NaN' });
    expect(await policy.runWithDeadline(new Float32Array(31), 1000)).toMatchObject({
      ok: false,
      reason: 'error',
      detail: 'input has 31 values, expected 32',
    });
    await expect(policy.run(new Float32Array(33))).rejects.toThrow(/33 values, expected 32/);
    await policy.release();
    expect(await policy.runWithDeadline(observation(), 1000)).toMatchObject({ ok: false, reason: 'error' });
  });

  it('returns a fresh action each time (the runner reuses its tensors, not the caller results)', async () => {
    const policy = await loadGoToGoalPolicy();
    const a = await policy.run(observation((o) => (o[observationIndex('goal_e')] = 0.3)));
    const b = await policy.run(observation((o) => (o[observationIndex('goal_e')] = -0.7)));
    expect(a).not.toBe(b);
    expect(a[1]).toBeCloseTo(0.3, 6);
    expect(b[1]).toBeCloseTo(-0.7, 6);
    await policy.release();
  });
});
