/**
 * The alert engine: evaluates the rules against the collector at a time passed in, and moves each (rule, scope)
 * through pending -> firing -> resolved (or pending -> inactive when the condition does not last), as Prometheus'
 * alerting does. State is plain data: snapshot() for the station to persist, restore() after a restart, so a firing
 * alert is neither lost nor re-announced.
 */
import { z } from 'zod';
import { AerieError } from '../../shared/errors.js';
import type { AlertExpr, AlertRule, CompareOp, Severity } from './alert-rules.js';
import type { MetricsCollector } from './collector.js';
import { RATIO_METRICS } from './metric-catalogue.js';

export type AlertStateName = 'pending' | 'firing' | 'resolved';

/** One alert episode of one rule in one scope. Plain, JSON-safe. */
export interface AlertState {
  /** `<rule>/<scopeKey>/<activeAtMs>`: unique per episode (a re-fire after resolving is a new id). */
  readonly id: string;
  readonly rule: string;
  readonly scopeKey: string;
  readonly severity: Severity;
  state: AlertStateName;
  /** When the condition was first seen true in this episode, Unix ms. */
  readonly activeAtMs: number;
  firedAtMs: number | null;
  resolvedAtMs: number | null;
  /** While firing: since when the condition has been clear (keepFiringForS counts from here). */
  clearSinceMs: number | null;
  /** The rule's number at the last evaluation (window value, slope per min, or silence s); null = no data. */
  value: number | null;
  lastEvalMs: number;
  acknowledgedBy: string | null;
  acknowledgedAtMs: number | null;
}

/** A change of state, for the notifier, the logs and the dashboard. `inactive` = no alert. */
export interface AlertTransition {
  readonly alertId: string;
  readonly rule: string;
  readonly scopeKey: string;
  readonly severity: Severity;
  readonly from: AlertStateName | 'inactive';
  readonly to: AlertStateName | 'inactive';
  readonly atMs: number;
  readonly value: number | null;
  readonly description: string;
}

/** What the engine reads; MetricsCollector provides it. */
export type MetricsSource = Pick<MetricsCollector, 'value' | 'slopePerMin' | 'lastSeenMs' | 'scopeKeys' | 'hasScope'>;

export interface EvaluateContext {
  /** Drones that should be talking (online in the registry). Absence rules watch only these when given. */
  readonly expectedDrones?: readonly string[];
}

export const ALERT_SNAPSHOT_SCHEMA = 'aerie.alerts/1';

export interface AlertSnapshot {
  readonly schema: typeof ALERT_SNAPSHOT_SCHEMA;
  readonly states: readonly AlertState[];
  /** Absence rules watching a scope that never sent the metric: since when. */
  readonly watches: readonly { readonly rule: string; readonly scopeKey: string; readonly sinceMs: number }[];
}

const nullableNumber = z.number().finite().nullable();
const SNAPSHOT_SCHEMA = z.object({
  schema: z.literal(ALERT_SNAPSHOT_SCHEMA),
  states: z.array(
    z.object({
      id: z.string().min(1),
      rule: z.string().min(1),
      scopeKey: z.string().min(1),
      severity: z.enum(['info', 'warning', 'critical']),
      state: z.enum(['pending', 'firing', 'resolved']),
      activeAtMs: z.number().finite(),
      firedAtMs: nullableNumber,
      resolvedAtMs: nullableNumber,
      clearSinceMs: nullableNumber,
      value: nullableNumber,
      lastEvalMs: z.number().finite(),
      acknowledgedBy: z.string().nullable(),
      acknowledgedAtMs: nullableNumber,
    }),
  ),
  watches: z.array(z.object({ rule: z.string(), scopeKey: z.string(), sinceMs: z.number().finite() })),
});

/** A condition at one instant: fire (strict), hold (hysteresis), or null when there is no data to judge. */
interface Verdict {
  readonly fire: boolean | null;
  readonly hold: boolean | null;
  readonly value: number | null;
}

const compare = (x: number, op: CompareOp, y: number): boolean =>
  op === '>' ? x > y : op === '>=' ? x >= y : op === '<' ? x < y : x <= y;

