/**
 * One control tick: state -> mission -> observation -> policy -> safety filter -> setpoint. The loop owns no timer
 * (the driver calls `tick(nowUs)`); it talks to the autopilot, the policy and the shield only through ports, so tests
 * give it fakes or real ones alike. Failures inside the loop are values: a policy fault becomes the filter's
 * brake-to-hover, a monitor escalation becomes a mission failsafe, a stall stops the stream.
 */
import type { Airspace, Ned } from '../../shared/geo/index.js';
import { EMPTY_AIRSPACE } from '../../shared/geo/index.js';
import type { Px4ModeName } from '../../shared/mavlink/index.js';
import {
  actionToVelocityNedMS,
  buildObservation,
  OBSERVATION_SIZE,
  velocityNedMSToAction,
} from '../../shared/policy/index.js';
import type { CommandResult, VehicleState, VelocitySetpoint } from '../link/index.js';
import type { DeliveryMission, MissionCommand, MissionOutput } from '../mission/index.js';
import type { PolicyOutcome, ShieldOutcome } from '../policy/index.js';
import type {
  MonitorAction,
  Mutable,
  Neighbour,
  PolicyProposal,
  SafetyDecision,
  SafetyFilter,
  SafetyInput,
} from '../safety/index.js';
import type { ControlConfig } from './config.js';
import {
  type MutableObservationInput,
  missionViewInto,
  newMissionView,
  newSafetyVehicle,
  observationInputInto,
  safetyPhase,
  safetyVehicleInto,
} from './stages.js';
import { LoopStats, type TickSample } from './stats.js';

/** The autopilot as the loop uses it (AutopilotLink implements it). */
export interface AutopilotPort {
  readonly isUp: boolean;
  snapshot(into?: VehicleState): VehicleState;
  sendVelocitySetpoint(setpoint: VelocitySetpoint): boolean;
  arm(): Promise<CommandResult>;
  disarm(): Promise<CommandResult>;
  setMode(mode: Px4ModeName): Promise<CommandResult>;
  hold(): Promise<CommandResult>;
  land(): Promise<CommandResult>;
  returnToLaunch(): Promise<CommandResult>;
}

export interface PolicyPort {
  runWithDeadline(observation: ArrayLike<number>, deadlineMs: number): Promise<PolicyOutcome>;
}

export interface ShieldPort {
  costWithDeadline(
    observation: ArrayLike<number>,
    action: ArrayLike<number>,
    deadlineMs: number,
  ): Promise<ShieldOutcome>;
}

export interface TickReport {
  readonly timeUs: number;
  readonly phase: MissionOutput['phase'];
  /** A setpoint went to the autopilot this tick. */
  readonly sent: boolean;
  readonly decision: SafetyDecision;
  /** The policy ran this tick (cruise legs only). */
  readonly policy: PolicyOutcome | null;
  readonly events: MissionOutput['events'];
  /**
   * On policy ticks: the observation the policy saw (the loop's own buffer: copy it to keep it past this tick) and the
   * horizontal distance to the leg's goal (m). Null otherwise.
   */
  readonly observation: Float32Array | null;
  readonly goalDistanceM: number;
}

/** Not frozen, like ZERO_NED: it shares the hidden class of computed vectors (see onboard/safety/vec.ts). */
const ZERO: Ned = { n: 0, e: 0, d: 0 };
/** The proposal of a tick whose observation or inference failed. */
const FAULT_PROPOSAL: PolicyProposal = Object.freeze({ action: null, velocityNedMS: null, fault: true });

const IDLE_OUTPUT: MissionOutput = Object.freeze({
  phase: 'idle',
  stream: false,
  cruising: false,
  guidance: { kind: 'hold' as const },
  command: null,
  events: [],
});

