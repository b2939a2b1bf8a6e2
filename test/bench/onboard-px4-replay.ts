/**
 * PX4's side of the onboard bench, in a process of its own so its CPU is not counted as the runtime's: the recorded
 * PX4 stream (every message PX4 v1.15.4 SITL sent, at its recorded times) sent over UDP to the runtime, looping a
 * span of the recording. It wakes when the next message is due, as a real autopilot's messages arrive, and ignores
 * what the runtime sends back.
 *
 *   node dist/test/bench/onboard-px4-replay.js PORT FROM_S TO_S
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FrameParser, readTlog } from '../../shared/mavlink/index.js';
import { PX4_REFERENCE_TLOG } from '../fixtures/index.js';

export interface ReplayFrame {
  /** Time from the start of the span (ms). */
  readonly atMs: number;
  readonly bytes: Buffer;
}

/** PX4's messages (system 1) between fromS and toS of the reference recording. */
export function px4Frames(fromS: number, toS: number): ReplayFrame[] {
  const records = readTlog(readFileSync(PX4_REFERENCE_TLOG));
  const t0 = Number(records[0].timeUs) / 1000;
  const parser = new FrameParser('datagram');
  const frames: ReplayFrame[] = [];
  for (const r of records) {
    const atMs = Number(r.timeUs) / 1000 - t0;
    if (atMs < fromS * 1000 || atMs > toS * 1000) continue;
    parser.push(r.frame, (f) => {
      if (f.sysid === 1) frames.push({ atMs: atMs - fromS * 1000, bytes: Buffer.from(r.frame) });
    });
  }
  return frames;
}

function main(): void {
  const [port, fromS, toS] = process.argv.slice(2).map(Number);
  const frames = px4Frames(fromS, toS);
  const spanMs = (toS - fromS) * 1000;
  const socket = createSocket('udp4');
  socket.on('message', () => {});
  socket.on('error', () => {});
  const start = performance.now();
  let i = 0;
  let lap = 0;
  const dueMs = () => frames[i].atMs + lap * spanMs;
  const pump = () => {
    while (dueMs() <= performance.now() - start) {
      socket.send(frames[i].bytes, port, '127.0.0.1');
      if (++i === frames.length) {
        i = 0;
        lap++;
      }
    }
    setTimeout(pump, Math.max(0, dueMs() - (performance.now() - start)));
  };
  pump();
  // The bench ends this process; should the bench die first, end with it.
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
