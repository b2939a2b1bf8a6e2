/**
 * HEARTBEATs both ways: ours, sent at once and then every period (MAVLink expects 1 Hz from every component, and
 * PX4 uses it to see that the companion is alive); and a watchdog on the autopilot's, which fires once when it has
 * been silent for the loss timeout.
 */
import { minimal } from '../../shared/mavlink/index.js';
import type { Clock, TimerHandle } from './clock.js';

/** Our HEARTBEAT: an onboard controller, not an autopilot (so no one mistakes us for the flight controller). */
export function companionHeartbeat(): minimal.Heartbeat {
  const hb = new minimal.Heartbeat();
  hb.type = minimal.MavType.ONBOARD_CONTROLLER;
  hb.autopilot = minimal.MavAutopilot.INVALID;
  hb.baseMode = 0 as minimal.MavModeFlag;
  hb.customMode = 0;
  hb.systemStatus = minimal.MavState.ACTIVE;
  hb.mavlinkVersion = 3;
  return hb;
}

/** Sends our HEARTBEAT now and every `periodMs` until stopped. */
export class HeartbeatSender {
  sent = 0;
  private readonly message = companionHeartbeat();
  private timer: TimerHandle | null = null;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly send: (heartbeat: minimal.Heartbeat) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.beat();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private readonly beat = (): void => {
    this.timer = null;
    if (!this.running) return;
    this.send(this.message);
    this.sent++;
    this.timer = this.clock.setTimer(this.beat, this.periodMs);
  };
}

/** Calls `onLost` once the autopilot's HEARTBEAT has been silent for `lossMs` since the last `seen()`. */
export class HeartbeatWatchdog {
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly lossMs: number,
    private readonly onLost: () => void,
  ) {}

  /** A HEARTBEAT arrived: the deadline moves to now + lossMs. */
  seen(): void {
    this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(this.fire, this.lossMs);
  }

  stop(): void {
    this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.onLost();
  };
}
