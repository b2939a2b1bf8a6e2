/**
 * The watch over a freshly activated policy: on its first N flights, a runtime-monitor escalation to hold or worse
 * caused by a rule the policy can be blamed for, or a streak of policy faults, trips it; once tripped it is reverted
 * on the drone as soon as the vehicle is landed and disarmed. Pure: it reads tick reports and the armed flag.
 */
import { actionSeverity, type MonitorAction } from '../safety/index.js';

/**
 * Monitor rules that speak of the policy's behaviour. Escalations from the environment (battery, GPS, links, an
 * operator's emergency stop, stale neighbours, a bad airspace) do not trip a probation: they are not the policy's.
 */
export const POLICY_ATTRIBUTABLE_RULES: ReadonlySet<string> = new Set([
  'policy_fault_streak',
  'policy_fault_persistent',
  'fence_breach',
  'zone_breach',
  'floor_breach',
  'separation_breach',
  'barrier_infeasible',
  'shield_veto_streak',
  'near_miss',
  'interventions_excessive',
]);

/** The tick fields the watch reads (the loop's TickReport satisfies it). */
export interface WatchedTick {
  readonly policy: unknown | null;
  readonly decision: {
    readonly policyFault: boolean;
    readonly monitor: {
      readonly transition: {
        readonly from: string;
        readonly to: string;
        readonly rules: readonly string[];
      } | null;
    };
  };
}

export interface TripWatchConfig {
  /** Consecutive policy ticks with a policy fault that trip the probation. */
  readonly faultStreakTicks: number;
}

/** Detects a trip from tick reports. */
export class TripWatch {
  private streak = 0;

  constructor(private readonly cfg: TripWatchConfig) {}

  reset(): void {
    this.streak = 0;
  }

  /** The reason this tick trips the probation, or null. */
  observe(tick: WatchedTick): string | null {
    const d = tick.decision;
    if (tick.policy !== null) {
      if (d.policyFault) this.streak++;
      else this.streak = 0;
      if (this.streak === this.cfg.faultStreakTicks) return `${this.streak} policy faults in a row`;
    }
    const t = d.monitor.transition;
    if (t && actionSeverity(t.to as MonitorAction) >= actionSeverity('hold')) {
      const blamed = t.rules.filter((r) => POLICY_ATTRIBUTABLE_RULES.has(r));
      if (blamed.length > 0) return `runtime monitor ${t.from} -> ${t.to} (${blamed.join(', ')})`;
    }
    return null;
  }
}

/** Counts flights: an armed period that ends in a disarm. */
export class FlightCounter {
  private armed: boolean | null = null;

  /** True when this armed flag ends a flight (armed -> disarmed). */
  observe(armed: boolean): { started: boolean; ended: boolean } {
    const was = this.armed;
    this.armed = armed;
    return { started: was === false && armed, ended: was === true && !armed };
  }
}
