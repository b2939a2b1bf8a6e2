/**
 * Only the last phase of the onboard bench (test/bench/onboard.ts), for profiling where its CPU goes: the runtime as
 * the bench builds it, PX4's recorded stream replayed from a child process, a short warm-up of ticks back to back,
 * then runtime.driver at 50 Hz for SECONDS (default 10). Prints the process CPU over that span as the bench counts
 * it (% of one core), and the CPU of each of the process's threads (from /proc, Linux only).
 *
 * With DRIVER_WARMUP_S, the driver first runs that long unmeasured (the JIT's steady state on the driver's path).
 *
 *   node dist/test/bench/onboard-cpu.js [SECONDS] [DRIVER_WARMUP_S]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/test/bench/onboard-cpu.js
 *   ONBOARD_CPU_MARK=1 node --trace-deopt dist/test/bench/onboard-cpu.js   (a line marks where the phase starts)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { startReplayedCruise } from './onboard-cruise.js';

const CLOCK_TICKS_PER_S = 100;

/** CPU time (ms) of each thread of this process, by thread id and name. */
function threadCpu(): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      // Fields 14 and 15 of stat (utime, stime), counted from the state field (3).
      const ms = ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS_PER_S;
      out.set(tid, { name, ms });
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  return out;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const driverWarmupS = Number(process.argv[3] ?? 0);
  const scene = await startReplayedCruise();
  const runtime = scene.runtime;
  try {
    for (let i = 0; i < 2000; i++) {
      await runtime.loop.tick(runtime.clock.nowMs() * 1000);
      await new Promise((r) => setImmediate(r));
    }

    if (driverWarmupS > 0) {
      // Let the JIT settle on the driver's own path first (the bench measures from the driver's start).
      runtime.driver.start();
      await new Promise((r) => setTimeout(r, driverWarmupS * 1000));
      runtime.driver.stop();
    }
    const threads0 = threadCpu();
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    if (process.env.ONBOARD_CPU_MARK) process.stdout.write('--- 50 Hz phase\n');
    runtime.driver.start();
    // CPU of each second of the span: the first ones carry the JIT's adaptation to the driver's path.
    const perSecond: string[] = [];
    for (let i = 0; i < seconds; i++) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      await new Promise((r) => setTimeout(r, 1000));
      const c = process.cpuUsage(c0);
      perSecond.push(((c.user + c.system) / 10 / (performance.now() - w0)).toFixed(1));
    }
    runtime.driver.stop();
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;
    const threads1 = threadCpu();
    const pct = (ms: number) => ((ms / wallMs) * 100).toFixed(2);
    const lines = [
      `cpu ${pct((cpu.user + cpu.system) / 1000)} % (user ${pct(cpu.user / 1000)}, system ${pct(cpu.system / 1000)}) over ${(wallMs / 1000).toFixed(1)} s, ${runtime.driver.counters.ticks} ticks, ${runtime.loop.stats.summary().policyTicks} policy ticks`,
    ];
    lines.push(`  per second: ${perSecond.join(' ')} %`);
    for (const [tid, t] of threads1) {
      const d = t.ms - (threads0.get(tid)?.ms ?? 0);
      if (d > 0) lines.push(`  thread ${tid} ${t.name}: ${pct(d)} %`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await scene.close();
  }
}

await main();
