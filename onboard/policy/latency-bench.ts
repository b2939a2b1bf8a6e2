/**
 * Script: batch-1 inference latency of the go-to-goal policy and of a 32-256-256-3 tanh MLP, raw (session.run with
 * reused tensors) and through PolicyRunner.runWithDeadline, plus buildObservation throughput. Prints JSON.
 * `npx tsx onboard/policy/latency-bench.ts [runs]` or `node dist/onboard/policy/latency-bench.js [runs]`.
 */
import * as ort from 'onnxruntime-node';
import type { Airspace } from '../../shared/geo/index.js';
import {
  buildGoToGoalModel,
  buildMlpModel,
  buildObservation,
  type ObservationInput,
} from '../../shared/policy/index.js';
import { randomMlpLayers, seededRandom } from '../../shared/policy/test-models.js';
import { loadPolicy, SESSION_OPTIONS } from './load.js';

const runs = Number(process.argv[2] ?? 5000);

function percentiles(samplesUs: number[]): { p50Us: number; p99Us: number; maxUs: number } {
  const s = [...samplesUs].sort((a, b) => a - b);
  const at = (q: number) => Number(s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(1));
  return { p50Us: at(0.5), p99Us: at(0.99), maxUs: Number(s[s.length - 1].toFixed(1)) };
}

async function measure(name: string, bytes: Uint8Array): Promise<Record<string, unknown>> {
  const random = seededRandom(1);
  const obs = Float32Array.from({ length: 32 }, () => random() * 2 - 1);

  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  const feeds = { observation: new ort.Tensor('float32', obs, [1, 32]) };
  const fetches = { action: new ort.Tensor('float32', new Float32Array(3), [1, 3]) };
  const raw: number[] = [];
  for (let i = 0; i < runs + 200; i++) {
    const t0 = performance.now();
    await session.run(feeds, fetches);
    if (i >= 200) raw.push((performance.now() - t0) * 1000);
  }
  await session.release();

  const policy = await loadPolicy(bytes, { label: name });
  const guarded: number[] = [];
  for (let i = 0; i < runs + 200; i++) {
    const r = await policy.runWithDeadline(obs, 50);
    if (!r.ok) throw new Error(`${name}: ${r.reason} ${r.detail}`);
    if (i >= 200) guarded.push(r.latencyUs);
  }
  await policy.release();
  return {
    model: name,
    bytes: bytes.length,
    runs,
    sessionRun: percentiles(raw),
    runWithDeadline: percentiles(guarded),
  };
}

function observationThroughput(): Record<string, unknown> {
  const square = (cn: number, ce: number, h: number) => [
    { n: cn - h, e: ce - h },
    { n: cn - h, e: ce + h },
    { n: cn + h, e: ce + h },
    { n: cn + h, e: ce - h },
  ];
  const airspace: Airspace = {
    geofence: { polygonNeM: square(0, 0, 2000), ceilingM: 120 },
    altitudeFloorM: 10,
    noFlyZones: [
      { kind: 'cylinder', id: 'a', centerNeM: { n: 300, e: 0 }, radiusM: 50 },
      { kind: 'cylinder', id: 'b', centerNeM: { n: -300, e: 200 }, radiusM: 80 },
      { kind: 'polygon', id: 'c', polygonNeM: square(500, 500, 100) },
    ],
  };
  const drones = 4096;
  const out = new Float32Array(drones * 32);
  const inputs: ObservationInput[] = Array.from({ length: drones }, (_, i) => ({
    positionNedM: { n: (i % 64) * 10, e: Math.floor(i / 64) * 10, d: -30 },
    velocityNedMS: { n: 5, e: 1, d: 0 },
    rollRad: 0.05,
    pitchRad: -0.1,
    yawRad: 1,
    goalNedM: { n: 1000, e: 800, d: -30 },
    altitudeAboveGroundM: 30,
    windEstimateNedMS: { n: 2, e: -1, d: 0 },
    airspace,
    neighbours: [0, 1, 2, 3, 4].map((k) => ({
      positionNedM: { n: (i % 64) * 10 + k * 7, e: Math.floor(i / 64) * 10 - k * 5, d: -30 - k },
      velocityNedMS: { n: 4, e: 0, d: 0 },
    })),
    batteryRemainingFraction: 0.7,
  }));
  const steps = 20;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) for (let i = 0; i < drones; i++) buildObservation(inputs[i], out, i * 32);
  const seconds = (performance.now() - t0) / 1000;
  return {
    buildObservation: {
      drones,
      steps,
      zones: 3,
      fence: true,
      neighbours: 5,
      perSecond: Math.round((drones * steps) / seconds),
    },
  };
}

const mlp = buildMlpModel({
  layers: randomMlpLayers([32, 256, 256, 3], seededRandom(7), 'tanh'),
  inputSize: 32,
  outputActivation: 'tanh',
});
const results = [await measure('go-to-goal', buildGoToGoalModel()), await measure('mlp-32-256-256-3-tanh', mlp)];
console.log(JSON.stringify({ node: process.version, results, ...observationThroughput() }, null, 2));
