/**
 * The thin I/O shell between one MavlinkLink and the vehicle's PX4 emulation: what PX4's mavlink module does on an
 * instance. It decodes what arrives (commands, setpoints, parameter requests), answers to the sender, and sends the
 * link's streams when the fleet says they are due. Every handler is guarded: malformed input is counted, never
 * thrown out of the socket callback.
 */
import {
  commandAck,
  common,
  MAV_CMD,
  MAV_RESULT,
  type MavLinkData,
  type MavlinkLink,
} from '../../shared/mavlink/index.js';
import { decodePositionTarget } from './offboard.js';
import { ParamStore, type ParamWire } from './params.js';
import { type LinkMode, MSG, StreamScheduler } from './streams.js';
import { TELEMETRY } from './telemetry.js';
import type { SimVehicle } from './vehicle.js';

const MAV_CMD_GET_MESSAGE_INTERVAL = 510;
const MAV_CMD_GET_HOME_POSITION = 410;
const MAV_COMP_ID_ALL = 0;

export interface ShellCounters {
  commands: number;
  offboardSetpoints: number;
  /** Setpoints PX4 would refuse (frame, FORCE, nothing set) or addressed elsewhere. */
  offboardRejected: number;
  paramRequests: number;
  /** Handlers that threw on a decoded message (garbage payloads); the message was dropped. */
  handlerErrors: number;
  /** Commands for another system or component, ignored without an answer as PX4 does. */
  notForUs: number;
}

export class VehicleLinkShell {
  readonly streams: StreamScheduler;
  readonly counters: ShellCounters = {
    commands: 0,
    offboardSetpoints: 0,
    offboardRejected: 0,
    paramRequests: 0,
    handlerErrors: 0,
    notForUs: 0,
  };

  constructor(
    readonly link: MavlinkLink,
    readonly mode: LinkMode,
    private readonly vehicle: SimVehicle,
  ) {
    this.streams = new StreamScheduler(mode, vehicle.timeS);
    link.onFrameReceived((frame) => this.noteSender(frame.sysid, frame.compid));
    this.guard(common.CommandLong, (m) => this.onCommandLong(m as common.CommandLong));
    this.guard(common.CommandInt, (m) => this.onCommandInt(m as common.CommandInt));
    this.guard(common.SetPositionTargetLocalNed, (m) => this.onSetpoint(m as common.SetPositionTargetLocalNed));
    this.guard(common.ParamRequestList, (m) => this.onParamRequestList(m as common.ParamRequestList));
    this.guard(common.ParamRequestRead, (m) => this.onParamRequestRead(m as common.ParamRequestRead));
    this.guard(common.ParamSet, (m) => this.onParamSet(m as common.ParamSet));
  }

  private guard(cls: { MSG_ID: number }, handler: (message: MavLinkData) => void): void {
    this.link.on(cls, (message) => {
      if (this.vehicle.dead) return;
      try {
        handler(message);
      } catch {
        this.counters.handlerErrors++;
      }
    });
  }

  private forUs(targetSystem: number, targetComponent: number): boolean {
    return targetSystem === this.vehicle.sysid && (targetComponent === 1 || targetComponent === MAV_COMP_ID_ALL);
  }

  /** Send one message now (streams, answers). */
  send(message: MavLinkData | null): void {
    if (message !== null && !this.vehicle.dead) this.link.send(message);
  }

  /** Send what is due on this link at simulated time `nowS`. */
  sendDue(nowS: number): void {
    this.streams.due(nowS, (msgid) => {
      const build = TELEMETRY.get(msgid);
      if (build) this.send(build(this.vehicle));
    });
  }

  private onCommandLong(m: common.CommandLong): void {
    const p = [m._param1, m._param2, m._param3, m._param4, m._param5, m._param6, m._param7];
    this.onCommand(m.command, p, m.targetSystem, m.targetComponent);
  }

  private onCommandInt(m: common.CommandInt): void {
    const p = [m._param1, m._param2, m._param3, m._param4, m._param5 / 1e7, m._param6 / 1e7, m._param7];
    this.onCommand(m.command, p, m.targetSystem, m.targetComponent);
  }

  private onCommand(command: number, p: number[], targetSystem: number, targetComponent: number): void {
    if (!this.forUs(targetSystem, targetComponent)) {
      this.counters.notForUs++;
      return;
    }
    this.counters.commands++;
    const result = this.execute(command, p);
    // The link replies to whoever spoke last, i.e. the sender of this command.
    this.send(commandAck(command, result, this.lastSender.sysid, this.lastSender.compid));
  }

