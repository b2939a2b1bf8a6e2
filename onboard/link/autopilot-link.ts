/**
 * The autopilot link: one MAVLink connection to PX4 with the vehicle state tracked from its telemetry, a commander,
 * a setpoint sender, our own 1 Hz HEARTBEAT, message-interval requests, and link up/down from the autopilot's
 * HEARTBEAT. It owns the transport and every timer; all time comes from the injected clock.
 */
import { AerieError } from '../../shared/errors.js';
import { componentLogger, type Logger } from '../../shared/log/index.js';
import {
  type common,
  createTransport,
  type Frame,
  InPlaceDecoder,
  type MavLinkData,
  MavlinkLink,
  MESSAGE_BY_ID,
  PX4_MODES,
  type Px4ModeName,
  readSigningKey,
  sameMode,
  type Transport,
} from '../../shared/mavlink/index.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { Commander, type CommandOptions, type CommandResult } from './commander.js';
import type { LinkConfig } from './config.js';
import { HeartbeatSender, HeartbeatWatchdog } from './heartbeat.js';
import { type IntervalState, intervalRequestsFromConfig, MessageIntervals } from './message-intervals.js';
import { type PositionSetpoint, SetpointSender, type VelocitySetpoint } from './setpoints.js';
import { VehicleStateTracker } from './state-tracker.js';
import {
  type MavlinkSource,
  STATE_CHANGE,
  TRACKED_FIELDS,
  TRACKED_MESSAGE_IDS,
  type VehicleState,
} from './vehicle-state.js';
import { StateWaiters, type WaitResult } from './waiters.js';

const COMMAND_ACK_ID = 77;
/** Between attempts to open a serial device that is not there yet (the autopilot's USB may enumerate late). */
const SERIAL_OPEN_RETRY_MS = 1000;

export interface AutopilotLinkOptions {
  readonly config: LinkConfig;
  /** The byte transport; default: made from config.mavlink. */
  readonly transport?: Transport;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** The signing key; default: read from config.signingKey when set. */
  readonly signingKey?: Buffer;
}

export interface AutopilotLinkCounters {
  readonly heartbeatsSent: number;
  readonly linkUps: number;
  readonly linkDowns: number;
  readonly openFailures: number;
}

type Listener<T> = (value: T) => void;

export class AutopilotLink {
  readonly mavlink: MavlinkLink;
  readonly tracker: VehicleStateTracker;
  readonly commander: Commander;
  readonly setpoints: SetpointSender;
  readonly intervals: MessageIntervals;
  private readonly count = { linkUps: 0, linkDowns: 0, openFailures: 0 };
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly waiters: StateWaiters;
  private readonly heartbeats: HeartbeatSender;
  private readonly watchdog: HeartbeatWatchdog;
  private readonly upListeners: Listener<MavlinkSource>[] = [];
  private readonly downListeners: Listener<MavlinkSource>[] = [];
  /** The tracked messages' in-place decoders, indexed by message id. */
  private readonly decoders: (InPlaceDecoder<string> | undefined)[] = [];
  private openTimer: TimerHandle | null = null;
  private up = false;
  private phase: 'new' | 'started' | 'stopped' = 'new';

  constructor(options: AutopilotLinkOptions) {
    const config = options.config;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? componentLogger('autopilot-link');
    const transport = options.transport ?? createTransport(config.mavlink);
    const key = options.signingKey ?? (config.signingKey ? readSigningKey(config.signingKey) : undefined);
    this.mavlink = new MavlinkLink(transport, {
      sysid: config.mavlinkSysid,
      compid: config.mavlinkCompid,
      signing: key ? { key, linkId: config.signingLinkId, requireSigned: true } : undefined,
      nowMs: () => this.clock.wallMs(),
    });
    this.tracker = new VehicleStateTracker({
      autopilotSysid: config.autopilotSysid,
      linkCounters: this.mavlink.counters,
    });
    const target = (): MavlinkSource | null => (this.up ? this.tracker.autopilot : null);
    const send = (m: MavLinkData): void => {
      this.mavlink.send(m);
    };
    this.commander = new Commander({
      clock: this.clock,
      send,
      target,
      own: { sysid: config.mavlinkSysid, compid: config.mavlinkCompid },
      options: {
        timeoutMs: config.commandTimeoutMs,
        retries: config.commandRetries,
        retryPauseMs: config.commandRetryPauseMs,
      },
      log: this.log,
    });
    this.setpoints = new SetpointSender({
      clock: this.clock,
      send: (m) => {
        this.mavlink.sendInPlace(m);
      },
      target,
      bootMs: this.clock.nowMs(),
    });
    this.intervals = new MessageIntervals(intervalRequestsFromConfig(config), {
      clock: this.clock,
      request: (id, hz) => this.commander.setMessageInterval(id, hz),
      retryMs: config.intervalRetryMs,
      log: this.log,
    });
    this.waiters = new StateWaiters(this.clock);

    this.heartbeats = new HeartbeatSender(this.clock, config.heartbeatIntervalMs, send);
    this.watchdog = new HeartbeatWatchdog(this.clock, config.heartbeatLossMs, this.onHeartbeatLost);

    // Telemetry is read in place from the frame: no node-mavlink message object per message (399 a second from PX4).
    for (const [name, id] of Object.entries(TRACKED_MESSAGE_IDS)) {
      const cls = MESSAGE_BY_ID.get(id);
      if (cls === undefined) throw new Error(`message ${name} (${id}) is not in the registry`);
      this.decoders[id] = new InPlaceDecoder(cls, TRACKED_FIELDS[name as keyof typeof TRACKED_FIELDS]);
      this.mavlink.onRaw(cls, this.onTelemetryFrame);
    }
    this.mavlink.on<common.CommandAck>({ MSG_ID: COMMAND_ACK_ID }, (ack, frame) =>
      this.commander.handleAck(ack, frame),
    );
  }