export interface AlertEngineOptions {
  /** Resolved alerts stay listed this long, s. */
  readonly resolvedRetentionS?: number;
}

export class AlertEngine {
  private readonly source: MetricsSource;
  private readonly ruleList: readonly AlertRule[];
  private readonly retentionMs: number;
  /** `${rule}\n${scopeKey}` -> state. */
  private readonly states = new Map<string, AlertState>();
  private readonly watches = new Map<string, number>();

  /** `rules` should come from parseAlertRules (or DEFAULT_ALERT_RULES). */
  constructor(source: MetricsSource, rules: readonly AlertRule[], options: AlertEngineOptions = {}) {
    const names = new Set(rules.map((r) => r.name));
    if (names.size !== rules.length) throw new AerieError('ALERT_RULE_INVALID', 'rule names must be unique');
    this.source = source;
    this.ruleList = rules;
    this.retentionMs = (options.resolvedRetentionS ?? 3600) * 1000;
  }

  rules(): readonly AlertRule[] {
    return this.ruleList;
  }

  /** Evaluate every rule in every scope it covers at nowMs; returns the transitions, in rule then scope order. */
  evaluate(nowMs: number, context: EvaluateContext = {}): AlertTransition[] {
    const out: AlertTransition[] = [];
    for (const rule of this.ruleList) {
      const keys = new Set(this.candidateKeys(rule, context));
      for (const [k, st] of this.states) if (st.rule === rule.name) keys.add(k.slice(rule.name.length + 1));
      for (const scopeKey of [...keys].sort()) {
        const verdict = this.check(rule, scopeKey, nowMs, context);
        this.step(rule, scopeKey, verdict, nowMs, out);
      }
    }
    for (const [k, st] of this.states) {
      if (st.state === 'resolved' && nowMs - (st.resolvedAtMs ?? nowMs) > this.retentionMs) this.states.delete(k);
    }
    return out;
  }

  private candidateKeys(rule: AlertRule, context: EvaluateContext): string[] {
    if (rule.scope === 'fleet') return ['fleet'];
    if (rule.expr.kind === 'absence' && rule.scope === 'drone' && context.expectedDrones) {
      return context.expectedDrones.map((id) => `drone:${id}`);
    }
    const keys = this.source.scopeKeys(rule.scope);
    if (rule.expr.kind === 'absence') return keys;
    const ratio = RATIO_METRICS[rule.expr.metric];
    const watched = ratio ? [ratio.numerator, ratio.denominator] : [rule.expr.metric];
    return keys.filter((k) => watched.some((m) => this.source.lastSeenMs(m, k) !== undefined));
  }

  private check(rule: AlertRule, scopeKey: string, nowMs: number, context: EvaluateContext): Verdict {
    const e: AlertExpr = rule.expr;
    if (e.kind === 'threshold') {
      const { value, weight } = this.source.value(e.metric, scopeKey, e.windowS, nowMs, e.agg ?? 'mean');
      if (value === null || weight < (e.minCount ?? 0)) return { fire: null, hold: null, value };
      return { fire: compare(value, e.op, e.value), hold: compare(value, e.op, e.clearValue ?? e.value), value };
    }
    if (e.kind === 'rateOfChange') {
      const slope = this.source.slopePerMin(e.metric, scopeKey, e.windowS, nowMs);
      if (slope === null) return { fire: null, hold: null, value: null };
      const hold = compare(slope, e.op, e.clearValuePerMin ?? e.valuePerMin);
      return { fire: compare(slope, e.op, e.valuePerMin), hold, value: slope };
    }
    // Absence. A drone the registry no longer expects (clean shutdown) is not silent.
    const watchKey = `${rule.name}\n${scopeKey}`;
    const expected =
      rule.scope !== 'drone' || !context.expectedDrones || context.expectedDrones.includes(scopeKey.slice(6));
    if (!expected) {
      this.watches.delete(watchKey);
      return { fire: false, hold: false, value: null };
    }
    const last = this.source.lastSeenMs(e.metric, scopeKey);
    let since = last;
    if (last === undefined) {
      since = this.watches.get(watchKey) ?? nowMs;
      this.watches.set(watchKey, since);
    } else this.watches.delete(watchKey);
    const silentS = (nowMs - (since as number)) / 1000;
    const silent = silentS > e.forS;
    return { fire: silent, hold: silent, value: silentS };
  }

