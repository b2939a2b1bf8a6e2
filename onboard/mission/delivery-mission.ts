/**
 * The delivery state machine. Pure: time and the vehicle view come in, a guidance choice, at most one autopilot
 * command and progress events go out; the driver sends the command and reports its outcome with `commandDone`.
 *
 *   preflight -> warmup (stream >1 s) -> offboard -> arming -> takeoff -> cruise-out (policy) -> descend -> release
 *   -> climb -> cruise-back (policy) -> landing (PX4 AUTO.LAND, PX4 disarms) -> done
 * With releaseBy 'land' the parcel is put down by landing and disarming, then the vehicle arms and takes off again.
 * Abort flies back to the depot under the policy; return and land hand the vehicle to PX4 (RTL, AUTO.LAND).
 */
import type {
  CommandOutcome,
  Guidance,
  MissionCommand,
  MissionEvent,
  MissionOutcome,
  MissionOutput,
  MissionPhase,
  MissionPlan,
  MissionRequest,
  MissionTiming,
  MissionVehicleView,
} from './types.js';

export const DEFAULT_TIMING: MissionTiming = Object.freeze({
  streamWarmupMs: 1500,
  armTimeoutMs: 90_000,
  releaseHoldMs: 3000,
  phaseTimeoutMs: 600_000,
  commandRetryPauseMs: 1000,
});

export interface MissionLimits {
  /** Climb rate used for takeoff and the climb after release (m/s, up). */
  readonly climbSpeedMS: number;
  /** Descent rate towards the release altitude (m/s, down). */
  readonly descentSpeedMS: number;
  /** Horizontal speed cap while holding over a point during climb/descent (m/s). */
  readonly stationKeepSpeedMS: number;
  /** The mission refuses to start below this battery share (0..1). */
  readonly minBatteryToStart: number;
}

export const DEFAULT_LIMITS: MissionLimits = Object.freeze({
  climbSpeedMS: 2,
  descentSpeedMS: 1,
  stationKeepSpeedMS: 2,
  minBatteryToStart: 0.3,
});

const HOLD: Guidance = Object.freeze({ kind: 'hold' });
const NO_EVENTS: readonly MissionEvent[] = Object.freeze([]);

/** What a phase asks for, before the step adds the phase and its events. */
type Ask = Omit<MissionOutput, 'phase' | 'events'>;

const QUIET: Ask = Object.freeze({ stream: false, cruising: false, guidance: HOLD, command: null });
const STREAM_HOLD: Ask = Object.freeze({ stream: true, cruising: false, guidance: HOLD, command: null });

function cruiseAsk(target: readonly [number, number], cruiseAltM: number): Ask {
  const goalNedM = Object.freeze([target[0], target[1], -cruiseAltM] as const);
  return Object.freeze({
    stream: true,
    cruising: true,
    guidance: Object.freeze({ kind: 'policy', goalNedM }),
    command: null,
  });
}
const AIRBORNE_PHASES: ReadonlySet<MissionPhase> = new Set([
  'takeoff',
  'cruise-out',
  'descend',
  'release',
  'climb',
  'cruise-back',
]);

export class DeliveryMission {
  private phaseName: MissionPhase = 'idle';
  private phaseStartMs = 0;
  private leg: 'out' | 'back' = 'out';
  private pending: MissionCommand | null = null;
  private refusedAtMs = Number.NEGATIVE_INFINITY;
  private lastOutcome: CommandOutcome | null = null;
  private requestQueue: { req: MissionRequest; by: 'operator' | 'monitor'; detail?: string }[] = [];
  /** Emptied by replacement, not splice: a step with nothing queued allocates nothing. */
  private failsafeCommand: MissionCommand | null = null;
  private finalOutcome: MissionOutcome | null = null;
  private failureReason = '';
  private events: MissionEvent[] = [];
  private nowMs = 0;
  /** The cruise legs' asks: the same frozen value every cruise step (the plan does not change). */
  private readonly cruiseOut: Ask;
  private readonly cruiseBack: Ask;
  /**
   * The last output, handed out again while nothing in it changes (an unchanging ask, the same phase, no events):
   * outputs are immutable, so a steady step allocates nothing.
   */
  private lastAsk: Ask | null = null;
  private lastPhase: MissionPhase = 'idle';
  private lastOutput: MissionOutput | null = null;

