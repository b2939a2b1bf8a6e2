/**
 * A small MAVLink client for scenarios, built on shared/mavlink's MavlinkLink: it plays a companion computer (system
 * 255, component 190 by default) toward one vehicle, simulated or real PX4. Time-outs run on the scenario's clock,
 * so against a lockstep fleet they are simulated time.
 */
import {
  commandLong,
  common,
  createTransport,
  MAV_CMD,
  type MavLinkData,
  MavlinkLink,
  minimal,
  modeNameOfCustom,
  PX4_MODES,
  type Px4ModeName,
  resultName,
  setModeParams,
} from '../../shared/mavlink/index.js';
import type { TestClock } from './clock.js';

type MessageCtor<T extends MavLinkData> = { MSG_ID: number; MSG_NAME?: string; new (...args: never[]): T };

export interface AckResult {
  readonly command: number;
  readonly result: number;
  readonly resultName: string;
}

export interface ClientOptions {
  readonly sysid?: number;
  readonly compid?: number;
  /** The vehicle's system id; learnt from its first HEARTBEAT when not given. */
  readonly targetSystem?: number;
  /** Send our own HEARTBEAT at 1 Hz, as MAVSDK and the onboard runtime do (default true). */
  readonly heartbeat?: boolean;
  readonly connectTimeoutS?: number;
}

/** A setpoint the streamer sends: NED, m or m/s; omit what is not controlled. */
export interface SetpointSpec {
  readonly positionNedM?: readonly [number, number, number];
  readonly velocityNedMS?: readonly [number, number, number];
  readonly yawRad?: number;
}

export interface SetpointStreamer {
  /** Replace the setpoint and send it at once (not a timer late). */
  update(spec: SetpointSpec): void;
  readonly sent: number;
  stop(): void;
}

/** SET_POSITION_TARGET_LOCAL_NED in LOCAL_NED with the type mask for what `spec` gives. */
export function positionTarget(
  spec: SetpointSpec,
  targetSystem: number,
  timeBootMs = 0,
): common.SetPositionTargetLocalNed {
  const m = new common.SetPositionTargetLocalNed();
  m.timeBootMs = timeBootMs >>> 0;
  m.targetSystem = targetSystem;
  m.targetComponent = 1;
  m.coordinateFrame = 1 as common.MavFrame;
  let mask = 0b1_1100_0000; // accelerations ignored
  const p = spec.positionNedM;
  const v = spec.velocityNedMS;
  if (p) [m.x, m.y, m.z] = p;
  else mask |= 0b111;
  if (v) [m.vx, m.vy, m.vz] = v;
  else mask |= 0b111000;
  if (spec.yawRad === undefined) mask |= 1024;
  else m.yaw = spec.yawRad;
  mask |= 2048;
  m.typeMask = mask as common.PositionTargetTypemask;
  return m;
}

export class MavlinkTestClient {
  targetSystem: number;
  private readonly latestById = new Map<number, MavLinkData>();
  private readonly stops: (() => void)[] = [];

  private constructor(
    readonly link: MavlinkLink,
    readonly clock: TestClock,
    targetSystem: number,
  ) {
    this.targetSystem = targetSystem;
    link.onAny((message, frame) => {
      if (this.targetSystem === 0 && frame.msgid === minimal.Heartbeat.MSG_ID) this.targetSystem = frame.sysid;
      if (frame.sysid === this.targetSystem) this.latestById.set(frame.msgid, message);
    });
  }

  /** Open `url` (shared/mavlink transport syntax) and wait for the vehicle's HEARTBEAT. */
  static async connect(url: string, clock: TestClock, options: ClientOptions = {}): Promise<MavlinkTestClient> {
    const link = new MavlinkLink(createTransport(url), { sysid: options.sysid ?? 255, compid: options.compid ?? 190 });
    await link.open();
    const client = new MavlinkTestClient(link, clock, options.targetSystem ?? 0);
    if (options.heartbeat ?? true) {
      const hb = new minimal.Heartbeat();
      hb.type = 18 as minimal.MavType; // ONBOARD_CONTROLLER
      hb.autopilot = 8 as minimal.MavAutopilot; // INVALID
      hb.systemStatus = 4 as minimal.MavState;
      hb.mavlinkVersion = 3;
      client.stops.push(clock.every(1, () => client.send(hb)));
      client.send(hb);
    }
    const seen = await clock.until(() => client.latest(minimal.Heartbeat) !== undefined, options.connectTimeoutS ?? 10);
    if (!seen) {
      await client.close();
      throw new Error(`no HEARTBEAT from ${url} within ${options.connectTimeoutS ?? 10} s`);
    }
    return client;
  }

  send(message: MavLinkData): void {
    this.link.send(message);
  }

  /** The last message of a class from the vehicle, if any. */
  latest<T extends MavLinkData>(cls: MessageCtor<T>): T | undefined {
    return this.latestById.get(cls.MSG_ID) as T | undefined;
  }

  /** The vehicle's mode from its last HEARTBEAT (PX4 names). */
  get mode(): string | undefined {
    const hb = this.latest(minimal.Heartbeat);
    return hb ? modeNameOfCustom(hb.customMode) : undefined;
  }

  get armed(): boolean {
    return ((this.latest(minimal.Heartbeat)?.baseMode ?? 0) & 128) !== 0;
  }