  private step(rule: AlertRule, scopeKey: string, v: Verdict, nowMs: number, out: AlertTransition[]): void {
    const key = `${rule.name}\n${scopeKey}`;
    const st = this.states.get(key);
    const emit = (s: AlertState, from: AlertTransition['from'], to: AlertTransition['to']) =>
      out.push({
        alertId: s.id,
        rule: rule.name,
        scopeKey,
        severity: rule.severity,
        from,
        to,
        atMs: nowMs,
        value: v.value,
        description: rule.description ?? rule.name,
      });

    if (!st || st.state === 'resolved') {
      if (v.fire !== true) return;
      const fresh: AlertState = {
        id: `${rule.name}/${scopeKey}/${nowMs}`,
        rule: rule.name,
        scopeKey,
        severity: rule.severity,
        state: rule.forS === 0 ? 'firing' : 'pending',
        activeAtMs: nowMs,
        firedAtMs: rule.forS === 0 ? nowMs : null,
        resolvedAtMs: null,
        clearSinceMs: null,
        value: v.value,
        lastEvalMs: nowMs,
        acknowledgedBy: null,
        acknowledgedAtMs: null,
      };
      this.states.set(key, fresh);
      emit(fresh, 'inactive', fresh.state);
      return;
    }
    st.lastEvalMs = nowMs;
    st.value = v.value;
    if (st.state === 'pending') {
      if (v.fire !== true) {
        this.states.delete(key);
        emit(st, 'pending', 'inactive');
      } else if (nowMs - st.activeAtMs >= rule.forS * 1000) {
        st.state = 'firing';
        st.firedAtMs = nowMs;
        emit(st, 'pending', 'firing');
      }
      return;
    }
    // Firing. No data holds it (a silent drone keeps its alerts), unless the scope is gone altogether.
    const gone = !this.source.hasScope(scopeKey) && rule.expr.kind !== 'absence';
    if (v.hold === true || (v.hold === null && !gone)) {
      if (v.hold === true) st.clearSinceMs = null;
      return;
    }
    st.clearSinceMs ??= nowMs;
    if (gone || nowMs - st.clearSinceMs >= (rule.keepFiringForS ?? 0) * 1000) {
      st.state = 'resolved';
      st.resolvedAtMs = nowMs;
      emit(st, 'firing', 'resolved');
    }
  }

  /** Mark a pending or firing alert as seen by an operator. False when no such live alert. */
  acknowledge(alertId: string, by: string, nowMs: number): boolean {
    for (const st of this.states.values()) {
      if (st.id === alertId && st.state !== 'resolved') {
        st.acknowledgedBy = by;
        st.acknowledgedAtMs = nowMs;
        return true;
      }
    }
    return false;
  }

  /** Every listed alert (pending, firing, recently resolved), copies, sorted by id. */
  alerts(): AlertState[] {
    return [...this.states.values()].map((s) => ({ ...s })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  firing(): AlertState[] {
    return this.alerts().filter((a) => a.state === 'firing');
  }

  snapshot(): AlertSnapshot {
    const watches = [...this.watches].map(([k, sinceMs]) => {
      const cut = k.indexOf('\n');
      return { rule: k.slice(0, cut), scopeKey: k.slice(cut + 1), sinceMs };
    });
    return { schema: ALERT_SNAPSHOT_SCHEMA, states: this.alerts(), watches };
  }

  /** Replace the state with a snapshot (states of rules no longer configured are dropped). */
  restore(raw: unknown): void {
    const parsed = SNAPSHOT_SCHEMA.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AerieError('ALERT_STATE_INVALID', `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const known = new Set(this.ruleList.map((r) => r.name));
    this.states.clear();
    this.watches.clear();
    for (const s of parsed.data.states) if (known.has(s.rule)) this.states.set(`${s.rule}\n${s.scopeKey}`, { ...s });
    for (const w of parsed.data.watches) if (known.has(w.rule)) this.watches.set(`${w.rule}\n${w.scopeKey}`, w.sinceMs);
  }
}