  constructor(
    readonly plan: MissionPlan,
    private readonly timing: MissionTiming = DEFAULT_TIMING,
    private readonly limits: MissionLimits = DEFAULT_LIMITS,
  ) {
    this.cruiseOut = cruiseAsk(plan.dropNeM, plan.cruiseAltM);
    this.cruiseBack = cruiseAsk(plan.returnNeM, plan.cruiseAltM);
  }

  get phase(): MissionPhase {
    return this.phaseName;
  }

  get outcome(): MissionOutcome | null {
    return this.finalOutcome;
  }

  /** Why the mission failed or was aborted ('' while it runs or when delivered). */
  get reason(): string {
    return this.failureReason;
  }

  get airborne(): boolean {
    return AIRBORNE_PHASES.has(this.phaseName);
  }

  start(nowMs: number): void {
    this.nowMs = nowMs;
    if (this.phaseName === 'idle') this.enter('preflight', nowMs);
  }

  /**
   * Take over a vehicle already flying under offboard control (the runtime restarted in flight, or a benchmark):
   * continue on the given cruise leg without the ground phases.
   */
  resumeAirborne(nowMs: number, leg: 'cruise-out' | 'cruise-back'): void {
    this.nowMs = nowMs;
    this.leg = leg === 'cruise-out' ? 'out' : 'back';
    this.enter(leg, nowMs);
  }

  /**
   * An operator or the runtime monitor asks for abort, return, land or hold; applied on the next step. The outcome
   * is 'aborted' when an operator asked and 'failed' when the monitor did.
   */
  request(req: MissionRequest, by: 'operator' | 'monitor' = 'operator', detail?: string): void {
    this.requestQueue.push({ req, by, detail });
  }

  /** The driver reports the outcome of the command it was given. */
  commandDone(outcome: CommandOutcome): void {
    if (this.pending?.kind !== outcome.command) return;
    this.pending = null;
    this.lastOutcome = outcome;
    if (!outcome.ok) {
      this.refusedAtMs = this.nowMs;
      this.emit('command-refused', `${outcome.command}: ${outcome.reason ?? 'refused'}`);
    }
  }

  step(nowMs: number, v: MissionVehicleView): MissionOutput {
    this.nowMs = nowMs;
    if (this.requestQueue.length > 0) {
      const queue = this.requestQueue;
      this.requestQueue = [];
      for (const { req, by, detail } of queue) this.applyRequest(req, by, v, detail);
    }
    const ask = this.advance(nowMs, v);
    const phase = this.phaseName;
    if (this.events.length === 0) {
      if (ask === this.lastAsk && phase === this.lastPhase && this.lastOutput !== null) return this.lastOutput;
      const out: MissionOutput = Object.freeze({
        phase,
        stream: ask.stream,
        cruising: ask.cruising,
        guidance: ask.guidance,
        command: ask.command,
        events: NO_EVENTS,
      });
      this.lastAsk = ask;
      this.lastPhase = phase;
      this.lastOutput = out;
      return out;
    }
    const events = this.events;
    this.events = [];
    this.lastOutput = null;
    return { phase, stream: ask.stream, cruising: ask.cruising, guidance: ask.guidance, command: ask.command, events };
  }

