/**
 * The link reads telemetry in place (shared/mavlink InPlaceDecoder) instead of through node-mavlink's message
 * objects: over the whole recorded PX4 stream its vehicle state must be, after every frame, the state a tracker fed
 * node-mavlink's decoded messages reaches.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, FrameParser } from '../../shared/mavlink/index.js';
import { AutopilotLink } from './autopilot-link.js';
import { ManualClock } from './clock.js';
import { parseLinkConfig } from './config.js';
import { VehicleStateTracker } from './state-tracker.js';
import { loadReferenceTlog, MemoryTransport } from './test-support.js';
import { TRACKED_MESSAGE_IDS } from './vehicle-state.js';

const TRACKED = new Set<number>(Object.values(TRACKED_MESSAGE_IDS));
const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent } as never;

describe('in-place telemetry', () => {
  it('gives the vehicle state node-mavlink decoding gives, after every frame of the recorded PX4 stream', async () => {
    const { records, msOf } = loadReferenceTlog();
    const clock = new ManualClock(0);
    const [ours, px4] = MemoryTransport.pair();
    const link = new AutopilotLink({
      config: parseLinkConfig({ mavlink: 'udp://127.0.0.1:0' }),
      transport: ours,
      clock,
      log: silent,
    });
    await link.start();
    const reference = new VehicleStateTracker({ linkCounters: link.mavlink.counters });
    const parser = new FrameParser('datagram');
    let compared = 0;
    let changedFrames = 0;
    let last = '';
    for (const r of records) {
      clock.advanceTo(msOf(r));
      const nowMs = clock.nowMs();
      // Both directions, as they reached the wire: the tracker must ignore the client's own frames either way.
      parser.push(r.frame, (frame) => {
        if (TRACKED.has(frame.msgid)) reference.feed(decodeFrame(frame), frame, nowMs);
      });
      px4.send(r.frame);
      const actual = link.snapshot();
      const expected = reference.snapshot(nowMs);
      expect(actual, `record at ${msOf(r).toFixed(1)} ms`).toEqual(expected);
      const key = JSON.stringify(actual);
      if (key !== last) changedFrames++;
      last = key;
      compared++;
    }
    expect(compared).toBeGreaterThan(19_000);
    // The stream moved the state (positions, attitude, modes, battery...), not just the clock.
    expect(changedFrames).toBeGreaterThan(10_000);
    expect(link.tracker.counters).toEqual(reference.counters);
    await link.stop();
  });
});
