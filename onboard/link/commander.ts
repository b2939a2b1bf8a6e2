/**
 * The commander: COMMAND_LONG out, COMMAND_ACK back, with MAVLink's command protocol rules. One command of a kind
 * (command id) in flight; a newer one of the same id supersedes the older wait. Retransmits on no answer with the
 * confirmation field incremented; retries TEMPORARILY_REJECTED after a pause; never retries DENIED, FAILED or
 * UNSUPPORTED. Results are values; nothing here throws.
 */
import type { Logger } from '../../shared/log/index.js';
import {
  commandLong,
  type common,
  FORCE_DISARM_MAGIC,
  MAV_CMD,
  MAV_RESULT,
  PX4_MODES,
  type Px4ModeName,
  resultName,
  setModeParams,
} from '../../shared/mavlink/index.js';
import type { Clock, TimerHandle } from './clock.js';
import type { MavlinkSource } from './vehicle-state.js';

export type CommandFailureReason =
  | 'timeout'
  | 'denied'
  | 'failed'
  | 'unsupported'
  | 'rejected'
  | 'link-down'
  | 'cancelled';

/** The last MAV_RESULT heard, by name ('ACCEPTED', 'DENIED', ... or 'RESULT(n)'). */
export type AckResultName = ReturnType<typeof resultName>;

export type CommandResult =
  | { readonly ok: true; readonly result: AckResultName; readonly attempts: number }
  | {
      readonly ok: false;
      readonly reason: CommandFailureReason;
      /** The last ACK's result, when one came. */
      readonly result?: AckResultName;
      /** COMMAND_LONGs sent for this command (0 when it never left, e.g. link down). */
      readonly attempts: number;
    };

export interface CommandOptions {
  /** Wait this long for an ACK before retransmitting, ms. */
  readonly timeoutMs: number;
  /** Further attempts after the first (no answer, or TEMPORARILY_REJECTED). */
  readonly retries: number;
  /** Pause before retrying after TEMPORARILY_REJECTED, ms. */
  readonly retryPauseMs: number;
}

export interface CommanderDeps {
  readonly clock: Clock;
  /** Put one COMMAND_LONG on the link. */
  readonly send: (message: common.CommandLong) => void;
  /** The autopilot to command; null while none is known or the link is down. */
  readonly target: () => MavlinkSource | null;
  /** Our own ids: ACKs addressed to another system/component are not ours. */
  readonly own: MavlinkSource;
  readonly options: CommandOptions;
  readonly log?: Logger;
}

export interface CommanderCounters {
  commands: number;
  /** COMMAND_LONGs sent, first attempts and retries. */
  sent: number;
  /** Retransmissions after no answer (confirmation > 0). */
  retransmissions: number;
  /** Retries after TEMPORARILY_REJECTED. */
  rejectedRetries: number;
  acks: number;
  /** ACKs not for a command in flight, not from the autopilot, or addressed to someone else. */
  acksIgnored: number;
  superseded: number;
}

interface Pending {
  readonly command: number;
  readonly params: readonly number[];
  readonly options: CommandOptions;
  attempts: number;
  confirmation: number;
  /** 'waiting' for an ACK; 'pausing' before a retry after TEMPORARILY_REJECTED; 'in-progress' after IN_PROGRESS. */
  phase: 'waiting' | 'pausing' | 'in-progress';
  timer: TimerHandle | null;
  lastResult: AckResultName | undefined;
  readonly resolve: (result: CommandResult) => void;
}

const FINAL_FAILURES: Partial<Record<number, CommandFailureReason>> = {
  [MAV_RESULT.DENIED]: 'denied',
  [MAV_RESULT.FAILED]: 'failed',
  [MAV_RESULT.UNSUPPORTED]: 'unsupported',
  [MAV_RESULT.CANCELLED]: 'cancelled',
};