  private lastSender = { sysid: 0, compid: 0 };

  /** Remember the sender of every frame, so an answer is addressed to it (as PX4 fills target_system). */
  noteSender(sysid: number, compid: number): void {
    this.lastSender = { sysid, compid };
  }

  private execute(command: number, p: number[]): number {
    const now = this.vehicle.timeS;
    switch (command) {
      case MAV_CMD.SET_MESSAGE_INTERVAL: {
        const id = Math.trunc(p[0] + 0.5);
        const extra = [p[2], p[3], p[6]].some((x) => Number.isFinite(x) && Math.trunc(x + 0.5) !== 0);
        if (extra) return MAV_RESULT.FAILED;
        return this.streams.setInterval(id, p[1], now) === 'ok' ? MAV_RESULT.ACCEPTED : MAV_RESULT.FAILED;
      }
      case MAV_CMD_GET_MESSAGE_INTERVAL: {
        const id = Math.trunc(p[0] + 0.5);
        const reply = new common.MessageInterval();
        reply.messageId = id & 0xffff;
        const interval = this.streams.intervalS(id);
        reply.intervalUs = TELEMETRY.has(id) ? (Number.isFinite(interval) ? Math.round(interval * 1e6) : -1) : 0;
        this.send(reply);
        return MAV_RESULT.ACCEPTED;
      }
      case MAV_CMD.REQUEST_MESSAGE:
        return this.sendOnce(Math.round(p[0]));
      case MAV_CMD_GET_HOME_POSITION:
        return this.sendOnce(MSG.HOME_POSITION);
      default:
        return this.vehicle.commander.handleCommand(command, p, now);
    }
  }

  /** REQUEST_MESSAGE: send it now if it is a message this vehicle can build, else DENIED (as PX4). */
  private sendOnce(msgid: number): number {
    const build = TELEMETRY.get(msgid);
    const message = build ? build(this.vehicle) : null;
    if (message === null) return MAV_RESULT.DENIED;
    this.send(message);
    return MAV_RESULT.ACCEPTED;
  }

  private onSetpoint(m: common.SetPositionTargetLocalNed): void {
    // PX4 accepts target 0 (any) for setpoints, unlike commands.
    const sysOk = m.targetSystem === this.vehicle.sysid || m.targetSystem === 0;
    const compOk = m.targetComponent === 1 || m.targetComponent === 0;
    if (!sysOk || !compOk) {
      this.counters.offboardRejected++;
      return;
    }
    const decoded = decodePositionTarget(m, this.vehicle.body.yawRad[0]);
    if (!decoded.ok) {
      this.counters.offboardRejected++;
      return;
    }
    this.counters.offboardSetpoints++;
    this.vehicle.commander.handleSetpoint(decoded.setpoint, this.vehicle.timeS);
  }

  private paramValue(w: ParamWire): common.ParamValue {
    const m = new common.ParamValue();
    m.paramId = w.name;
    m.paramValue = w.wireValue;
    m.paramType = w.mavType as common.MavParamType;
    m.paramCount = w.count;
    m.paramIndex = w.index;
    return m;
  }

  private onParamRequestList(m: common.ParamRequestList): void {
    if (!this.forUs(m.targetSystem, m.targetComponent)) return;
    this.counters.paramRequests++;
    const params = this.vehicle.params;
    for (const name of params.names()) this.send(this.paramValue(params.wire(name)));
  }

  private onParamRequestRead(m: common.ParamRequestRead): void {
    if (!this.forUs(m.targetSystem, m.targetComponent)) return;
    this.counters.paramRequests++;
    const params = this.vehicle.params;
    let wire: ParamWire | null = null;
    if (m.paramIndex >= 0) wire = params.wireAt(m.paramIndex);
    else {
      const name = ParamStore.resolve(m.paramId);
      wire = name === null ? null : params.wire(name);
    }
    // PX4 stays silent about a parameter it does not have.
    if (wire !== null) this.send(this.paramValue(wire));
  }

  private onParamSet(m: common.ParamSet): void {
    if (!this.forUs(m.targetSystem, m.targetComponent)) return;
    this.counters.paramRequests++;
    const params = this.vehicle.params;
    const result = params.setFromWire(m.paramId, m.paramValue);
    // Answer with the value now in force: the new one, or the old one when the set was refused.
    const name = result.ok ? result.name : ParamStore.resolve(m.paramId);
    if (name !== null) this.send(this.paramValue(params.wire(name)));
  }
}
