/**
 * Shadow-mode and bundle-verification figures (onboard/rollout), with the shipped default policy as the candidate:
 *
 *   shadow.listener_us_p99       what the tick listener does on the loop's turn (copy the observation and the active
 *                                action, build the tick, schedule the inference): the only shadow cost a tick pays
 *   shadow.tick_us_p50 / _p99    one whole shadow tick after the setpoint went out: candidate inference, action ->
 *                                velocity, divergence, side sanity/box/barrier filter
 *   shadow.tick_ratio_vs_inference  shadow tick p50 over bare runner inference p50 on the same model, interleaved
 *   shadow.verify_ms             verifyBundle of a signed bundle of that policy (signature, hashes, contract through
 *                                the onboard loader and its probe), best of 5
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defaultPolicyPath, loadPolicy } from '../../onboard/policy/index.js';
import { ShadowRunner, type ShadowTick, verifyBundle } from '../../onboard/rollout/index.js';
import { DEFAULT_SAFETY_CONFIG } from '../../onboard/safety/index.js';
import { generateReleaseKeyPair, packBundle, signBundle, trustedKey } from '../../shared/bundle/index.js';
import { EMPTY_AIRSPACE } from '../../shared/geo/index.js';
import { ABSENT_OBSERVATION, OBSERVATION_SIZE, observationIndex } from '../../shared/policy/index.js';
import { type Benchmark, bestOf, type Figure, percentile } from './harness.js';

const TICKS = 3000;
const limits = { maxHorizontalMS: 12, maxUpMS: 3, maxDownMS: 1.5 };

export const shadowBenchmark: Benchmark = {
  name: 'shadow',
  figures: [
    'shadow.listener_us_p99',
    'shadow.tick_us_p50',
    'shadow.tick_us_p99',
    'shadow.tick_ratio_vs_inference',
    'shadow.verify_ms',
  ],
  async run(): Promise<Figure[]> {
    const model = readFileSync(defaultPolicyPath());
    const runner = await loadPolicy(model, { label: 'shadow-bench' });
    const bare = await loadPolicy(model, { label: 'bare' });
    const shadow = new ShadowRunner({ runner, version: 'v', limits, safety: DEFAULT_SAFETY_CONFIG, deadlineMs: 50 });
    const observation = new Float32Array(OBSERVATION_SIZE);
    observation.set(ABSENT_OBSERVATION);
    const active = new Float32Array([0.3, -0.2, 0]);
    const listener: number[] = [];
    const whole: number[] = [];
    const inference: number[] = [];
    const us = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1000;
    for (let i = 0; i < TICKS; i++) {
      // A drone cruising north-east of its goal, so the policy's answer changes from tick to tick.
      observation[observationIndex('goal_n')] = Math.sin(i / 50);
      observation[observationIndex('goal_e')] = Math.cos(i / 50);
      const t0 = process.hrtime.bigint();
      const tick: ShadowTick = {
        timeUs: i * 20_000,
        observation: Float32Array.from(observation),
        activeAction: Float32Array.from(active),
        vehicle: {
          positionNedM: { n: 10, e: 5, d: -20 },
          velocityNedMS: { n: 3, e: 1, d: 0 },
          altitudeAboveHomeM: 20,
          armed: true,
          landed: false,
          batteryRemaining01: 0.8,
          batteryVoltageV: 16,
          gpsFixOk: true,
          positionAgeMs: 10,
          statusAgeMs: 100,
        },
        airspace: EMPTY_AIRSPACE,
        neighbours: [],
        phase: 'cruise',
      };
      shadow.observe(tick);
      listener.push(us(t0));
      await shadow.idle();
      whole.push(us(t0));
      const t1 = process.hrtime.bigint();
      await bare.runWithDeadline(observation, 50);
      inference.push(us(t1));
    }
    await shadow.stop();
    await bare.release();

    const keys = generateReleaseKeyPair();
    const bundle = signBundle(packBundle({ policy: model }), keys.privateKeyPem);
    let refused = '';
    const verifyMs = await bestOf(5, async () => {
      const r = await verifyBundle(bundle, {
        trustedKeys: [trustedKey(keys.publicKeyPem)],
        readParams: async () => ({}),
      });
      if (!r.ok) refused = r.reason;
    });
    if (refused) throw new Error(`the default policy's bundle was refused: ${refused}`);
    const p50 = percentile(whole, 50);
    return [
      {
        name: 'shadow.listener_us_p99',
        value: percentile(listener, 99),
        unit: 'us',
        note: `on the loop's turn, ${TICKS} ticks`,
      },
      { name: 'shadow.tick_us_p50', value: p50, unit: 'us', note: 'after the setpoint: inference + side filter' },
      { name: 'shadow.tick_us_p99', value: percentile(whole, 99), unit: 'us', note: '' },
      {
        name: 'shadow.tick_ratio_vs_inference',
        value: p50 / percentile(inference, 50),
        unit: 'x',
        note: `bare inference p50 ${percentile(inference, 50).toFixed(0)} us`,
      },
      {
        name: 'shadow.verify_ms',
        value: verifyMs,
        unit: 'ms',
        note: `${(bundle.length / 1024).toFixed(0)} KiB bundle, sha ${createHash('sha256').update(bundle).digest('hex').slice(0, 8)}`,
      },
    ];
  },
};
