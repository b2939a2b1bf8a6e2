/**
 * The PX4 emulation of one vehicle: commander (arming and its checks, user mode intention, auto-disarm), offboard
 * monitor, failsafe and navigator, as pure logic with time passed in. The I/O shell (link-shell.ts) feeds it
 * COMMAND_LONGs and setpoints and reads its state for telemetry; the fleet feeds it the vehicle state each tick and
 * applies its control output to the dynamics. Nothing here touches sockets, timers or the clock.
 */
import { FORCE_DISARM_MAGIC, MAV_CMD, MAV_RESULT } from '../../shared/mavlink/index.js';
import { type BatteryWarning, batteryWarningFor, Failsafe, type FailsafeAction, failsafeNavState } from './failsafe.js';
import { FLOWN_MODES, type NavState, NEEDS_POSITION, navStateFromSetMode, PREVENTS_ARMING } from './modes.js';
import { type Behaviour, Navigator, type NavOutput, type NavSense } from './navigator.js';
import { OffboardMonitor, type OffboardSetpoint } from './offboard.js';
import type { ParamStore } from './params.js';

/** What the commander reads from the vehicle each tick. */
export interface VehicleSense extends NavSense {
  /** 0..1 */
  readonly batteryRemaining: number;
  readonly batteryFailed: boolean;
  /** False while a GPS-loss fault is active. */
  readonly gpsOk: boolean;
}

export interface ControlOutput {
  readonly velocityNedMS: readonly [number, number, number];
  /** NaN = hold heading. */
  readonly yawRad: number;
  readonly motorsOn: boolean;
}

/** MAV_LANDED_STATE */
export const LANDED_STATE = { UNDEFINED: 0, ON_GROUND: 1, IN_AIR: 2, TAKEOFF: 3, LANDING: 4 } as const;
/** MAV_STATE */
export const MAV_STATE = { UNINIT: 0, STANDBY: 3, ACTIVE: 4, CRITICAL: 5 } as const;

export type CommanderEvent =
  | { readonly kind: 'armed'; readonly atS: number }
  | { readonly kind: 'disarmed'; readonly atS: number; readonly reason: string }
  | { readonly kind: 'mode'; readonly atS: number; readonly from: NavState; readonly to: NavState }
  | { readonly kind: 'failsafe'; readonly atS: number; readonly action: FailsafeAction; readonly cause: string | null };

export interface CommanderOptions {
  readonly params: ParamStore;
  /** Simulated seconds after boot before the estimator is ready and arming is allowed. */
  readonly estimatorReadyS: number;
}

export class Commander {
  readonly offboard = new OffboardMonitor();
  readonly failsafe = new Failsafe();
  private readonly navigator = new Navigator();
  private readonly params: ParamStore;
  private readonly estimatorReadyS: number;
  /** Events since the shell last drained them (transitions, for logs). */
  readonly events: CommanderEvent[] = [];

  armed = false;
  userMode: NavState = 'AUTO.LOITER';
  navState: NavState = 'AUTO.LOITER';
  behaviour: Behaviour = 'idle';
  battery: BatteryWarning = 0;
  /** Home altitude AMSL (for NAV_TAKEOFF param7), set by the fleet. */
  homeAltitudeAmslM: number | null = null;
  private modeAfterDisarm: NavState = 'AUTO.LOITER';
  private armedAtS = 0;
  private tookOff = false;
  private landedSinceS = Number.NaN;
  private takeoffAltM: number | undefined;
  private reenter = false;
  private lastSense: VehicleSense | null = null;
  private nowS = 0;
  private nav: NavOutput | null = null;

  constructor(options: CommanderOptions) {
    this.params = options.params;
    this.estimatorReadyS = options.estimatorReadyS;
  }

  get estimatorReady(): boolean {
    return this.nowS >= this.estimatorReadyS;
  }

  get positionValid(): boolean {
    return this.estimatorReady && (this.lastSense?.gpsOk ?? true);
  }

  /** What the controller tracks now (POSITION_TARGET_LOCAL_NED), null before the first tick. */
  get target(): NavOutput['target'] | null {
    return this.nav?.target ?? null;
  }

  /** Why arming would be refused now in the user's mode; empty when it would be accepted. */
  armingBlockers(nowS = this.nowS, ignoreModeVeto = false): string[] {
    const out: string[] = [];
    const sense = this.lastSense;
    if (nowS < this.estimatorReadyS) out.push('estimator not ready');
    if (sense && !sense.gpsOk) out.push('no GPS position');
    if (sense?.batteryFailed) out.push('battery failed');
    else if (sense && this.batteryLevel(sense) >= 2) out.push('battery low');
    if (!ignoreModeVeto && PREVENTS_ARMING.has(this.userMode)) out.push(`arming not allowed in ${this.userMode}`);
    else if (!ignoreModeVeto && !FLOWN_MODES.has(this.userMode)) out.push(`${this.userMode} needs RC or a mission`);
    if (this.userMode === 'OFFBOARD' && !this.offboard.established(nowS)) out.push('no offboard setpoint stream');
    return out;
  }

