/**
 * `npm run bench [-- NAME...]`: runs the benchmarks (all, or those whose name or figure starts with a NAME), prints
 * a table, and writes the figures to bench-results.json at the repository root.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assignmentBenchmark } from '../../ground-station/assignment/bench.js';
import { stationBenchmark } from '../../ground-station/bench/index.js';
import { trainBenchmark } from '../../ground-station/learning/bench.js';
import { rolloutBenchmark } from '../../ground-station/rollouts/analysis/bench.js';
import { bundleBenchmark } from '../../ground-station/rollouts/bundle-bench.js';
import { REPO_ROOT } from '../fixtures/index.js';
import { dashboardBenchmark } from './dashboard.js';
import { type Benchmark, type Figure, formatTable } from './harness.js';
import { mavlinkParse } from './mavlink-parse.js';
import { onboardLoop } from './onboard.js';
import { shadowBenchmark } from './onboard-shadow.js';
import { sitlRealtime } from './sitl.js';

const BENCHMARKS: readonly Benchmark[] = [
  mavlinkParse,
  sitlRealtime,
  onboardLoop,
  shadowBenchmark,
  assignmentBenchmark,
  stationBenchmark,
  dashboardBenchmark,
  trainBenchmark,
  rolloutBenchmark,
  bundleBenchmark,
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const chosen = BENCHMARKS.filter(
    (b) =>
      wanted.length === 0 ||
      wanted.some((w) => b.name.startsWith(w) || w.startsWith(b.name) || b.figures.some((f) => f.startsWith(w))),
  );
  if (chosen.length === 0) {
    const known = BENCHMARKS.flatMap((b) => [b.name, ...b.figures]).join(', ');
    process.stderr.write(`no benchmark matches ${wanted.join(' ')}; known: ${known}\n`);
    process.exitCode = 2;
    return;
  }
  const figures: Figure[] = [];
  for (const bench of chosen) {
    process.stderr.write(`running ${bench.name}...\n`);
    const got = await bench.run();
    figures.push(
      ...got.filter((f) => wanted.length === 0 || wanted.some((w) => f.name.startsWith(w) || bench.name.startsWith(w))),
    );
  }
  process.stdout.write(`${formatTable(figures)}\n`);
  const out = join(REPO_ROOT, 'bench-results.json');
  writeFileSync(out, `${JSON.stringify({ figures }, null, 2)}\n`);
  process.stderr.write(`wrote ${out}\n`);
}

await main();