  private applyRequest(
    req: MissionRequest,
    by: 'operator' | 'monitor',
    v: MissionVehicleView,
    detail: string | undefined,
  ): void {
    if (this.phaseName === 'done' || this.phaseName === 'idle') return;
    const outcome: MissionOutcome = by === 'operator' ? 'aborted' : 'failed';
    // The reason names who asked and, when given, why (the monitor's rules, a stall): what an operator reads first.
    const why = detail ? ` (${detail})` : '';
    if (!v.armed && !this.airborne) {
      // Nothing is flying yet: stop here.
      this.finish(outcome, `${req} requested by the ${by} before takeoff${why}`);
      return;
    }
    if (req === 'abort') {
      if (this.phaseName === 'failsafe') return;
      this.failureReason = `abort requested by the ${by}${why}`;
      this.leg = 'back';
      this.finalOutcomeOnLanding = outcome;
      if (this.phaseName !== 'cruise-back' && this.phaseName !== 'landing')
        this.enter(this.belowCruise(v) ? 'climb' : 'cruise-back', this.nowMs);
      return;
    }
    const command: MissionCommand =
      req === 'hold' ? { kind: 'hold' } : req === 'land' ? { kind: 'land' } : { kind: 'return' };
    // A more severe failsafe replaces a milder one; never the other way round.
    if (this.failsafeCommand && severity(this.failsafeCommand) >= severity(command)) return;
    // An operator's failsafe ends 'aborted', a monitor's 'failed'; once a failsafe has failed the mission, a later
    // request does not turn it into an abort.
    const alreadyFailed = this.phaseName === 'failsafe' && this.failsafeOutcome === 'failed';
    this.failsafeCommand = command;
    const asked = `${req} requested by the ${by}${why}`;
    this.failureReason = alreadyFailed ? `${this.failureReason}; then ${asked}` : asked;
    this.failsafeOutcome = alreadyFailed ? 'failed' : outcome;
    this.enter('failsafe', this.nowMs);
  }

  /** How the mission ends once landed: after a normal return, and after a failsafe. */
  private finalOutcomeOnLanding: MissionOutcome = 'delivered';
  private failsafeOutcome: MissionOutcome = 'failed';