export class Commander {
  readonly counters: CommanderCounters = {
    commands: 0,
    sent: 0,
    retransmissions: 0,
    rejectedRetries: 0,
    acks: 0,
    acksIgnored: 0,
    superseded: 0,
  };
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly deps: CommanderDeps) {}

  /** Commands waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Send a command and wait for its final answer. Resolves (never rejects) with a CommandResult. Options override
   * the configured timeout, retries and retry pause for this command.
   */
  send(command: number, params: readonly number[] = [], options: Partial<CommandOptions> = {}): Promise<CommandResult> {
    this.counters.commands++;
    if (this.deps.target() === null) return Promise.resolve({ ok: false, reason: 'link-down', attempts: 0 });
    const older = this.pending.get(command);
    if (older) {
      this.counters.superseded++;
      this.deps.log?.info({ command }, 'command superseded by a newer one of the same id');
      this.finish(older, { ok: false, reason: 'cancelled', result: older.lastResult, attempts: older.attempts });
    }
    return new Promise((resolve) => {
      const p: Pending = {
        command,
        params,
        options: { ...this.deps.options, ...options },
        attempts: 0,
        confirmation: 0,
        phase: 'waiting',
        timer: null,
        lastResult: undefined,
        resolve,
      };
      this.pending.set(command, p);
      this.transmit(p);
    });
  }

  /** Feed a COMMAND_ACK received from `source`. Returns true when it answered a command in flight. */
  handleAck(ack: common.CommandAck, source: MavlinkSource): boolean {
    const target = this.deps.target();
    const own = this.deps.own;
    const p = this.pending.get(ack.command);
    const forUs =
      (ack.targetSystem === 0 || ack.targetSystem === own.sysid) &&
      (ack.targetComponent === 0 || ack.targetComponent === own.compid);
    if (p === undefined || target === null || source.sysid !== target.sysid || !forUs) {
      this.counters.acksIgnored++;
      return false;
    }
    this.counters.acks++;
    const name = resultName(ack.result);
    p.lastResult = name;
    if (ack.result === MAV_RESULT.ACCEPTED) {
      this.finish(p, { ok: true, result: name, attempts: p.attempts });
    } else if (ack.result === MAV_RESULT.IN_PROGRESS) {
      // The autopilot is working on it: wait again for the final ACK, but do not retransmit (that would restart it).
      p.phase = 'in-progress';
      this.deps.clock.clearTimer(p.timer);
      p.timer = this.deps.clock.setTimer(() => this.onTimeout(p), p.options.timeoutMs);
    } else if (ack.result === MAV_RESULT.TEMPORARILY_REJECTED) {
      // A duplicate answer (to a retransmitted copy) while already pausing is not a second rejection.
      if (p.phase === 'pausing') return true;
      if (p.attempts > p.options.retries) {
        this.finish(p, { ok: false, reason: 'rejected', result: name, attempts: p.attempts });
        return true;
      }
      p.phase = 'pausing';
      this.deps.clock.clearTimer(p.timer);
      p.timer = this.deps.clock.setTimer(() => {
        p.timer = null;
        if (this.pending.get(p.command) !== p) return;
        this.counters.rejectedRetries++;
        // The autopilot heard the command: the retry is a new transmission, not a confirmation of a lost one.
        p.confirmation = 0;
        this.transmit(p);
      }, p.options.retryPauseMs);
    } else {
      this.finish(p, { ok: false, reason: FINAL_FAILURES[ack.result] ?? 'failed', result: name, attempts: p.attempts });
    }
    return true;
  }

  /** The autopilot is gone: every wait ends now with 'link-down'. */
  linkDown(): void {
    for (const p of [...this.pending.values()]) {
      this.finish(p, { ok: false, reason: 'link-down', result: p.lastResult, attempts: p.attempts });
    }
  }

  /** End every wait with 'cancelled' (shutdown). */
  cancelAll(): void {
    for (const p of [...this.pending.values()]) {
      this.finish(p, { ok: false, reason: 'cancelled', result: p.lastResult, attempts: p.attempts });
    }
  }

  arm(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.send(MAV_CMD.COMPONENT_ARM_DISARM, [1], options);
  }

  disarm(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.send(MAV_CMD.COMPONENT_ARM_DISARM, [0], options);
  }

  /** Disarm even in flight (motors stop: the vehicle falls). Emergencies only. */
  forceDisarm(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.send(MAV_CMD.COMPONENT_ARM_DISARM, [0, FORCE_DISARM_MAGIC], options);
  }

  /** NAV_TAKEOFF to an altitude above mean sea level (PX4 reads param7 as AMSL; NaN lat/lon/yaw = current). */
  takeoff(altitudeAmslM: number, options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.send(MAV_CMD.NAV_TAKEOFF, [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, altitudeAmslM], options);
  }

  /** DO_SET_MODE with CUSTOM_MODE_ENABLED, param2 main mode, param3 sub mode. */
  setMode(mode: Px4ModeName, options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.send(MAV_CMD.DO_SET_MODE, setModeParams(PX4_MODES[mode]), options);
  }

  /** Hold position: AUTO.LOITER. */
  hold(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.setMode('AUTO.LOITER', options);
  }

  /** NAV_LAND where the vehicle is (PX4 switches to AUTO.LAND). */
  land(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.send(MAV_CMD.NAV_LAND, [], options);
  }

  returnToLaunch(options?: Partial<CommandOptions>): Promise<CommandResult> {
    return this.send(MAV_CMD.NAV_RETURN_TO_LAUNCH, [], options);
  }

  /** SET_MESSAGE_INTERVAL: `rateHz` > 0 sets the rate, 0 restores PX4's default, < 0 stops the message. */
  setMessageInterval(messageId: number, rateHz: number, options?: Partial<CommandOptions>): Promise<CommandResult> {
    const intervalUs = rateHz > 0 ? Math.round(1e6 / rateHz) : rateHz === 0 ? 0 : -1;
    return this.send(MAV_CMD.SET_MESSAGE_INTERVAL, [messageId, intervalUs], options);
  }

  private transmit(p: Pending): void {
    const target = this.deps.target();
    if (target === null) {
      this.finish(p, { ok: false, reason: 'link-down', result: p.lastResult, attempts: p.attempts });
      return;
    }
    p.attempts++;
    p.phase = 'waiting';
    this.counters.sent++;
    if (p.confirmation > 0) this.counters.retransmissions++;
    // Arm the timer before sending: a link that answers synchronously (in-process peers) must find it to clear.
    p.timer = this.deps.clock.setTimer(() => this.onTimeout(p), p.options.timeoutMs);
    this.deps.send(
      commandLong({
        command: p.command,
        params: p.params,
        targetSystem: target.sysid,
        targetComponent: target.compid,
        confirmation: p.confirmation,
      }),
    );
  }

  private onTimeout(p: Pending): void {
    p.timer = null;
    if (this.pending.get(p.command) !== p) return;
    if (p.phase === 'waiting' && p.attempts <= p.options.retries) {
      p.confirmation = Math.min(255, p.confirmation + 1);
      this.transmit(p);
      return;
    }
    this.deps.log?.warn({ command: p.command, attempts: p.attempts, phase: p.phase }, 'command timed out');
    this.finish(p, { ok: false, reason: 'timeout', result: p.lastResult, attempts: p.attempts });
  }

  private finish(p: Pending, result: CommandResult): void {
    if (this.pending.get(p.command) !== p) return;
    this.pending.delete(p.command);
    this.deps.clock.clearTimer(p.timer);
    p.timer = null;
    if (!result.ok) this.deps.log?.info({ command: p.command, ...result }, 'command failed');
    p.resolve(result);
  }
}