  /**
   * Pre-arm checks pass (SYS_STATUS PREARM_CHECK health bit, HEARTBEAT STANDBY). Armed, PX4 keeps reporting the
   * checks but not the mode's own veto: the recording shows the bit set in AUTO.LAND, clear while offboard was lost.
   */
  get prearmOk(): boolean {
    return this.armingBlockers(this.nowS, this.armed).length === 0;
  }

  get landedState(): number {
    if (this.lastSense === null || this.lastSense.landed) return LANDED_STATE.ON_GROUND;
    if (this.navState === 'AUTO.TAKEOFF') return LANDED_STATE.TAKEOFF;
    if (this.navState === 'AUTO.LAND' || this.navState === 'DESCEND') return LANDED_STATE.LANDING;
    if (this.navState === 'AUTO.RTL' && this.navigator.phase === 'land') return LANDED_STATE.LANDING;
    return LANDED_STATE.IN_AIR;
  }

  get systemStatus(): number {
    if (this.armed)
      return this.failsafe.action === 'none' || this.failsafe.action === 'warn' ? MAV_STATE.ACTIVE : MAV_STATE.CRITICAL;
    return this.prearmOk ? MAV_STATE.STANDBY : MAV_STATE.UNINIT;
  }

  /** A SET_POSITION_TARGET_LOCAL_NED for this vehicle, already decoded. */
  handleSetpoint(setpoint: OffboardSetpoint, nowS: number): void {
    this.offboard.receive(setpoint, nowS);
  }

  /** A COMMAND_LONG for this vehicle's commander. Returns the MAV_RESULT to acknowledge with. */
  handleCommand(command: number, p: readonly number[], nowS: number): number {
    this.nowS = nowS;
    switch (command) {
      case MAV_CMD.COMPONENT_ARM_DISARM: {
        const action = Math.round(p[0]);
        const forced = Math.round(p[1]) === FORCE_DISARM_MAGIC;
        // PX4 runs the preflight checks for every external arm request, forced or not.
        if (action === 1) return this.arm(nowS) ? MAV_RESULT.ACCEPTED : MAV_RESULT.TEMPORARILY_REJECTED;
        if (action === 0) return this.disarm(nowS, forced) ? MAV_RESULT.ACCEPTED : MAV_RESULT.TEMPORARILY_REJECTED;
        return MAV_RESULT.UNSUPPORTED;
      }
      case MAV_CMD.NAV_TAKEOFF: {
        const homeAmsl = this.homeAltitudeAmslM;
        // param7 is an AMSL altitude; PX4 falls back to MIS_TAKEOFF_ALT when it is missing or below home.
        const alt = Number.isFinite(p[6]) && homeAmsl !== null && p[6] - homeAmsl > 1 ? p[6] - homeAmsl : undefined;
        if (!this.changeMode('AUTO.TAKEOFF', nowS, false)) return MAV_RESULT.TEMPORARILY_REJECTED;
        this.takeoffAltM = alt;
        this.reenter = true;
        return MAV_RESULT.ACCEPTED;
      }
      case MAV_CMD.NAV_LAND:
        return this.changeMode('AUTO.LAND', nowS, true) ? MAV_RESULT.ACCEPTED : MAV_RESULT.TEMPORARILY_REJECTED;
      case MAV_CMD.NAV_RETURN_TO_LAUNCH:
        return this.changeMode('AUTO.RTL', nowS, false) ? MAV_RESULT.ACCEPTED : MAV_RESULT.TEMPORARILY_REJECTED;
      case MAV_CMD.DO_SET_MODE: {
        const wanted = navStateFromSetMode(p[0], p[1], p[2]);
        if (wanted === null) return MAV_RESULT.ACCEPTED;
        if (wanted === 'unsupported') return MAV_RESULT.TEMPORARILY_REJECTED;
        return this.changeMode(wanted, nowS, wanted === 'AUTO.LAND')
          ? MAV_RESULT.ACCEPTED
          : MAV_RESULT.TEMPORARILY_REJECTED;
      }
      default:
        return MAV_RESULT.UNSUPPORTED;
    }
  }

  /** PX4's user mode intention: always allowed disarmed; armed, only into a mode that can run (LAND is forced). */
  changeMode(mode: NavState, nowS: number, force: boolean): boolean {
    if (this.armed && !force && !this.canRun(mode, nowS)) return false;
    if (mode !== this.userMode) this.reenter = true;
    this.userMode = mode;
    this.takeoffAltM = undefined;
    if (!PREVENTS_ARMING.has(mode)) this.modeAfterDisarm = mode;
    this.failsafe.onUserModeChange();
    return true;
  }

  private canRun(mode: NavState, nowS: number): boolean {
    if (!FLOWN_MODES.has(mode)) return false;
    if (NEEDS_POSITION.has(mode) && !this.positionValid) return false;
    if (mode === 'OFFBOARD' && !this.offboard.established(nowS)) return false;
    return true;
  }

