/**
 * The training progress line: on a terminal it redraws in place (a bar plus live return, cost, success rate and the
 * Lagrange multiplier); to a file or pipe it writes one line per iteration.
 */
import type { IterationRecord } from './history.js';

export interface ProgressSink {
  update(record: IterationRecord, totalIterations: number): void;
  message(line: string): void;
  done(): void;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '  -  ');
const human = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${n}`;

export function formatDuration(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`;
}

export function progressLine(r: IterationRecord, total: number, width = 20): string {
  const filled = Math.round((width * r.iteration) / total);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(Math.max(0, width - filled))}]`;
  const v = r.validation;
  const validation = v
    ? ` | mean policy: success ${pct(v.successRate)}, rate-limited ${pct(v.rateLimitShare)}, barrier ${pct(v.barrierShare)}`
    : '';
  return (
    `${bar} it ${r.iteration}/${total} ${human(r.envSteps)} steps (${human(Math.round(r.envStepsPerS))}/s) | ` +
    `return ${r.meanReturn.toFixed(2)} | cost ${r.costRate.toFixed(4)}/tick | success ${pct(r.successRate)} | ` +
    `lambda ${r.lambda.toFixed(3)} | std ${r.std.toFixed(3)} | ${formatDuration(r.wallS)}${validation}`
  );
}

export function streamProgress(
  stream: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean },
): ProgressSink {
  const tty = stream.isTTY === true;
  let drawn = false;
  return {
    update(record, total) {
      const line = progressLine(record, total);
      if (tty) {
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    message(line) {
      if (tty && drawn) stream.write('\n');
      drawn = false;
      stream.write(`${line}\n`);
    },
    done() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}

export const silentProgress: ProgressSink = { update() {}, message() {}, done() {} };