  /** Open the transport and begin: our HEARTBEAT at once and every heartbeatIntervalMs, then wait for PX4's. */
  async start(): Promise<void> {
    if (this.phase === 'started') return;
    if (this.phase === 'stopped') throw new AerieError('MAVLINK_LINK_CLOSED', 'AutopilotLink.start() after stop()');
    this.phase = 'started';
    try {
      await this.mavlink.open();
    } catch (err) {
      // A UDP port that cannot be bound is a configuration error; a serial device may simply not be there yet.
      if (this.mavlink.transport.mode !== 'stream') {
        this.phase = 'stopped';
        throw err;
      }
      this.count.openFailures++;
      this.log.warn({ transport: this.mavlink.transport.describe(), err: (err as Error).message }, 'cannot open yet');
      this.scheduleOpen();
    }
    if (this.phase !== 'started') return;
    this.log.info({ transport: this.mavlink.transport.describe() }, 'autopilot link started');
    this.heartbeats.start();
  }

  /** Stop every timer, end every wait ('cancelled'), close the transport. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.heartbeats.stop();
    this.watchdog.stop();
    this.clock.clearTimer(this.openTimer);
    this.openTimer = null;
    this.intervals.stop();
    this.up = false;
    this.commander.cancelAll();
    this.waiters.failAll('cancelled');
    await this.mavlink.close();
    this.log.info('autopilot link stopped');
  }

  get counters(): AutopilotLinkCounters {
    return { heartbeatsSent: this.heartbeats.sent, ...this.count };
  }

  /** True while the autopilot's HEARTBEAT keeps coming. */
  get isUp(): boolean {
    return this.up;
  }

  /** Called with the autopilot's ids when its HEARTBEAT is first seen (and after each loss). Returns an unsubscribe. */
  onLinkUp(listener: Listener<MavlinkSource>): () => void {
    return subscribe(this.upListeners, listener);
  }

  /** Called when the autopilot's HEARTBEAT has been silent for heartbeatLossMs. Returns an unsubscribe. */
  onLinkDown(listener: Listener<MavlinkSource>): () => void {
    return subscribe(this.downListeners, listener);
  }

  /** The live vehicle state, heartbeat age brought to now. Read it, do not keep it; `snapshot` copies. */
  state(): Readonly<VehicleState> {
    return this.tracker.read(this.clock.nowMs());
  }

  /** Copy the vehicle state into `into` (no allocation) or a new object. */
  snapshot(into?: VehicleState): VehicleState {
    return this.tracker.snapshot(this.clock.nowMs(), into);
  }

  arm(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.commander.arm(options);
  }

  disarm(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.commander.disarm(options);
  }

  forceDisarm(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.commander.forceDisarm(options);
  }

  /**
   * Take off to `relativeAltitudeM` above home. PX4 wants an AMSL altitude, so home must be known; without it the
   * command is not sent and the result is { ok: false, reason: 'rejected', attempts: 0 }.
   */
  takeoff(relativeAltitudeM: number, options?: Partial<CommandOptions>): Promise<CommandResult> {
    const home = this.tracker.state.home;
    if (home === null || !Number.isFinite(relativeAltitudeM)) {
      this.log.warn({ relativeAltitudeM, homeKnown: home !== null }, 'takeoff not sent: no home or bad altitude');
      return Promise.resolve({ ok: false, reason: 'rejected', attempts: 0 });
    }
    return this.commander.takeoff(home.altAmslM + relativeAltitudeM, options);
  }

  setMode(mode: Px4ModeName, options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.commander.setMode(mode, options);
  }

  hold(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.commander.hold(options);
  }

  land(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.commander.land(options);
  }

  returnToLaunch(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.commander.returnToLaunch(options);
  }

