/**
 * Onboard figures. The runtime's autopilot link is fed the recorded real PX4 stream (every message PX4 v1.15.4 SITL
 * sent, at its recorded rates, looped over the armed OFFBOARD part) through an in-memory transport; the runtime flies
 * a cruise leg, so observation, policy, filter and setpoint encoding all run every tick. The replayed vehicle is a
 * few metres up, inside the altitude floor's margin: the filter works its barrier path (near miss, often the QP and
 * its fallback, and the monitor's hold) rather than the trivial clear one; the p50 note names the monitor's state.
 *
 *   onboard.tick.p99_us                 per-tick cost, ticks back to back: the whole tick, from the state snapshot
 *                                       and mission step to the setpoint encoded and sent
 *   onboard.tick.p99_ratio_vs_bare_ort  that over bare session.run() on the same model, same run (goal <= 1.3)
 *   onboard.jitter.p99_ms               lateness of 50 Hz ticks against their schedule (goal <= 1)
 *   onboard.cpu_pct_50hz                process CPU at 50 Hz with the full stream, % of one core (goal <= 5)
 *
 * The bare baseline is measured interleaved with the ticks, one each per round and in alternating order, so both see
 * the same stream, garbage collections and neighbours on the machine; it calls session.run() exactly as the runtime's
 * runner does (the same preallocated input and output tensors), with nothing around it. Jitter and CPU come from
 * the runtime's own driver (runtime.driver, the one `aerie onboard` starts) on the wall clock.
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { DeliveryMission } from '../../onboard/mission/index.js';
import { defaultPolicyPath, SESSION_OPTIONS } from '../../onboard/policy/index.js';
import { OnboardRuntime } from '../../onboard/runtime.js';
import { FrameParser, readTlog, type Transport, type TransportCounters } from '../../shared/mavlink/index.js';
import { OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { PX4_REFERENCE_TLOG } from '../fixtures/index.js';
import { type Benchmark, percentile } from './harness.js';

/** Replays PX4's side of the recording into the link; what the runtime sends is counted and dropped. */
class ReplayTransport implements Transport {
  readonly mode = 'datagram' as const;
  readonly counters: TransportCounters = { bytesIn: 0, bytesOut: 0, sendErrors: 0, noPeerDrops: 0 };
  private listeners: ((b: Buffer) => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly frames: { atMs: number; bytes: Buffer }[];
  private readonly spanMs: number;

  constructor(fromS: number, toS: number) {
    const records = readTlog(readFileSync(PX4_REFERENCE_TLOG));
    const t0 = Number(records[0].timeUs) / 1000;
    const parser = new FrameParser('datagram');
    const px4: { atMs: number; bytes: Buffer }[] = [];
    for (const r of records) {
      const atMs = Number(r.timeUs) / 1000 - t0;
      if (atMs < fromS * 1000 || atMs > toS * 1000) continue;
      parser.push(r.frame, (f) => {
        if (f.sysid === 1) px4.push({ atMs: atMs - fromS * 1000, bytes: Buffer.from(r.frame) });
      });
    }
    this.frames = px4;
    this.spanMs = (toS - fromS) * 1000;
  }

  /** Messages per second PX4 sent in the replayed span. */
  get rateHz(): number {
    return this.frames.length / (this.spanMs / 1000);
  }

  async open(): Promise<void> {
    const start = performance.now();
    let i = 0;
    let lap = 0;
    // Deliver every frame due, every millisecond or so, looping the span.
    const pump = () => {
      const now = performance.now() - start;
      while (this.frames[i].atMs + lap * this.spanMs <= now) {
        const bytes = this.frames[i].bytes;
        this.counters.bytesIn += bytes.length;
        for (const l of this.listeners) l(bytes);
        if (++i === this.frames.length) {
          i = 0;
          lap++;
        }
      }
      this.timer = setTimeout(pump, 1);
    };
    pump();
  }

  send(bytes: Buffer): void {
    this.counters.bytesOut += bytes.length;
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
  }

  describe(): string {
    return 'replay of the recorded PX4 stream';
  }
}

/**
 * Bare session.run() on the same model: the baseline, measured interleaved with the ticks so both see the same noise.
 * Called as the runtime's runner calls it: preallocated input and output tensors.
 */
async function bareOrt(): Promise<() => Promise<number>> {
  const session = await ort.InferenceSession.create(readFileSync(defaultPolicyPath()), SESSION_OPTIONS);
  const obs = new Float32Array(OBSERVATION_SIZE).fill(0.1);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', obs, [1, OBSERVATION_SIZE]) };
  const probe = await session.run(feeds);
  const out = probe[session.outputNames[0]];
  const fetches = {
    [session.outputNames[0]]: new ort.Tensor('float32', new Float32Array(out.size), out.dims as number[]),
  };
  for (let i = 0; i < 500; i++) await session.run(feeds, fetches);
  return async () => {
    const t = performance.now();
    await session.run(feeds, fetches);
    return (performance.now() - t) * 1000;
  };
}

/** Garbage-collection pauses while `fn` runs: how many, and the longest (us). */
async function withGcWatch<T>(fn: () => Promise<T>): Promise<{ result: T; gcCount: number; gcMaxUs: number }> {
  let gcCount = 0;
  let gcMaxUs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++;
      gcMaxUs = Math.max(gcMaxUs, e.duration * 1000);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const result = await fn();
  await new Promise((r) => setImmediate(r));
  obs.disconnect();
  return { result, gcCount, gcMaxUs };
}

export const onboardLoop: Benchmark = {
  name: 'onboard',
  figures: [
    'onboard.tick.p99_us',
    'onboard.tick.p99_ratio_vs_bare_ort',
    'onboard.jitter.p99_ms',
    'onboard.cpu_pct_50hz',
  ],
  async run() {
    // 38-48 s of the recording: armed, in OFFBOARD, climbing then holding.
    const transport = new ReplayTransport(38, 48);
    const runtime = await OnboardRuntime.create({ link: { mavlink: 'udp://:0' }, transport });
    await runtime.link.start();
    if (!(await runtime.waitForAutopilot(5000))) throw new Error('the replayed PX4 stream did not bring the link up');
    await new Promise((r) => setTimeout(r, 500));
    const mission = new DeliveryMission({
      dropNeM: [400, 300],
      returnNeM: [0, 0],
      cruiseAltM: 6,
      releaseAltM: 3,
      releaseBy: 'hover',
      arrivalRadiusM: 2,
    });
    runtime.loop.setMission(mission, runtime.clock.nowMs());
    mission.resumeAirborne(runtime.clock.nowMs(), 'cruise-out');

    // Per-tick cost, ticks back to back, against bare inference on the same model in the same run.
    const ticks = 4000;
    const runBare = await bareOrt();
    const bare: number[] = [];
    // Yield between rounds so the replayed stream keeps the state fresh (only the tick and the bare run are timed).
    const gc = await withGcWatch(async () => {
      for (let i = 0; i < ticks; i++) {
        if (i % 2 === 0) {
          await runtime.loop.tick(runtime.clock.nowMs() * 1000);
          bare.push(await runBare());
        } else {
          bare.push(await runBare());
          await runtime.loop.tick(runtime.clock.nowMs() * 1000);
        }
        await new Promise((r) => setImmediate(r));
      }
    });
    const s = runtime.loop.stats.summary();
    if (s.policyTicks < ticks) {
      throw new Error(
        `policy ran on ${s.policyTicks} of ${ticks} ticks (phase ${mission.phase}, ${mission.reason}; ${s.monitorTransitions.join('; ')})`,
      );
    }
    const bareP99 = percentile(bare, 99);

    // Jitter and CPU: the driver at 50 Hz for 10 s with the full stream arriving.
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    runtime.driver.start();
    await new Promise((r) => setTimeout(r, 10_000));
    runtime.driver.stop();
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;
    const cpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
    const lateness = runtime.driver.lateness;
    const jitterP99 = lateness.percentile(99);
    const rate = transport.rateHz;
    await runtime.stop();
    const stage = s.stageUs;
    const split = `mission ${stage.mission.p99.toFixed(0)}, obs ${stage.observation.p99.toFixed(0)}, infer ${stage.inference.p99.toFixed(0)}, filter ${stage.filter.p99.toFixed(0)}, encode ${stage.send.p99.toFixed(0)} us p99; ${gc.gcCount} GC pauses in ${ticks} rounds, longest ${gc.gcMaxUs.toFixed(0)} us`;
    return [
      {
        name: 'onboard.tick.p50_us',
        value: s.tickUs.p50,
        unit: 'us',
        note: `p50 split: mission ${stage.mission.p50.toFixed(0)}, obs ${stage.observation.p50.toFixed(0)}, infer ${stage.inference.p50.toFixed(0)}, filter ${stage.filter.p50.toFixed(0)}, encode ${stage.send.p50.toFixed(0)}; monitor ${s.monitorTransitions.at(-1) ?? 'none'}`,
      },
      { name: 'onboard.tick.p99_us', value: s.tickUs.p99, unit: 'us', note: split },
      {
        name: 'onboard.tick.p99_ratio_vs_bare_ort',
        value: s.tickUs.p99 / bareP99,
        unit: 'x',
        note: `goal <= 1.3; bare session.run p50 ${percentile(bare, 50).toFixed(0)} us, p99 ${bareP99.toFixed(0)} us; p50 ratio ${(s.tickUs.p50 / percentile(bare, 50)).toFixed(2)}`,
      },
      {
        name: 'onboard.jitter.p99_ms',
        value: jitterP99,
        unit: 'ms',
        note: `goal <= 1; ${runtime.driver.counters.ticks} ticks at 50 Hz, lateness p50 ${lateness.percentile(50).toFixed(2)} ms, max ${lateness.max().toFixed(2)} ms`,
      },
      {
        name: 'onboard.cpu_pct_50hz',
        value: cpuPct,
        unit: '% core',
        note: `goal <= 5; PX4 stream replayed at ${rate.toFixed(0)} msg/s`,
      },
    ];
  },
};
