/**
 * Alert rules as data: what to watch (a threshold on a window, a rate of change, or silence), over which scopes,
 * for how long before firing, and how hard to cling on before resolving (hysteresis). Validated with zod where
 * they enter (a file or the API); the default set suits a delivery fleet.
 */
import { z } from 'zod';
import { AerieError } from '../../shared/errors.js';
import { AGGREGATIONS, type Aggregation } from './series.js';

export const COMPARE_OPS = ['>', '>=', '<', '<='] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type AlertExpr =
  | {
      readonly kind: 'threshold';
      /** A metric or a ratio name (RATIO_METRICS). */
      readonly metric: string;
      readonly windowS: number;
      /** How the window is reduced (ignored for ratios); default mean. */
      readonly agg?: Aggregation;
      readonly op: CompareOp;
      readonly value: number;
      /**
       * Hysteresis: once firing, the alert holds while `value op clearValue` is true, so it resolves only past this
       * level. Must lie on the resolving side of `value` (>= value for < and <=, <= value for > and >=).
       */
      readonly clearValue?: number;
      /** No verdict (no data) unless the window holds this many samples, or this much denominator for a ratio. */
      readonly minCount?: number;
    }
  | {
      readonly kind: 'rateOfChange';
      readonly metric: string;
      readonly windowS: number;
      readonly op: CompareOp;
      /** Slope threshold, metric units per minute (least squares over the window's buckets). */
      readonly valuePerMin: number;
      readonly clearValuePerMin?: number;
    }
  | {
      readonly kind: 'absence';
      /** A metric name; 'telemetry' is the telemetry message count. */
      readonly metric: string;
      /** Silence longer than this is the condition, s. */
      readonly forS: number;
    };

export interface AlertRule {
  /** Unique, [a-z0-9-]: it names the alert in ids, notifications and Prometheus. */
  readonly name: string;
  readonly description?: string;
  readonly expr: AlertExpr;
  /** Evaluated per drone, per policy version, or once for the fleet. */
  readonly scope: 'fleet' | 'drone' | 'policy';
  /** The condition must hold this long (pending) before firing, s; 0 fires at once. */
  readonly forS: number;
  /** Once firing, the condition must stay clear this long before resolving, s (default 0). */
  readonly keepFiringForS?: number;
  readonly severity: Severity;
}

export const threshold = (
  metric: string,
  windowS: number,
  op: CompareOp,
  value: number,
  extra: { agg?: Aggregation; clearValue?: number; minCount?: number } = {},
): AlertExpr => ({ kind: 'threshold', metric, windowS, op, value, ...extra });

export const rateOfChange = (
  metric: string,
  windowS: number,
  op: CompareOp,
  valuePerMin: number,
  clearValuePerMin?: number,
): AlertExpr => ({
  kind: 'rateOfChange',
  metric,
  windowS,
  op,
  valuePerMin,
  ...(clearValuePerMin === undefined ? {} : { clearValuePerMin }),
});

export const absence = (metric: string, forS: number): AlertExpr => ({ kind: 'absence', metric, forS });

const metricName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'metric names are snake_case');
const windowS = z
  .number()
  .positive()
  .max(7 * 86_400);
const op = z.enum(COMPARE_OPS);

const EXPR_SCHEMA = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('threshold'),
      metric: metricName,
      windowS,
      agg: z.enum(AGGREGATIONS).optional(),
      op,
      value: z.number().finite(),
      clearValue: z.number().finite().optional(),
      minCount: z.number().min(0).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('rateOfChange'),
      metric: metricName,
      windowS,
      op,
      valuePerMin: z.number().finite(),
      clearValuePerMin: z.number().finite().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('absence'),
      metric: metricName,
      forS: z
        .number()
        .positive()
        .max(7 * 86_400),
    })
    .strict(),
]);

export const ALERT_RULE_SCHEMA = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'rule names are lower-case kebab'),
    description: z.string().max(500).optional(),
    expr: EXPR_SCHEMA,
    scope: z.enum(['fleet', 'drone', 'policy']),
    forS: z
      .number()
      .min(0)
      .max(7 * 86_400),
    keepFiringForS: z
      .number()
      .min(0)
      .max(7 * 86_400)
      .optional(),
    severity: z.enum(SEVERITIES),
  })
  .strict();

/** True when `clear` lies on the resolving side of `value` for `op` (or equals it). */
function clearSideOk(opName: CompareOp, value: number, clear: number): boolean {
  return opName === '<' || opName === '<=' ? clear >= value : clear <= value;
}