export class ControlLoop {
  readonly stats = new LoopStats();
  private mission: DeliveryMission | null = null;
  private airspace: Airspace = EMPTY_AIRSPACE;
  private neighbours: readonly Neighbour[] = [];
  private emergencyStop = false;
  private operatorClear = false;
  private stalled = false;
  private lastTickUs = Number.NaN;
  private readonly state: VehicleState;
  private readonly observation = new Float32Array(OBSERVATION_SIZE);
  private readonly missionView = newMissionView();
  /** The observation's input and goal, filled in place each policy tick (buildObservation keeps neither). */
  private readonly goalNedM: { n: number; e: number; d: number } = { n: 0, e: 0, d: 0 };
  private readonly observationInput: MutableObservationInput;
  private readonly scriptedAction = new Float32Array(3);
  private readonly limits: { maxHorizontalMS: number; maxUpMS: number; maxDownMS: number };
  /**
   * The filter's input, the proposal, the setpoint and the stats sample, rewritten every tick: the filter, the
   * setpoint sender and the stats read them during the call and keep nothing of them (the decision and the report
   * are new objects).
   */
  private readonly safetyVehicle = newSafetyVehicle();
  private readonly proposalVelocity = { n: 0, e: 0, d: 0 };
  private readonly proposal: Mutable<PolicyProposal> = { action: null, velocityNedMS: this.proposalVelocity };
  private readonly velocityTuple: [number, number, number] = [0, 0, 0];
  private readonly shieldVerdict = { score: 0 };
  private readonly linkHealth = { autopilotHeartbeatAgeMs: 0, groundLinkUp: true };
  private readonly filterInput: Mutable<SafetyInput>;
  private readonly setpoint: { velocityNedMS: Ned } = { velocityNedMS: ZERO };
  private readonly setpointWithYaw: { velocityNedMS: Ned; yawRad: number } = { velocityNedMS: ZERO, yawRad: 0 };
  private readonly sample: Mutable<TickSample>;
  private lastMonitorAction: MonitorAction = 'none';
  private commandsInFlight = 0;

  constructor(
    private readonly autopilot: AutopilotPort,
    private readonly policy: PolicyPort,
    private readonly filter: SafetyFilter,
    private readonly config: ControlConfig,
    private readonly shield: ShieldPort | null = null,
    /**
     * The runtime's clock (us, the time base of `tick`'s argument), read again after the tick's awaits: an event-loop
     * stall that begins while a tick waits for its inference is caught before that tick sends. Without it only the
     * gap between tick starts is checked.
     */
    private readonly clockUs: () => number = () => Number.NaN,
  ) {
    this.state = autopilot.snapshot();
    this.observationInput = {
      positionNedM: ZERO,
      velocityNedMS: ZERO,
      rollRad: 0,
      pitchRad: 0,
      yawRad: 0,
      goalNedM: this.goalNedM,
      altitudeAboveGroundM: 0,
      windEstimateNedMS: null,
      airspace: this.airspace,
      neighbours: this.neighbours,
      batteryRemainingFraction: 0,
    };
    this.filterInput = {
      timeUs: 0,
      vehicle: this.safetyVehicle,
      policy: this.proposal,
      airspace: this.airspace,
      neighbours: this.neighbours,
      shield: null,
      link: this.linkHealth,
      emergencyStop: false,
      phase: 'ground',
      operatorClear: false,
    };
    this.sample = {
      missionUs: 0,
      observationUs: 0,
      inferenceUs: 0,
      filterUs: 0,
      sendUs: 0,
      totalUs: 0,
      decision: null as unknown as SafetyDecision,
      policyRan: false,
      policyLatencyUs: 0,
      sent: false,
    };
    this.limits = {
      maxHorizontalMS: config.maxHorizontalSpeedMS,
      maxUpMS: config.maxUpSpeedMS,
      maxDownMS: config.maxDownSpeedMS,
    };
  }

  /** Fly this mission from the next tick on (replaces a finished one). */
  setMission(mission: DeliveryMission, nowMs: number): void {
    this.mission = mission;
    this.stalled = false;
    mission.start(nowMs);
  }

  get currentMission(): DeliveryMission | null {
    return this.mission;
  }

  setAirspace(airspace: Airspace): void {
    this.airspace = airspace;
  }

  getAirspace(): Airspace {
    return this.airspace;
  }

  setNeighbours(neighbours: readonly Neighbour[]): void {
    this.neighbours = neighbours;
  }

  getNeighbours(): readonly Neighbour[] {
    return this.neighbours;
  }

  /** Emergency stop: land now, whatever the mission is doing. */
  triggerEmergencyStop(): void {
    this.emergencyStop = true;
    this.mission?.request('land', 'operator');
  }

