/**
 * Layer 5, runtime monitor: evaluates the rule table (monitor-rules.ts) each tick with time passed in, as PX4's
 * failsafe `update(time_us, state)` does. Ladder: none < warn < hold < return < land; the most severe active rule
 * wins. Hold and above latch: once the vehicle is told to land it is not told to cruise again because the cause
 * cleared, until an explicit reset (operator clear, or landed and disarmed). A latched level can still escalate.
 */
import { BARRIER_KINDS, type BarrierKind } from './barrier-geometry.js';
import type { SafetyConfig } from './config.js';
import {
  emptyMonitorInput,
  type MonitorInput,
  type MonitorRule,
  type MonitorRuleName,
  type MonitorView,
  monitorRules,
} from './monitor-rules.js';
import { SlidingWindow, type WindowStats } from './monitor-window.js';
import { actionSeverity, type Intervention, MONITOR_ACTIONS, type MonitorAction, type Mutable } from './types.js';

/** The least severe action that latches. */
export const LATCH_FROM: MonitorAction = 'hold';

export interface MonitorTransition {
  readonly timeUs: number;
  readonly from: MonitorAction;
  readonly to: MonitorAction;
  /** The active rules at the new level (empty when a reset or a release caused it). */
  readonly rules: readonly MonitorRuleName[];
  readonly cause: 'escalation' | 'release' | 'reset';
}

export interface MonitorCounters {
  readonly policyFaultStreak: number;
  readonly shieldVetoStreak: number;
  readonly barrierFallbackStreak: number;
  /** Breaches begun since start (rising edges), per barrier kind. */
  readonly breachEvents: Readonly<Record<BarrierKind, number>>;
  readonly window: WindowStats;
}

export interface MonitorReport {
  readonly action: MonitorAction;
  /** The latched floor under the action ('none' when nothing latched). */
  readonly latchedAction: MonitorAction;
  /** Active rules, most severe first. */
  readonly activeRules: readonly MonitorRuleName[];
  /** Rules that fired this tick. */
  readonly fired: readonly MonitorRuleName[];
  /** Rules that let go this tick. */
  readonly released: readonly MonitorRuleName[];
  /** Set on the tick the action changes. */
  readonly transition: MonitorTransition | null;
  /** Set on the tick a latch is cleared. */
  readonly reset: 'operator' | 'disarmed' | null;
  readonly counters: MonitorCounters;
}

interface RuleState {
  trueSinceUs: number | null;
  falseSinceUs: number | null;
  active: boolean;
}

const maxAction = (a: MonitorAction, b: MonitorAction): MonitorAction =>
  actionSeverity(a) >= actionSeverity(b) ? a : b;

const NO_RULES: readonly MonitorRuleName[] = Object.freeze([]);
const SEVERITIES = MONITOR_ACTIONS.length;

/** The view the rules read, filled in place every tick (rules read it during update and keep nothing). */
function emptyView(windowMs: number): Mutable<MonitorView> {
  return {
    ...emptyMonitorInput(),
    airborne: false,
    policyFaultStreak: 0,
    shieldVetoStreak: 0,
    barrierFallbackStreak: 0,
    window: new SlidingWindow(windowMs).stats(0),
  };
}

export class RuntimeMonitor {
  readonly rules: readonly MonitorRule[];
  private readonly states: RuleState[];
  private readonly window: SlidingWindow;
  private readonly view: Mutable<MonitorView>;
  /** Each rule's place on the ladder (index into MONITOR_ACTIONS). */
  private readonly ruleSeverity: Int8Array;
  /** The active rules of the last report, most severe first, and the list handed out for them (never mutated). */
  private readonly activeOrder: Int32Array;
  private activeCount = 0;
  private activeNames: readonly MonitorRuleName[] = NO_RULES;
  private latched: MonitorAction = 'none';
  private action: MonitorAction = 'none';
  private policyFaultStreak = 0;
  private shieldVetoStreak = 0;
  private barrierFallbackStreak = 0;
  private wasNearMiss = false;
  /** Kinds breached on the last tick, bit i for BARRIER_KINDS[i]. */
  private breachedBefore = 0;
  private readonly breachEvents: Record<BarrierKind, number> = {
    fence: 0,
    ceiling: 0,
    zone: 0,
    floor: 0,
    separation: 0,
  };
  /** A copy of breachEvents for the reports, made again only when a count changes. */
  private breachEventsReport: Readonly<Record<BarrierKind, number>> = Object.freeze({ ...this.breachEvents });