/** Validate rules from untrusted input (names unique, hysteresis on the right side); throws ALERT_RULE_INVALID. */
export function parseAlertRules(raw: unknown): AlertRule[] {
  const parsed = z.array(ALERT_RULE_SCHEMA).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AerieError('ALERT_RULE_INVALID', `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const rules = parsed.data as AlertRule[];
  const names = new Set<string>();
  for (const rule of rules) {
    if (names.has(rule.name)) throw new AerieError('ALERT_RULE_INVALID', `duplicate rule name ${rule.name}`);
    names.add(rule.name);
    const e = rule.expr;
    if (e.kind === 'threshold' && e.clearValue !== undefined && !clearSideOk(e.op, e.value, e.clearValue)) {
      throw new AerieError('ALERT_RULE_INVALID', `${rule.name}: clearValue ${e.clearValue} is on the firing side`);
    }
    if (e.kind === 'rateOfChange' && e.clearValuePerMin !== undefined) {
      if (!clearSideOk(e.op, e.valuePerMin, e.clearValuePerMin)) {
        throw new AerieError('ALERT_RULE_INVALID', `${rule.name}: clearValuePerMin is on the firing side`);
      }
    }
  }
  return rules;
}

/**
 * Defaults for a delivery fleet. Latency: a 50 Hz loop has 20 ms per tick and inference measured ~17 us p50 on a
 * companion computer, so a p99 above 10 ms eats half the tick. Battery: the assignment keeps a 20 % reserve, so a
 * drone below 25 % is already eating into it.
 */
export const DEFAULT_ALERT_RULES: readonly AlertRule[] = parseAlertRules([
  {
    name: 'success-rate-low',
    description: 'Fewer than 80 % of deliveries by this policy version succeeded over 5 min (at least 5 finished).',
    expr: threshold('success_rate', 300, '<', 0.8, { clearValue: 0.85, minCount: 5 }),
    scope: 'policy',
    forS: 120,
    keepFiringForS: 120,
    severity: 'critical',
  },
  {
    name: 'safety-violations',
    description: 'A drone breached a safety constraint despite the filter in the last minute.',
    expr: threshold('violations', 60, '>', 0, { agg: 'sum' }),
    scope: 'drone',
    forS: 0,
    keepFiringForS: 300,
    severity: 'critical',
  },
  {
    name: 'intervention-share-high',
    description: 'The safety filter corrected more than 20 % of policy ticks over 5 min (at least 500 ticks).',
    expr: threshold('intervention_share', 300, '>', 0.2, { clearValue: 0.15, minCount: 500 }),
    scope: 'policy',
    forS: 120,
    severity: 'warning',
  },
  {
    name: 'inference-latency-high',
    description: 'Policy inference p99 above 10 ms (half a 50 Hz tick) in a drone report over 5 min.',
    expr: threshold('inference_latency_p99_us', 300, '>', 10_000, { agg: 'max', clearValue: 8000 }),
    scope: 'drone',
    forS: 60,
    severity: 'warning',
  },
  {
    name: 'policy-faults',
    description: 'The policy faulted (inference error, bad output, timeout) on a drone in the last 5 min.',
    expr: threshold('policy_faults', 300, '>', 0, { agg: 'sum' }),
    scope: 'drone',
    forS: 0,
    severity: 'warning',
  },
  {
    name: 'battery-low',
    description: 'Battery below 25 % (the assignment reserve is 20 %).',
    expr: threshold('battery_remaining', 60, '<', 0.25, { agg: 'last', clearValue: 0.3 }),
    scope: 'drone',
    forS: 10,
    severity: 'warning',
  },
  {
    name: 'battery-critical',
    description: 'Battery below 15 %: the drone should be landing.',
    expr: threshold('battery_remaining', 60, '<', 0.15, { agg: 'last', clearValue: 0.2 }),
    scope: 'drone',
    forS: 0,
    severity: 'critical',
  },
  {
    name: 'battery-draining-fast',
    description: 'Charge falling faster than 5 % per minute over 5 min (about 3x a normal cruise).',
    expr: rateOfChange('battery_remaining', 300, '<', -0.05, -0.04),
    scope: 'drone',
    forS: 60,
    severity: 'warning',
  },
  {
    name: 'drone-silent',
    description: 'No telemetry from an online drone for 30 s.',
    expr: absence('telemetry', 30),
    scope: 'drone',
    forS: 0,
    severity: 'critical',
  },
]);