  /** Operator clears a latched monitor action (e.g. after a transient). */
  clearMonitor(): void {
    this.operatorClear = true;
  }

  async tick(nowUs: number): Promise<TickReport> {
    const tStart = this.stats.clockUs();
    const nowMs = nowUs / 1000;
    this.detectStall(nowUs);
    this.autopilot.snapshot(this.state);
    const mission = this.mission;
    const out = mission ? mission.step(nowMs, missionViewInto(this.missionView, this.state, nowMs)) : IDLE_OUTPUT;
    if (out.command) this.dispatch(out.command);

    // Propose a velocity: the policy on cruise legs, the mission's scripted velocity otherwise.
    const tObs = this.stats.clockUs();
    let proposal: PolicyProposal;
    let policyOutcome: PolicyOutcome | null = null;
    let shieldScore: number | null = null;
    let tInfer = tObs;
    const guidance = out.guidance;
    if (guidance.kind === 'policy') {
      const g = guidance.goalNedM;
      const goal = this.goalNedM;
      goal.n = g[0];
      goal.e = g[1];
      goal.d = g[2];
      const input = observationInputInto(this.observationInput, this.state, goal, this.airspace, this.neighbours, null);
      const finite = buildObservation(input, this.observation);
      tInfer = this.stats.clockUs();
      if (!finite) {
        proposal = FAULT_PROPOSAL;
      } else {
        policyOutcome = await this.policy.runWithDeadline(this.observation, this.config.policyDeadlineMs);
        if (policyOutcome.ok) {
          proposal = this.propose(
            policyOutcome.action,
            actionToVelocityNedMS(policyOutcome.action, this.limits, this.velocityTuple),
          );
          if (this.shield) {
            const s = await this.shield.costWithDeadline(
              this.observation,
              policyOutcome.action,
              this.config.shieldDeadlineMs,
            );
            shieldScore = s.ok ? s.cost : Number.NaN;
          }
        } else {
          proposal = FAULT_PROPOSAL;
        }
      }
    } else {
      tInfer = this.stats.clockUs();
      const v = guidance.kind === 'velocity' ? guidance.velocityNedMS : ([0, 0, 0] as const);
      velocityNedMSToAction(v, this.limits, this.scriptedAction);
      proposal = this.propose(this.scriptedAction, v);
    }

    // The inference may have been waiting out a stall (its answer comes back after the loop unblocks): its setpoint
    // would be the first of a resumed stream, which would take PX4 out of its offboard-loss failsafe.
    this.detectStallWithin(nowUs);

    const tFilter = this.stats.clockUs();
    const input = this.filterInput;
    input.timeUs = nowUs;
    safetyVehicleInto(this.safetyVehicle, this.state, nowMs);
    input.policy = proposal;
    input.airspace = this.airspace;
    input.neighbours = this.neighbours;
    if (shieldScore === null) input.shield = null;
    else {
      this.shieldVerdict.score = shieldScore;
      input.shield = this.shieldVerdict;
    }
    this.linkHealth.autopilotHeartbeatAgeMs = this.state.heartbeatAgeMs;
    input.emergencyStop = this.emergencyStop;
    input.phase = safetyPhase(out.phase);
    input.operatorClear = this.operatorClear;
    const decision = this.filter.update(input);
    this.operatorClear = false;
    this.applyMonitor(decision);

    // Stream only while the mission wants it, the monitor allows it, and no stall has been declared.
    const tSend = this.stats.clockUs();
    const stream =
      out.stream && !this.stalled && this.autopilot.isUp && decision.action !== 'return' && decision.action !== 'land';
    let sent = false;
    if (stream) {
      let setpoint: VelocitySetpoint;
      if (decision.yawRad === null) {
        setpoint = this.setpoint;
        this.setpoint.velocityNedMS = decision.velocityNedMS;
      } else {
        setpoint = this.setpointWithYaw;
        this.setpointWithYaw.velocityNedMS = decision.velocityNedMS;
        this.setpointWithYaw.yawRad = decision.yawRad;
      }
      sent = this.autopilot.sendVelocitySetpoint(setpoint);
    }
    const tEnd = this.stats.clockUs();
    const sample = this.sample;
    sample.missionUs = tObs - tStart;
    sample.observationUs = tInfer - tObs;
    sample.inferenceUs = tFilter - tInfer;
    sample.filterUs = tSend - tFilter;
    sample.sendUs = tEnd - tSend;
    sample.totalUs = tEnd - tStart;
    sample.decision = decision;
    sample.policyRan = guidance.kind === 'policy';
    sample.policyLatencyUs = policyOutcome?.latencyUs ?? Number.NaN;
    sample.sent = sent;
    this.stats.recordTick(sample);
    sample.decision = null as unknown as SafetyDecision;
    let goalDistanceM = Number.NaN;
    if (guidance.kind === 'policy') {
      goalDistanceM = Math.hypot(
        guidance.goalNedM[0] - this.state.positionNedM.n,
        guidance.goalNedM[1] - this.state.positionNedM.e,
      );
    }
    return {
      timeUs: nowUs,
      phase: out.phase,
      sent,
      decision,
      policy: policyOutcome,
      events: out.events,
      observation: guidance.kind === 'policy' ? this.observation : null,
      goalDistanceM,
    };
  }

