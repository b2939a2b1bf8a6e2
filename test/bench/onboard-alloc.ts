/**
 * Garbage made on the onboard bench's paths (a measurement, not a benchmark figure):
 *
 *   npm run build && node --expose-gc dist/test/bench/onboard-alloc.js
 *
 * 1. Per control tick, and of it per SafetyFilter.update, on the path of `npm run bench -- onboard`: the runtime fed
 *    the recorded PX4 stream over UDP by a child process, cruising inside the altitude floor's margin. The stream is
 *    paused (SIGSTOP) while a run of ticks is measured, so only the ticks allocate.
 * 2. Per received telemetry message: the autopilot link fed the same span of the recording in process (no socket),
 *    heap bytes and time per message.
 *
 * Heap growth over short runs started right after a full GC (too short for a scavenge); medians of the runs.
 */
import { AutopilotLink, parseLinkConfig } from '../../onboard/link/index.js';
import type { SafetyInput } from '../../onboard/safety/index.js';
import type { Transport } from '../../shared/mavlink/index.js';
import { REPLAY_FROM_S, REPLAY_TO_S, startReplayedCruise } from './onboard-cruise.js';
import { px4Frames } from './onboard-px4-replay.js';

const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => process.memoryUsage().heapUsed;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function perTick(): Promise<void> {
  const { runtime, px4, close } = await startReplayedCruise();
  try {
    const filter = runtime.filter;
    const update = filter.update.bind(filter);
    let filterBytes = 0;
    filter.update = (input: SafetyInput) => {
      const h = heap();
      const d = update(input);
      filterBytes += heap() - h;
      return d;
    };
    const tick = () => runtime.loop.tick(runtime.clock.nowMs() * 1000);
    for (let i = 0; i < 2000; i++) {
      await tick();
      await new Promise((r) => setImmediate(r));
    }
    const ticks: number[] = [];
    const updates: number[] = [];
    const n = 200;
    for (let run = 0; run < 12; run++) {
      px4.kill('SIGSTOP');
      await pause(30);
      gc?.();
      filterBytes = 0;
      const h0 = heap();
      for (let i = 0; i < n; i++) await tick();
      ticks.push((heap() - h0) / n);
      updates.push(filterBytes / n);
      px4.kill('SIGCONT');
      for (let i = 0; i < 100; i++) {
        await tick();
        await pause(2);
      }
    }
    const s = runtime.loop.stats.summary();
    console.log(
      `control tick: ${median(ticks).toFixed(0)} B per tick, of which SafetyFilter.update ${median(updates).toFixed(0)} B ` +
        `(medians of ${ticks.length} runs of ${n} ticks; monitor ${s.monitorTransitions.at(-1) ?? 'none'})`,
    );
  } finally {
    await close();
  }
}

async function perMessage(): Promise<void> {
  const frames = px4Frames(REPLAY_FROM_S, REPLAY_TO_S).map((f) => f.bytes);
  const listeners: ((bytes: Buffer) => void)[] = [];
  const transport: Transport = {
    mode: 'datagram',
    counters: { bytesIn: 0, bytesOut: 0, sendErrors: 0, noPeerDrops: 0 },
    open: async () => {},
    send: () => {},
    onData: (l) => listeners.push(l),
    close: async () => {},
    describe: () => 'in-process replay',
  };
  const link = new AutopilotLink({ config: parseLinkConfig({ mavlink: 'udp://127.0.0.1:0' }), transport });
  await link.start();
  const deliver = (b: Buffer) => {
    for (const l of listeners) l(b);
  };
  for (let i = 0; i < 5; i++) for (const b of frames) deliver(b);
  const bytes: number[] = [];
  const chunk = 500;
  for (let pass = 0; pass < 3; pass++) {
    for (let s = 0; s + chunk <= frames.length; s += chunk) {
      gc?.();
      const h0 = heap();
      for (let i = s; i < s + chunk; i++) deliver(frames[i]);
      bytes.push((heap() - h0) / chunk);
    }
  }
  const us: number[] = [];
  for (let run = 0; run < 7; run++) {
    const t0 = performance.now();
    for (let k = 0; k < 10; k++) for (const b of frames) deliver(b);
    us.push(((performance.now() - t0) * 1000) / (10 * frames.length));
  }
  console.log(
    `telemetry received: ${median(bytes).toFixed(0)} B and ${median(us).toFixed(2)} us per message ` +
      `(${frames.length} frames of the recording's ${REPLAY_FROM_S}-${REPLAY_TO_S} s, ` +
      `${(frames.length / (REPLAY_TO_S - REPLAY_FROM_S)).toFixed(0)} msg/s; parse, ` +
      'decode and vehicle state, no socket)',
  );
  await link.stop();
}

if (!gc) console.warn('run with node --expose-gc: without it the heap figures include garbage of earlier runs');
await perTick();
await perMessage();
process.exit(0);
