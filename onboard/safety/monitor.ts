/**
 * Layer 5, runtime monitor: evaluates the rule table (monitor-rules.ts) each tick with time passed in, as PX4's
 * failsafe `update(time_us, state)` does. Ladder: none < warn < hold < return < land; the most severe active rule
 * wins. Hold and above latch: once the vehicle is told to land it is not told to cruise again because the cause
 * cleared, until an explicit reset (operator clear, or landed and disarmed). A latched level can still escalate.
 */
import type { BarrierKind } from './barrier-geometry.js';
import type { SafetyConfig } from './config.js';
import { type MonitorInput, type MonitorRule, type MonitorRuleName, monitorRules } from './monitor-rules.js';
import { SlidingWindow, type WindowStats } from './monitor-window.js';
import { actionSeverity, type Intervention, type MonitorAction } from './types.js';

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

export class RuntimeMonitor {
  readonly rules: readonly MonitorRule[];
  private readonly states: RuleState[];
  private readonly window: SlidingWindow;
  private latched: MonitorAction = 'none';
  private action: MonitorAction = 'none';
  private policyFaultStreak = 0;
  private shieldVetoStreak = 0;
  private barrierFallbackStreak = 0;
  private wasNearMiss = false;
  private breachedBefore = new Set<BarrierKind>();
  private readonly breachEvents: Record<BarrierKind, number> = {
    fence: 0,
    ceiling: 0,
    zone: 0,
    floor: 0,
    separation: 0,
  };

  constructor(
    private readonly cfg: SafetyConfig,
    rules: readonly MonitorRule[] = monitorRules(cfg),
  ) {
    this.rules = rules;
    this.states = rules.map(() => ({ trueSinceUs: null, falseSinceUs: null, active: false }));
    this.window = new SlidingWindow(cfg.monitorWindowMs);
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
    const breachedNow = new Set(input.breached);
    for (const k of breachedNow) if (!this.breachedBefore.has(k)) this.breachEvents[k]++;
    this.breachedBefore = breachedNow;

    const window = this.window.stats(t);
    const view = {
      ...input,
      airborne: input.armed && !input.landed,
      policyFaultStreak: this.policyFaultStreak,
      shieldVetoStreak: this.shieldVetoStreak,
      barrierFallbackStreak: this.barrierFallbackStreak,
      window,
    };

    const fired: MonitorRuleName[] = [];
    const released: MonitorRuleName[] = [];
    let ruleLevel: MonitorAction = 'none';
    const active: MonitorRule[] = [];
    this.rules.forEach((rule, i) => {
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
          fired.push(rule.name);
        }
      } else {
        s.trueSinceUs = null;
        if (s.active) {
          if (s.falseSinceUs === null) s.falseSinceUs = t;
          if (t - s.falseSinceUs >= rule.releaseMs * 1000) {
            s.active = false;
            s.falseSinceUs = null;
            released.push(rule.name);
          }
        }
      }
      if (s.active) {
        active.push(rule);
        ruleLevel = maxAction(ruleLevel, rule.action);
      }
    });

    let reset: MonitorReport['reset'] = null;
    if (this.latched !== 'none') {
      if (input.operatorClear) reset = 'operator';
      else if (this.cfg.autoResetOnDisarm && input.landed && !input.armed) reset = 'disarmed';
      if (reset) this.latched = 'none';
    }
    if (actionSeverity(ruleLevel) >= actionSeverity(LATCH_FROM)) this.latched = maxAction(this.latched, ruleLevel);
    const next = maxAction(this.latched, ruleLevel);

    active.sort((a, b) => actionSeverity(b.action) - actionSeverity(a.action));
    let transition: MonitorTransition | null = null;
    if (next !== this.action) {
      const up = actionSeverity(next) > actionSeverity(this.action);
      transition = {
        timeUs: t,
        from: this.action,
        to: next,
        rules: active.filter((r) => r.action === next).map((r) => r.name),
        cause: up ? 'escalation' : reset ? 'reset' : 'release',
      };
      this.action = next;
    }
    return {
      action: next,
      latchedAction: this.latched,
      activeRules: active.map((r) => r.name),
      fired,
      released,
      transition,
      reset,
      counters: {
        policyFaultStreak: this.policyFaultStreak,
        shieldVetoStreak: this.shieldVetoStreak,
        barrierFallbackStreak: this.barrierFallbackStreak,
        breachEvents: { ...this.breachEvents },
        window,
      },
    };
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
    this.breachedBefore = new Set();
    for (const k of Object.keys(this.breachEvents) as BarrierKind[]) this.breachEvents[k] = 0;
  }
}