  private advance(nowMs: number, v: MissionVehicleView): Ask {
    const inPhaseMs = nowMs - this.phaseStartMs;
    const altM = -v.positionNedM[2];
    const quiet = QUIET;
    switch (this.phaseName) {
      case 'idle':
      case 'done':
        return quiet;
      case 'preflight': {
        const problem = this.preflightProblem(v);
        if (problem === null) this.enter('warmup', nowMs);
        else if (inPhaseMs > this.timing.armTimeoutMs) this.finish('failed', `preflight: ${problem}`);
        return quiet;
      }
      case 'warmup':
        if (inPhaseMs >= this.timing.streamWarmupMs) this.enter('offboard', nowMs);
        return STREAM_HOLD;
      case 'offboard': {
        if (v.modeName === 'OFFBOARD') this.enter('arming', nowMs);
        else if (inPhaseMs > this.timing.armTimeoutMs) this.finish('failed', 'autopilot never entered OFFBOARD');
        return withCommand(STREAM_HOLD, this.issue({ kind: 'set-mode', mode: 'OFFBOARD' }, v.modeName !== 'OFFBOARD'));
      }
      case 'arming': {
        if (v.armed && v.modeName === 'OFFBOARD') this.enter('takeoff', nowMs);
        else if (inPhaseMs > this.timing.armTimeoutMs)
          this.finish('failed', `arming refused for ${Math.round(inPhaseMs / 1000)} s`);
        else if (v.modeName !== 'OFFBOARD' && inPhaseMs > 2000) this.enter('offboard', nowMs);
        return withCommand(STREAM_HOLD, this.issue({ kind: 'arm' }, !v.armed));
      }
      case 'takeoff':
      case 'climb': {
        if (!v.armed) return this.lost('disarmed in flight');
        if (altM >= this.plan.cruiseAltM - 0.5) this.enter(this.leg === 'out' ? 'cruise-out' : 'cruise-back', nowMs);
        else if (inPhaseMs > this.timing.phaseTimeoutMs) this.fail('climb timed out', v);
        return {
          stream: true,
          cruising: false,
          guidance: this.stationKeep(v, this.hoverPoint(v), -this.limits.climbSpeedMS),
          command: null,
        };
      }
      case 'cruise-out':
      case 'cruise-back': {
        if (!v.armed) return this.lost('disarmed in flight');
        const outbound = this.phaseName === 'cruise-out';
        const target = outbound ? this.plan.dropNeM : this.plan.returnNeM;
        const distM = Math.hypot(target[0] - v.positionNedM[0], target[1] - v.positionNedM[1]);
        if (distM <= this.plan.arrivalRadiusM) {
          if (this.phaseName === 'cruise-back') this.enter('landing', nowMs);
          else if (this.plan.releaseBy === 'land') {
            this.enter('landing', nowMs);
          } else this.enter('descend', nowMs);
        } else if (inPhaseMs > this.timing.phaseTimeoutMs)
          this.fail(`${this.phaseName} timed out ${distM.toFixed(0)} m out`, v);
        // The leg the step began in, even when it has just arrived.
        return outbound ? this.cruiseOut : this.cruiseBack;
      }
      case 'descend': {
        if (!v.armed) return this.lost('disarmed in flight');
        if (altM <= this.plan.releaseAltM + 0.2) this.enter('release', nowMs);
        else if (inPhaseMs > this.timing.phaseTimeoutMs) this.fail('descent timed out', v);
        return {
          stream: true,
          cruising: false,
          guidance: this.stationKeep(v, this.plan.dropNeM, this.limits.descentSpeedMS),
          command: null,
        };
      }
      case 'release': {
        if (!v.armed) return this.lost('disarmed in flight');
        if (inPhaseMs >= this.timing.releaseHoldMs) {
          this.emit('released', 'parcel lowered from the hover');
          this.leg = 'back';
          this.enter('climb', nowMs);
        }
        const hold = this.plan.releaseAltM - altM; // m to climb (positive) to stay at the release altitude
        return {
          stream: true,
          cruising: false,
          guidance: this.stationKeep(v, this.plan.dropNeM, -clamp(hold, -0.5, 0.5)),
          command: null,
        };
      }
      case 'landing': {
        if (!v.armed && v.landed) {
          if (this.leg === 'out') {
            // Landed at the drop point to put the parcel down: take off again for the way back.
            this.emit('released', 'parcel put down on landing');
            this.leg = 'back';
            this.enter('landed-release', nowMs);
            return quiet;
          }
          this.finish(this.finalOutcomeOnLanding, this.finalOutcomeOnLanding === 'delivered' ? '' : this.failureReason);
          return quiet;
        }
        if (inPhaseMs > this.timing.phaseTimeoutMs) this.fail('landing timed out', v);
        return withCommand(quiet, this.issue({ kind: 'land' }, v.modeName !== 'AUTO.LAND'));
      }
      case 'landed-release':
        if (inPhaseMs >= this.timing.releaseHoldMs) this.enter('warmup', nowMs);
        return quiet;
      case 'failsafe': {
        if (!v.armed && v.landed) {
          this.finish(this.failsafeOutcome, this.failureReason);
          return quiet;
        }
        const command = this.failsafeCommand ?? { kind: 'land' as const };
        const wanted = command.kind === 'hold' ? 'AUTO.LOITER' : command.kind === 'return' ? 'AUTO.RTL' : 'AUTO.LAND';
        // Stop streaming: if the command cannot get through, PX4's offboard-loss failsafe takes over.
        return withCommand(quiet, this.issue(command, v.modeName !== wanted));
      }
    }
  }

