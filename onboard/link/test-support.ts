/**
 * Test support for the link's unit tests (not used by the runtime): an in-memory transport pair, a minimal
 * scripted PX4 stand-in that answers COMMAND_LONG, the recorded PX4 conversation, and a real-time poll helper.
 * The fake autopilot is an edge fake, kept small on purpose: sitl/ is the real simulated vehicle.
 */
import { readFileSync } from 'node:fs';
import {
  common,
  type Frame,
  MAV_MODE_FLAG,
  type MavLinkData,
  MavlinkLink,
  minimal,
  readTlog,
  type SigningOptions,
  type TlogRecord,
  type Transport,
  type TransportCounters,
} from '../../shared/mavlink/index.js';
import { PX4_REFERENCE_TLOG } from '../../test/fixtures/index.js';

export const REFERENCE_TLOG = PX4_REFERENCE_TLOG;

/** The recorded PX4 v1.15.4 SITL conversation, with each record's time in ms from the first record. */
export function loadReferenceTlog(): { records: TlogRecord[]; msOf: (r: TlogRecord) => number } {
  const records = readTlog(readFileSync(REFERENCE_TLOG));
  const t0 = records[0].timeUs;
  return { records, msOf: (r) => Number(r.timeUs - t0) / 1000 };
}

/** Two in-memory datagram transports wired to each other; delivery is synchronous and in order. */
export class MemoryTransport implements Transport {
  readonly mode = 'datagram' as const;
  readonly counters: TransportCounters = { bytesIn: 0, bytesOut: 0, sendErrors: 0, noPeerDrops: 0 };
  readonly sent: Buffer[] = [];
  peer: MemoryTransport | null = null;
  private readonly listeners: ((bytes: Buffer) => void)[] = [];
  private closed = false;

  static pair(): [MemoryTransport, MemoryTransport] {
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  send(bytes: Buffer): void {
    this.sent.push(bytes);
    this.counters.bytesOut += bytes.length;
    const peer = this.peer;
    if (this.closed || peer === null || peer.closed) {
      this.counters.noPeerDrops++;
      return;
    }
    peer.counters.bytesIn += bytes.length;
    for (const l of peer.listeners) l(bytes);
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  describe(): string {
    return 'memory';
  }
}

export interface ReceivedCommand {
  readonly command: common.CommandLong;
  readonly from: { readonly sysid: number; readonly compid: number };
}

/**
 * A PX4 stand-in for unit tests: sends what the test tells it to, records what it receives, and answers each
 * COMMAND_LONG with whatever `respond` returns (a MAV_RESULT, or null for no answer).
 */
export class FakeAutopilot {
  readonly link: MavlinkLink;
  readonly commands: ReceivedCommand[] = [];
  readonly received: { message: MavLinkData; frame: Frame }[] = [];
  respond: (command: common.CommandLong, index: number) => number | null = () => 0;

  constructor(
    transport: Transport,
    options: { sysid?: number; compid?: number; signing?: SigningOptions; nowMs?: () => number } = {},
  ) {
    this.link = new MavlinkLink(transport, {
      sysid: options.sysid ?? 1,
      compid: options.compid ?? 1,
      signing: options.signing,
      nowMs: options.nowMs,
    });
    this.link.onAny((message, frame) => {
      this.received.push({ message, frame });
      if (message instanceof common.CommandLong) {
        const index = this.commands.length;
        this.commands.push({ command: message, from: { sysid: frame.sysid, compid: frame.compid } });
        const result = this.respond(message, index);
        if (result !== null) {
          const ack = new common.CommandAck();
          ack.command = message.command;
          ack.result = result as common.MavResult;
          ack.targetSystem = frame.sysid;
          ack.targetComponent = frame.compid;
          this.link.send(ack);
        }
      }
    });
  }

  /** Messages of one class received so far. */
  receivedOf<T extends MavLinkData>(cls: new () => T): T[] {
    return this.received.filter((r) => r.message instanceof cls).map((r) => r.message as T);
  }

  /** A PX4 HEARTBEAT (quadrotor); returns the bytes sent. */
  heartbeat(options: { armed?: boolean; customMode?: number; type?: number; autopilot?: number } = {}): Buffer {
    const hb = new minimal.Heartbeat();
    hb.type = (options.type ?? minimal.MavType.QUADROTOR) as minimal.MavType;
    hb.autopilot = (options.autopilot ?? minimal.MavAutopilot.PX4) as minimal.MavAutopilot;
    hb.baseMode = (MAV_MODE_FLAG.CUSTOM_MODE_ENABLED |
      (options.armed ? MAV_MODE_FLAG.SAFETY_ARMED : 0)) as minimal.MavModeFlag;
    hb.customMode = options.customMode ?? 0x03040000; // AUTO.LOITER, as PX4 boots
    hb.systemStatus = minimal.MavState.STANDBY;
    hb.mavlinkVersion = 3;
    return this.link.send(hb);
  }

  send(message: MavLinkData): Buffer {
    return this.link.send(message);
  }
}

/** Poll `predicate` in real time until it holds (for real sockets); throws after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Let pending promise callbacks run (the commander resolves through promises). */
export function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