  constructor(
    private readonly cfg: SafetyConfig,
    rules: readonly MonitorRule[] = monitorRules(cfg),
  ) {
    this.rules = rules;
    this.states = rules.map(() => ({ trueSinceUs: null, falseSinceUs: null, active: false }));
    this.window = new SlidingWindow(cfg.monitorWindowMs);
    this.view = emptyView(cfg.monitorWindowMs);
    this.ruleSeverity = Int8Array.from(rules, (r) => actionSeverity(r.action));
    this.activeOrder = new Int32Array(rules.length);
  }

  /** The action as of the last update. */
  get currentAction(): MonitorAction {
    return this.action;
  }

  /** One tick. `input.timeUs` must not go backwards (the filter sanitises it). */
  update(input: MonitorInput): MonitorReport {
    const t = input.timeUs;
    this.policyFaultStreak = input.policyFault ? this.policyFaultStreak + 1 : 0;
    this.shieldVetoStreak = input.shieldVeto ? this.shieldVetoStreak + 1 : 0;
    this.barrierFallbackStreak = input.barrierFallback ? this.barrierFallbackStreak + 1 : 0;
    for (const iv of input.interventions) this.window.addIntervention(t, iv.layer, iv.magnitudeMS);
    const nearMiss = input.nearMiss.length > 0;
    if (nearMiss && !this.wasNearMiss) this.window.addNearMiss(t);
    this.wasNearMiss = nearMiss;
    this.countBreaches(input.breached);

    const window = this.window.stats(t);
    const view = this.fillView(input, window);

    let fired: MonitorRuleName[] | null = null;
    let released: MonitorRuleName[] | null = null;
    let ruleSeverity = 0;
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      const s = this.states[i];
      let cond = false;
      try {
        cond = rule.when(view) === true;
      } catch {
        // A rule that cannot be evaluated on this input is treated as firing: fail closed.
        cond = true;
      }
      if (cond) {
        s.falseSinceUs = null;
        if (s.trueSinceUs === null) s.trueSinceUs = t;
        if (!s.active && t - s.trueSinceUs >= rule.holdOffMs * 1000) {
          s.active = true;
          if (fired === null) fired = [];
          fired.push(rule.name);
        }
      } else {
        s.trueSinceUs = null;
        if (s.active) {
          if (s.falseSinceUs === null) s.falseSinceUs = t;
          if (t - s.falseSinceUs >= rule.releaseMs * 1000) {
            s.active = false;
            s.falseSinceUs = null;
            if (released === null) released = [];
            released.push(rule.name);
          }
        }
      }
      if (s.active && this.ruleSeverity[i] > ruleSeverity) ruleSeverity = this.ruleSeverity[i];
    }
    const ruleLevel = MONITOR_ACTIONS[ruleSeverity];

    let reset: MonitorReport['reset'] = null;
    if (this.latched !== 'none') {
      if (input.operatorClear) reset = 'operator';
      else if (this.cfg.autoResetOnDisarm && input.landed && !input.armed) reset = 'disarmed';
      if (reset) this.latched = 'none';
    }
    if (actionSeverity(ruleLevel) >= actionSeverity(LATCH_FROM)) this.latched = maxAction(this.latched, ruleLevel);
    const next = maxAction(this.latched, ruleLevel);