  sendVelocitySetpoint(setpoint: VelocitySetpoint): boolean {
    return this.setpoints.sendVelocity(setpoint);
  }

  sendPositionSetpoint(setpoint: PositionSetpoint): boolean {
    return this.setpoints.sendPosition(setpoint);
  }

  /** Until PX4 reports `mode` (HEARTBEAT or CURRENT_MODE). */
  waitForMode(mode: Px4ModeName, timeoutMs: number): Promise<WaitResult> {
    const wanted = PX4_MODES[mode];
    return this.waitFor(
      () => this.up && this.tracker.state.modeSource !== 'none' && sameMode(this.tracker.state.mode, wanted),
      timeoutMs,
    );
  }

  /** Until the HEARTBEAT's armed flag is `armed`. */
  waitForArmed(armed: boolean, timeoutMs: number): Promise<WaitResult> {
    return this.waitFor(() => this.up && this.tracker.state.armed === armed, timeoutMs);
  }

  /** Until EXTENDED_SYS_STATE says on ground. */
  waitForLanded(timeoutMs: number): Promise<WaitResult> {
    return this.waitFor(() => this.up && this.tracker.state.landedState === 'on-ground', timeoutMs);
  }

  /** Until `predicate` holds on the state; ends early with 'link-down' or 'cancelled'. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<WaitResult> {
    if (this.phase === 'stopped') return Promise.resolve({ ok: false, reason: 'cancelled', waitedMs: 0 });
    if (!this.up) return Promise.resolve({ ok: false, reason: 'link-down', waitedMs: 0 });
    return this.waiters.wait(predicate, timeoutMs);
  }

  /** Where each SET_MESSAGE_INTERVAL request stands. */
  intervalStatus(): readonly Readonly<IntervalState>[] {
    return this.intervals.status();
  }

  private readonly onTelemetryFrame = (frame: Frame): void => {
    if (this.phase !== 'started') return;
    const decoder = this.decoders[frame.msgid];
    if (decoder === undefined) return;
    const before = this.tracker.state;
    const wasArmed = before.armed;
    const oldMode = before.mode.name;
    const oldLanded = before.landedState;
    const changed = this.tracker.feedFields(
      frame.msgid,
      decoder.decodeAt(frame.buffer, frame.payloadStart, frame.payloadEnd),
      frame,
      this.clock.nowMs(),
    );
    if (changed === 0) return;
    if ((changed & STATE_CHANGE.HEARTBEAT) !== 0) this.onAutopilotHeartbeat();
    if ((changed & (STATE_CHANGE.ARMED | STATE_CHANGE.MODE | STATE_CHANGE.LANDED_STATE)) !== 0) {
      const s = this.tracker.state;
      if (s.armed !== wasArmed) this.log.info({ armed: s.armed }, s.armed ? 'armed' : 'disarmed');
      if (s.mode.name !== oldMode)
        this.log.info({ from: oldMode, to: s.mode.name, source: s.modeSource }, 'mode changed');
      if (s.landedState !== oldLanded) this.log.info({ from: oldLanded, to: s.landedState }, 'landed state changed');
    }
    this.waiters.check();
  };

  private onAutopilotHeartbeat(): void {
    this.watchdog.seen();
    if (this.up) return;
    const autopilot = this.tracker.autopilot;
    if (autopilot === null) return;
    this.up = true;
    this.count.linkUps++;
    this.log.info({ autopilot, transport: this.mavlink.transport.describe() }, 'autopilot link up');
    this.intervals.start();
    for (const l of [...this.upListeners]) l(autopilot);
  }

  private readonly onHeartbeatLost = (): void => {
    if (!this.up) return;
    const autopilot = this.tracker.autopilot;
    this.up = false;
    this.count.linkDowns++;
    this.log.warn(
      { autopilot, silentMs: this.clock.nowMs() - this.tracker.state.timestampsMs.heartbeat },
      'autopilot link down: heartbeat lost',
    );
    this.intervals.stop();
    this.commander.linkDown();
    this.waiters.failAll('link-down');
    // Let the next PX4 HEARTBEAT bind again: after a reboot (or a swapped flight controller) the ids may differ.
    this.tracker.forgetAutopilot();
    if (autopilot) for (const l of [...this.downListeners]) l(autopilot);
  };

  private scheduleOpen(): void {
    this.openTimer = this.clock.setTimer(() => {
      this.openTimer = null;
      if (this.phase !== 'started') return;
      this.mavlink.open().then(
        () => this.log.info({ transport: this.mavlink.transport.describe() }, 'transport opened'),
        () => {
          this.count.openFailures++;
          if (this.phase === 'started') this.scheduleOpen();
        },
      );
    }, SERIAL_OPEN_RETRY_MS);
  }
}

function subscribe<T>(list: Listener<T>[], listener: Listener<T>): () => void {
  list.push(listener);
  return () => {
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  };
}