  /** The loop's own proposal record, rewritten: `action` and the velocity (NED m/s) it maps to. */
  private propose(action: ArrayLike<number>, velocity: readonly [number, number, number]): PolicyProposal {
    const v = this.proposalVelocity;
    v.n = velocity[0];
    v.e = velocity[1];
    v.d = velocity[2];
    this.proposal.action = action;
    return this.proposal;
  }

  /** A tick gap longer than the threshold means the event loop stalled: PX4 may already have failed safe. */
  private detectStall(nowUs: number): void {
    const gapMs = (nowUs - this.lastTickUs) / 1000;
    this.lastTickUs = nowUs;
    if (gapMs > this.config.stallThresholdMs) this.declareStall(`no tick for ${Math.round(gapMs)} ms`);
  }

  /** The same check inside a tick, from its start to now (after its awaits). */
  private detectStallWithin(tickUs: number): void {
    const nowUs = this.clockUs();
    const tookMs = (nowUs - tickUs) / 1000;
    if (!(tookMs > this.config.stallThresholdMs)) return;
    // The loop was alive again at nowUs: the next tick measures its gap from here, and does not count this twice.
    this.lastTickUs = nowUs;
    this.declareStall(`a tick took ${Math.round(tookMs)} ms`);
  }

  private declareStall(detail: string): void {
    this.stats.stalls++;
    const mission = this.mission;
    if (mission?.airborne || (mission && this.state.armed && mission.outcome === null)) {
      this.stalled = true;
      mission.request(this.config.stallAction, 'monitor', `event-loop stall: ${detail}`);
    }
  }

  private applyMonitor(decision: SafetyDecision): void {
    const action = decision.action;
    if (action === this.lastMonitorAction) return;
    this.lastMonitorAction = action;
    // Hold is flown by the filter's own hover setpoint; return and land hand the vehicle to PX4.
    if ((action === 'return' || action === 'land') && this.mission && this.mission.outcome === null) {
      this.mission.request(action, 'monitor', decision.monitor.activeRules.join(', ') || undefined);
    }
  }

  private dispatch(command: MissionCommand): void {
    const mission = this.mission;
    const ap = this.autopilot;
    let pending: Promise<CommandResult>;
    switch (command.kind) {
      case 'arm':
        pending = ap.arm();
        break;
      case 'disarm':
        pending = ap.disarm();
        break;
      case 'set-mode':
        pending = ap.setMode(command.mode);
        break;
      case 'hold':
        pending = ap.hold();
        break;
      case 'land':
        pending = ap.land();
        break;
      case 'return':
        pending = ap.returnToLaunch();
        break;
    }
    this.commandsInFlight++;
    pending.then(
      (r) => {
        this.commandsInFlight--;
        mission?.commandDone(
          r.ok ? { command: command.kind, ok: true } : { command: command.kind, ok: false, reason: r.reason },
        );
      },
      (err: unknown) => {
        this.commandsInFlight--;
        mission?.commandDone({ command: command.kind, ok: false, reason: String(err) });
      },
    );
  }

  get pendingCommands(): number {
    return this.commandsInFlight;
  }

  /** The zero setpoint, for drivers that must send something outside a tick. */
  static readonly ZERO_VELOCITY = ZERO;
}