    const activeRules = this.orderActive();
    let transition: MonitorTransition | null = null;
    if (next !== this.action) {
      const up = actionSeverity(next) > actionSeverity(this.action);
      const nextRules: MonitorRuleName[] = [];
      for (let j = 0; j < this.activeCount; j++) {
        const rule = this.rules[this.activeOrder[j]];
        if (rule.action === next) nextRules.push(rule.name);
      }
      transition = {
        timeUs: t,
        from: this.action,
        to: next,
        rules: nextRules,
        cause: up ? 'escalation' : reset ? 'reset' : 'release',
      };
      this.action = next;
    }
    return {
      action: next,
      latchedAction: this.latched,
      activeRules,
      fired: fired ?? NO_RULES,
      released: released ?? NO_RULES,
      transition,
      reset,
      counters: {
        policyFaultStreak: this.policyFaultStreak,
        shieldVetoStreak: this.shieldVetoStreak,
        barrierFallbackStreak: this.barrierFallbackStreak,
        breachEvents: this.breachEventsReport,
        window,
      },
    };
  }

  /** Count the rising edge of each breached kind. */
  private countBreaches(breached: readonly BarrierKind[]): void {
    let now = 0;
    for (let j = 0; j < breached.length; j++) {
      const i = BARRIER_KINDS.indexOf(breached[j]);
      if (i >= 0) now |= 1 << i;
    }
    const rising = now & ~this.breachedBefore;
    this.breachedBefore = now;
    if (rising === 0) return;
    for (let i = 0; i < BARRIER_KINDS.length; i++) if (rising & (1 << i)) this.breachEvents[BARRIER_KINDS[i]]++;
    this.breachEventsReport = Object.freeze({ ...this.breachEvents });
  }

  /**
   * The active rules, most severe first and in table order within a level (what a stable sort by severity gives).
   * The list is made again only when the set or its order changed since the last tick.
   */
  private orderActive(): readonly MonitorRuleName[] {
    const order = this.activeOrder;
    let count = 0;
    let same = true;
    for (let level = SEVERITIES - 1; level >= 0; level--) {
      for (let i = 0; i < this.rules.length; i++) {
        if (this.ruleSeverity[i] !== level || !this.states[i].active) continue;
        if (count >= this.activeCount || order[count] !== i) same = false;
        order[count++] = i;
      }
    }
    if (same && count === this.activeCount) return this.activeNames;
    this.activeCount = count;
    const names: MonitorRuleName[] = [];
    for (let j = 0; j < count; j++) names.push(this.rules[order[j]].name);
    this.activeNames = count === 0 ? NO_RULES : Object.freeze(names);
    return this.activeNames;
  }

  private fillView(input: MonitorInput, window: WindowStats): MonitorView {
    const v = this.view;
    v.timeUs = input.timeUs;
    v.armed = input.armed;
    v.landed = input.landed;
    v.phase = input.phase;
    v.emergencyStop = input.emergencyStop;
    v.operatorClear = input.operatorClear;
    v.autopilotHeartbeatAgeMs = input.autopilotHeartbeatAgeMs;
    v.groundLinkUp = input.groundLinkUp;
    v.batteryRemaining01 = input.batteryRemaining01;
    v.batteryVoltageV = input.batteryVoltageV;
    v.statusAgeMs = input.statusAgeMs;
    v.gpsFixOk = input.gpsFixOk;
    v.positionAgeMs = input.positionAgeMs;
    v.stateValid = input.stateValid;
    v.policyFault = input.policyFault;
    v.shieldVeto = input.shieldVeto;
    v.barrierFallback = input.barrierFallback;
    v.breached = input.breached;
    v.nearMiss = input.nearMiss;
    v.neighbourStale = input.neighbourStale;
    v.airspaceIssueCount = input.airspaceIssueCount;
    v.interventions = input.interventions;
    v.airborne = input.armed && !input.landed;
    v.policyFaultStreak = this.policyFaultStreak;
    v.shieldVetoStreak = this.shieldVetoStreak;
    v.barrierFallbackStreak = this.barrierFallbackStreak;
    v.window = window;
    return v;
  }

  /** Count an intervention made after update() (the monitor's own override) in the window. */
  countIntervention(timeUs: number, intervention: Intervention): void {
    this.window.addIntervention(timeUs, intervention.layer, intervention.magnitudeMS);
  }

  /** Forget everything (a new flight). */
  clear(): void {
    for (const s of this.states) {
      s.trueSinceUs = null;
      s.falseSinceUs = null;
      s.active = false;
    }
    this.window.clear();
    this.latched = 'none';
    this.action = 'none';
    this.policyFaultStreak = 0;
    this.shieldVetoStreak = 0;
    this.barrierFallbackStreak = 0;
    this.wasNearMiss = false;
    this.breachedBefore = 0;
    for (const k of Object.keys(this.breachEvents) as BarrierKind[]) this.breachEvents[k] = 0;
    this.breachEventsReport = Object.freeze({ ...this.breachEvents });
    this.activeCount = 0;
    this.activeNames = NO_RULES;
  }
}