  private preflightProblem(v: MissionVehicleView): string | null {
    if (!v.positionValid) return 'no valid position estimate';
    if (Number.isNaN(v.batteryRemaining)) return 'battery state unknown';
    if (v.batteryRemaining < this.limits.minBatteryToStart) {
      return `battery ${(v.batteryRemaining * 100).toFixed(0)} % below ${(this.limits.minBatteryToStart * 100).toFixed(0)} %`;
    }
    if (v.armed && this.leg === 'out') return 'vehicle already armed';
    return null;
  }

  /** Issue `command` when wanted, none is in flight, and the last refusal is a pause old. */
  private issue(command: MissionCommand, wanted: boolean): MissionCommand | null {
    if (!wanted || this.pending !== null) return null;
    if (this.nowMs - this.refusedAtMs < this.timing.commandRetryPauseMs) return null;
    this.pending = command;
    return command;
  }

  /** Velocity that holds a horizontal point (P control, capped) with the given vertical speed (NED, m/s). */
  private stationKeep(v: MissionVehicleView, over: readonly [number, number], downMS: number): Guidance {
    const gain = 0.5;
    let vn = gain * (over[0] - v.positionNedM[0]);
    let ve = gain * (over[1] - v.positionNedM[1]);
    const speed = Math.hypot(vn, ve);
    const cap = this.limits.stationKeepSpeedMS;
    if (speed > cap) {
      vn *= cap / speed;
      ve *= cap / speed;
    }
    return { kind: 'velocity', velocityNedMS: [vn, ve, downMS] };
  }

  private hoverPointNe: readonly [number, number] = [0, 0];

  /** The point to climb over: where the vehicle was when the climb began. */
  private hoverPoint(v: MissionVehicleView): readonly [number, number] {
    if (Number.isNaN(this.hoverPointNe[0])) this.hoverPointNe = [v.positionNedM[0], v.positionNedM[1]];
    return this.hoverPointNe;
  }

  private belowCruise(v: MissionVehicleView): boolean {
    return -v.positionNedM[2] < this.plan.cruiseAltM - 0.5;
  }

  private fail(reason: string, v: MissionVehicleView): void {
    this.failureReason = reason;
    this.failsafeOutcome = 'failed';
    this.failsafeCommand = v.armed ? { kind: 'land' } : null;
    this.enter('failsafe', this.nowMs);
  }

  private lost(reason: string): Ask {
    this.failureReason = reason;
    this.failsafeCommand = { kind: 'land' };
    this.failsafeOutcome = 'failed';
    this.enter('failsafe', this.nowMs);
    return QUIET;
  }

  private finish(outcome: MissionOutcome, reason: string): void {
    this.finalOutcome = outcome;
    if (reason) this.failureReason = reason;
    this.pending = null;
    this.enter('done', this.nowMs);
    this.events.push({ kind: 'outcome', phase: 'done', timeMs: this.nowMs, outcome, detail: reason || undefined });
  }

  private enter(phase: MissionPhase, nowMs: number): void {
    if (phase === this.phaseName) return;
    this.phaseName = phase;
    this.phaseStartMs = nowMs;
    this.pending = null;
    this.refusedAtMs = Number.NEGATIVE_INFINITY;
    if (phase === 'climb' || phase === 'takeoff') this.hoverPointNe = [Number.NaN, Number.NaN];
    this.emit('phase', phase);
  }

  private emit(kind: MissionEvent['kind'], detail?: string): void {
    this.events.push({ kind, phase: this.phaseName, timeMs: this.nowMs, detail });
  }

  /** The last command outcome (for reports). */
  get lastCommandOutcome(): CommandOutcome | null {
    return this.lastOutcome;
  }
}

/** The ask with a command to send now; the ask itself when there is none (nothing made for a steady step). */
function withCommand(ask: Ask, command: MissionCommand | null): Ask {
  return command === null ? ask : { ...ask, command };
}

function severity(c: MissionCommand): number {
  return c.kind === 'hold' ? 1 : c.kind === 'return' ? 2 : c.kind === 'land' ? 3 : 0;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
