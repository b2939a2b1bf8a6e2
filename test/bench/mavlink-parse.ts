/**
 * mavlink.parse.ratio_vs_node_mavlink: frames parsed and decoded per second by the project's parser over bare
 * node-mavlink's splitter + parser streams, on the recorded PX4 conversation, in the same run.
 */
import { readFileSync } from 'node:fs';
import { type MavLinkPacket, MavLinkPacketParser, MavLinkPacketSplitter, MavLinkProtocolV2 } from 'node-mavlink';
import { decodeFrame, FrameParser, MESSAGE_BY_ID, readTlog } from '../../shared/mavlink/index.js';
import { PX4_REFERENCE_TLOG } from '../fixtures/index.js';
import { type Benchmark, bestOf } from './harness.js';

function loadFrames(): Buffer[] {
  const path = process.env.AERIE_PX4_TLOG ?? PX4_REFERENCE_TLOG;
  return readTlog(readFileSync(path)).map((r) => r.frame);
}

function parseOurs(frames: readonly Buffer[]): number {
  const parser = new FrameParser('datagram');
  let n = 0;
  for (const f of frames)
    parser.push(f, (frame) => {
      decodeFrame(frame);
      n++;
    });
  return n;
}

function parseBare(frames: readonly Buffer[]): Promise<number> {
  return new Promise((resolve) => {
    const splitter = new MavLinkPacketSplitter();
    const parser = new MavLinkPacketParser();
    const protocol = new MavLinkProtocolV2();
    let n = 0;
    splitter.pipe(parser);
    parser.on('data', (packet: MavLinkPacket) => {
      const cls = MESSAGE_BY_ID.get(packet.header.msgid);
      if (cls) protocol.data(packet.payload, cls);
      n++;
    });
    parser.on('end', () => resolve(n));
    for (const f of frames) splitter.write(f);
    splitter.end();
  });
}

export const mavlinkParse: Benchmark = {
  name: 'mavlink',
  figures: ['mavlink.parse.frames_per_s', 'mavlink.parse.ratio_vs_node_mavlink'],
  async run() {
    const frames = loadFrames();
    // Warm both paths so the JIT has seen them before timing.
    parseOurs(frames);
    await parseBare(frames);
    const oursMs = await bestOf(5, () => parseOurs(frames));
    const bareMs = await bestOf(5, () => parseBare(frames));
    const oursRate = frames.length / (oursMs / 1000);
    const bareRate = frames.length / (bareMs / 1000);
    return [
      {
        name: 'mavlink.parse.frames_per_s',
        value: oursRate,
        unit: 'frames/s',
        note: `${frames.length} recorded PX4 frames, parsed and decoded`,
      },
      {
        name: 'mavlink.parse.ratio_vs_node_mavlink',
        value: oursRate / bareRate,
        unit: 'x',
        note: `goal >= 0.9; bare node-mavlink streams ${Math.round(bareRate)} frames/s`,
      },
    ];
  },
};
