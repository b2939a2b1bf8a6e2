/**
 * The failsafe table, after PX4's commander/failsafe: a few rules, each a condition with an action, and the most
 * severe active action wins (None < Warn < Fallback* < Hold < RTL < Land < Descend < Disarm < Terminate). Actions
 * from "fallback" rules clear when their condition clears; the others latch until the user changes mode or the
 * vehicle disarms, as PX4's ClearCondition::OnModeChangeOrDisarm. Pure: time and state are passed in.
 */
import type { NavState } from './modes.js';

export type FailsafeAction =
  | 'none'
  | 'warn'
  | 'fallback-posctl'
  | 'fallback-altctl'
  | 'fallback-stabilized'
  | 'hold'
  | 'rtl'
  | 'land'
  | 'descend'
  | 'disarm'
  | 'terminate';

const SEVERITY: Record<FailsafeAction, number> = {
  none: 0,
  warn: 1,
  'fallback-posctl': 2,
  'fallback-altctl': 3,
  'fallback-stabilized': 4,
  hold: 5,
  rtl: 6,
  land: 7,
  descend: 8,
  disarm: 9,
  terminate: 10,
};

export const moreSevere = (a: FailsafeAction, b: FailsafeAction): FailsafeAction =>
  SEVERITY[a] >= SEVERITY[b] ? a : b;

/** Battery warning levels as PX4's battery_status.warning: none, low, critical, emergency (and failed). */
export type BatteryWarning = 0 | 1 | 2 | 3 | 4;

export const BATTERY_WARNING_NAME = ['none', 'low', 'critical', 'emergency', 'failed'] as const;

/** Level for a remaining fraction per BAT_LOW_THR / BAT_CRIT_THR / BAT_EMERGEN_THR. */
export function batteryWarningFor(remaining: number, low: number, crit: number, emergency: number): BatteryWarning {
  if (remaining <= emergency) return 3;
  if (remaining <= crit) return 2;
  if (remaining <= low) return 1;
  return 0;
}

/** COM_OBL_RC_ACT to an action (no RC: the fallback modes descend, see navigator). */
export function offboardLossAction(comOblRcAct: number): FailsafeAction {
  switch (comOblRcAct) {
    case 1:
      return 'fallback-altctl';
    case 2:
      return 'fallback-stabilized';
    case 3:
      return 'rtl';
    case 4:
      return 'land';
    case 5:
      return 'hold';
    case 6:
      return 'terminate';
    case 7:
      return 'disarm';
    default:
      return 'fallback-posctl';
  }
}

/** COM_LOW_BAT_ACT at a warning level: 0 warn only; 2 land at critical; 3 RTL at critical, land at emergency. */
export function batteryAction(level: BatteryWarning, comLowBatAct: number): FailsafeAction {
  if (level === 0) return 'none';
  if (level === 1 || comLowBatAct === 0 || comLowBatAct === 1) return 'warn';
  if (level >= 3) return 'land';
  return comLowBatAct === 2 ? 'land' : 'rtl';
}

export interface FailsafeInputs {
  readonly armed: boolean;
  readonly userMode: NavState;
  readonly offboardLost: boolean;
  readonly battery: BatteryWarning;
  readonly positionValid: boolean;
  readonly comOblRcAct: number;
  readonly comLowBatAct: number;
}

type Rule = 'offboard' | 'battery' | 'position';
interface Latched {
  readonly action: FailsafeAction;
  readonly clearOnConditionClear: boolean;
}

/** Failsafe state across ticks: which rules have fired, and what the vehicle must do now. */
export class Failsafe {
  private readonly latched = new Map<Rule, Latched>();
  /** Battery level already acted on, so a takeover after RTL is not undone until the level worsens. */
  private batteryHandled: BatteryWarning = 0;
  private current: FailsafeAction = 'none';

  get action(): FailsafeAction {
    return this.current;
  }

  /** Which rule drives the current action (for logs and status). */
  get cause(): Rule | null {
    for (const [rule, l] of this.latched) if (l.action === this.current && this.current !== 'none') return rule;
    return null;
  }

  update(inp: FailsafeInputs): FailsafeAction {
    if (!inp.armed) {
      this.latched.clear();
      this.current = 'none';
      return this.current;
    }
    const offboardCondition = inp.userMode === 'OFFBOARD' && inp.offboardLost;
    this.apply('offboard', offboardCondition, offboardLossAction(inp.comOblRcAct));

    const battery = inp.battery >= 4 ? 3 : inp.battery;
    if (battery > this.batteryHandled) {
      const action = batteryAction(battery, inp.comLowBatAct);
      this.latched.set('battery', { action, clearOnConditionClear: false });
      this.batteryHandled = battery;
    }

    const positionCondition = !inp.positionValid && isPositionMode(inp.userMode);
    this.apply('position', positionCondition, 'descend');

    let action: FailsafeAction = 'none';
    for (const l of this.latched.values()) action = moreSevere(action, l.action);
    // Without a position estimate, nothing that navigates can run: descend instead.
    if (!inp.positionValid && (action === 'rtl' || action === 'hold' || action === 'fallback-posctl'))
      action = 'descend';
    this.current = action;
    return action;
  }

  private apply(rule: Rule, condition: boolean, action: FailsafeAction): void {
    const existing = this.latched.get(rule);
    if (condition && existing === undefined) {
      const clearOnConditionClear = action.startsWith('fallback-') || rule === 'position';
      this.latched.set(rule, { action, clearOnConditionClear });
    } else if (!condition && existing?.clearOnConditionClear) {
      this.latched.delete(rule);
    }
  }

  /** The user selected a mode: latched actions give way (PX4 allows user takeover by default). */
  onUserModeChange(): void {
    for (const [rule, l] of this.latched) if (!l.clearOnConditionClear) this.latched.delete(rule);
  }

  onDisarm(): void {
    this.latched.clear();
    this.batteryHandled = 0;
    this.current = 'none';
  }
}

function isPositionMode(mode: NavState): boolean {
  return (
    mode === 'POSCTL' ||
    mode === 'OFFBOARD' ||
    mode === 'AUTO.LOITER' ||
    mode === 'AUTO.RTL' ||
    mode === 'AUTO.TAKEOFF' ||
    mode === 'AUTO.MISSION'
  );
}

/** What the vehicle shows and flies for a failsafe action, given the user's mode. */
export function failsafeNavState(action: FailsafeAction, userMode: NavState): NavState {
  switch (action) {
    case 'fallback-posctl':
      return 'POSCTL';
    case 'fallback-altctl':
      return 'ALTCTL';
    case 'fallback-stabilized':
      return 'STABILIZED';
    case 'hold':
      return 'AUTO.LOITER';
    case 'rtl':
      return 'AUTO.RTL';
    case 'land':
      return 'AUTO.LAND';
    case 'descend':
      return 'DESCEND';
    case 'terminate':
      return 'TERMINATION';
    default:
      return userMode;
  }
}