  /** Wait for a message of `cls` from the vehicle matching `predicate`; rejects after `timeoutMs` on the clock. */
  async waitFor<T extends MavLinkData>(
    cls: MessageCtor<T>,
    predicate: (m: T) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<T> {
    let found: T | undefined;
    const off = this.link.on<T>(cls, (m, frame) => {
      if (found === undefined && frame.sysid === this.targetSystem && predicate(m)) found = m;
    });
    try {
      const ok = await this.clock.until(() => found !== undefined, timeoutMs / 1000);
      if (!ok || found === undefined)
        throw new Error(`timeout: no matching ${cls.MSG_NAME ?? cls.MSG_ID} within ${timeoutMs} ms`);
      return found;
    } finally {
      off();
    }
  }

  /** Every message of `cls` from the vehicle during `durationMs` on the clock. */
  async collect<T extends MavLinkData>(
    cls: MessageCtor<T>,
    durationMs: number,
  ): Promise<{ message: T; atS: number }[]> {
    const out: { message: T; atS: number }[] = [];
    const off = this.link.on<T>(cls, (m, frame) => {
      if (frame.sysid === this.targetSystem) out.push({ message: m, atS: this.clock.nowS() });
    });
    await this.clock.sleep(durationMs / 1000);
    off();
    return out;
  }

  /**
   * COMMAND_LONG and its COMMAND_ACK. Retries on silence (not on an answer): `retries` more tries, each waiting
   * `timeoutMs` on the clock.
   */
  async command(
    command: number,
    params: readonly number[] = [],
    options: { timeoutMs?: number; retries?: number } = {},
  ): Promise<AckResult> {
    const retries = options.retries ?? 2;
    for (let attempt = 0; attempt <= retries; attempt++) {
      let ack: common.CommandAck | undefined;
      const off = this.link.on<common.CommandAck>(common.CommandAck, (m, frame) => {
        if (frame.sysid === this.targetSystem && m.command === command) ack = m;
      });
      this.send(
        commandLong({ command, params, targetSystem: this.targetSystem, targetComponent: 1, confirmation: attempt }),
      );
      const ok = await this.clock.until(() => ack !== undefined, (options.timeoutMs ?? 1500) / 1000);
      off();
      if (ok && ack) return { command, result: ack.result, resultName: resultName(ack.result) };
    }
    throw new Error(`no COMMAND_ACK for command ${command} after ${retries + 1} tries`);
  }

  setMode(name: Px4ModeName): Promise<AckResult> {
    return this.command(MAV_CMD.DO_SET_MODE, setModeParams(PX4_MODES[name]));
  }

  arm(): Promise<AckResult> {
    return this.command(MAV_CMD.COMPONENT_ARM_DISARM, [1]);
  }

  disarm(force = false): Promise<AckResult> {
    return this.command(MAV_CMD.COMPONENT_ARM_DISARM, [0, force ? 21196 : 0]);
  }

  /** Ask for a message at `rateHz` (0 = default rate, negative = stop). */
  setMessageRate(msgid: number, rateHz: number): Promise<AckResult> {
    const intervalUs = rateHz > 0 ? 1e6 / rateHz : rateHz < 0 ? -1 : 0;
    return this.command(MAV_CMD.SET_MESSAGE_INTERVAL, [msgid, intervalUs]);
  }

  /** Stream setpoints at `rateHz` on the clock; the first goes out at once. */
  startSetpoints(spec: SetpointSpec, rateHz = 20): SetpointStreamer {
    let current = spec;
    let sent = 0;
    const sendNow = (): void => {
      this.send(positionTarget(current, this.targetSystem, this.clock.nowS() * 1000));
      sent++;
    };
    sendNow();
    const stopTimer = this.clock.every(1 / rateHz, sendNow);
    let stopped = false;
    const stop = (): void => {
      if (!stopped) stopTimer();
      stopped = true;
    };
    this.stops.push(stop);
    return {
      update(next) {
        current = next;
        if (!stopped) sendNow();
      },
      get sent() {
        return sent;
      },
      stop,
    };
  }

  /** PARAM_REQUEST_READ by name; resolves to the PARAM_VALUE. */
  async readParam(name: string, timeoutMs = 2000): Promise<common.ParamValue> {
    const req = new common.ParamRequestRead();
    req.targetSystem = this.targetSystem;
    req.targetComponent = 1;
    req.paramId = name;
    req.paramIndex = -1;
    const answer = this.waitFor(common.ParamValue, (m) => m.paramId === name, timeoutMs);
    this.send(req);
    return answer;
  }

  /** PARAM_SET with the value encoded as PX4 expects (INT32 bytewise); resolves to the PARAM_VALUE echo. */
  async setParam(name: string, value: number, type: 'int32' | 'float', timeoutMs = 2000): Promise<common.ParamValue> {
    const m = new common.ParamSet();
    m.targetSystem = this.targetSystem;
    m.targetComponent = 1;
    m.paramId = name;
    if (type === 'int32') {
      const dv = new DataView(new ArrayBuffer(4));
      dv.setInt32(0, value, true);
      m.paramValue = dv.getFloat32(0, true);
      m.paramType = 6 as common.MavParamType;
    } else {
      m.paramValue = value;
      m.paramType = 9 as common.MavParamType;
    }
    const answer = this.waitFor(common.ParamValue, (p) => p.paramId === name, timeoutMs);
    this.send(m);
    return answer;
  }

  async close(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
    await this.link.close();
  }
}