  private arm(nowS: number): boolean {
    if (this.armed) return true;
    if (this.armingBlockers(nowS).length > 0) return false;
    this.armed = true;
    this.armedAtS = nowS;
    this.tookOff = false;
    this.landedSinceS = Number.NaN;
    this.battery = 0;
    this.reenter = true;
    this.events.push({ kind: 'armed', atS: nowS });
    return true;
  }

  private disarm(nowS: number, forced: boolean, reason = 'command'): boolean {
    if (!this.armed) return true;
    if (!forced && this.lastSense !== null && !this.lastSense.landed) return false;
    this.armed = false;
    this.failsafe.onDisarm();
    this.userMode = this.modeAfterDisarm;
    this.reenter = true;
    this.events.push({ kind: 'disarmed', atS: nowS, reason });
    return true;
  }

  private batteryLevel(sense: VehicleSense): BatteryWarning {
    if (sense.batteryFailed) return 4;
    const p = this.params;
    return batteryWarningFor(
      sense.batteryRemaining,
      p.get('BAT_LOW_THR'),
      p.get('BAT_CRIT_THR'),
      p.get('BAT_EMERGEN_THR'),
    );
  }

  /** One control tick at simulated time `nowS`: checks, failsafe, navigation. */
  update(nowS: number, dtS: number, sense: VehicleSense): ControlOutput {
    this.nowS = nowS;
    this.lastSense = sense;
    const level = this.batteryLevel(sense);
    // PX4 only lets the warning level rise while armed (a sagging voltage recovering must not cancel an RTL).
    this.battery = this.armed ? (Math.max(this.battery, level) as BatteryWarning) : level;
    if (this.armed) this.autoDisarm(nowS, sense);

    const before = this.failsafe.action;
    const action = this.failsafe.update({
      armed: this.armed,
      userMode: this.userMode,
      offboardLost: this.offboard.lost(nowS, this.params.get('COM_OF_LOSS_T')),
      battery: this.battery,
      positionValid: this.positionValid,
      comOblRcAct: this.params.get('COM_OBL_RC_ACT'),
      comLowBatAct: this.params.get('COM_LOW_BAT_ACT'),
    });
    if (action !== before) this.events.push({ kind: 'failsafe', atS: nowS, action, cause: this.failsafe.cause });
    if (action === 'disarm') this.disarm(nowS, true, 'failsafe');

    const navState = this.armed ? failsafeNavState(this.failsafe.action, this.userMode) : this.userMode;
    const behaviour = this.behaviourFor(navState, this.failsafe.action);
    if (navState !== this.navState) {
      this.events.push({ kind: 'mode', atS: nowS, from: this.navState, to: navState });
      this.navState = navState;
      this.reenter = true;
    }
    if (behaviour !== this.behaviour || this.reenter) {
      this.navigator.enter(behaviour, sense, this.params, this.takeoffAltM);
      this.behaviour = behaviour;
      this.reenter = false;
    }
    const nav = this.navigator.step(behaviour, sense, this.params, nowS, dtS, this.offboard.setpoint);
    this.nav = nav;
    if (nav.takeoffComplete && this.userMode === 'AUTO.TAKEOFF' && navState === 'AUTO.TAKEOFF') {
      // The navigator hands over to AUTO.LOITER at the takeoff point, as PX4 does after a takeoff.
      this.changeMode('AUTO.LOITER', nowS, true);
      this.navState = 'AUTO.LOITER';
      this.events.push({ kind: 'mode', atS: nowS, from: 'AUTO.TAKEOFF', to: 'AUTO.LOITER' });
      this.behaviour = 'hold';
      this.reenter = false;
    }
    return { velocityNedMS: nav.velocityNedMS, yawRad: nav.yawRad, motorsOn: this.armed && behaviour !== 'off' };
  }

  private autoDisarm(nowS: number, sense: VehicleSense): void {
    if (!sense.landed) {
      this.tookOff = true;
      this.landedSinceS = Number.NaN;
      return;
    }
    if (Number.isNaN(this.landedSinceS)) this.landedSinceS = nowS;
    const afterLanding = this.params.get('COM_DISARM_LAND');
    const preflight = this.params.get('COM_DISARM_PRFLT');
    if (this.tookOff && afterLanding >= 0 && nowS - this.landedSinceS >= afterLanding) {
      this.disarm(nowS, true, 'landed');
    } else if (!this.tookOff && preflight >= 0 && nowS - this.armedAtS >= preflight) {
      this.disarm(nowS, true, 'no takeoff after arming');
    }
  }

  private behaviourFor(navState: NavState, action: FailsafeAction): Behaviour {
    if (!this.armed) return 'idle';
    if (action.startsWith('fallback-')) return 'no-stick-descend';
    switch (navState) {
      case 'AUTO.TAKEOFF':
        return 'takeoff';
      case 'AUTO.LAND':
        return 'land';
      case 'DESCEND':
        return 'descend';
      case 'AUTO.RTL':
        return 'rtl';
      case 'OFFBOARD':
        return 'offboard';
      case 'TERMINATION':
        return 'off';
      default:
        return 'hold';
    }
  }
}
