/**
 * The evaluation gate: a candidate policy enters the registry only with a passing SITL evaluation of that very model.
 * `summariseEvalReport` turns what `aerie eval --json` printed (or the eval-report.json beside a trained policy) into
 * the summary a bundle carries in its manifest; `evaluationGate` decides. Pure.
 */
import { z } from 'zod';
import { type ConfigOf, declareConfig } from '../../shared/config/index.js';
import type { Result } from '../../shared/errors.js';

/** Thresholds of the gate: the issue 4 targets by default (SITL with wind: ≥ 95 % success, ≤ 5 % interventions, 0 breaches). */
export const EVAL_GATE_SCHEMA = declareConfig({
  gateMinSuccessRate: {
    type: 'number',
    default: 0.95,
    min: 0,
    max: 1,
    doc: 'Evaluation gate: least SITL delivery success rate of a candidate policy.',
  },
  gateMaxInterventionShare: {
    type: 'number',
    default: 0.05,
    min: 0,
    max: 1,
    doc: 'Evaluation gate: largest share of policy ticks the safety filter changed in SITL.',
  },
  gateMaxBreaches: {
    type: 'integer',
    default: 0,
    min: 0,
    max: 1_000_000,
    doc: 'Evaluation gate: most SITL deliveries with a breach while the filter was on.',
  },
  gateMinSitlDeliveries: {
    type: 'integer',
    default: 10,
    min: 1,
    max: 1_000_000,
    doc: 'Evaluation gate: fewest SITL deliveries the report must cover.',
  },
});
export type EvalGateConfig = ConfigOf<typeof EVAL_GATE_SCHEMA>;

const rate = z.number().finite().min(0).max(1);

/** What a bundle's manifest carries as `evalReport`. */
export const EVAL_SUMMARY_SCHEMA = z.object({
  /** SHA-256 (hex) of the policy model the evaluation flew: must be the bundle's policy part. */
  policySha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Section the headline figures come from: 'sitl' for a report that can pass the gate. */
  summaryFrom: z.string().max(64),
  successRate: rate,
  interventionShare: rate,
  breachesFilterOn: z.number().int().min(0),
  breachesFilterOff: z.number().int().min(0).nullable(),
  sitl: z
    .object({
      deliveries: z.number().int().min(0),
      successRate: rate,
      interventionShare: rate,
      breachesFilterOn: z.number().int().min(0),
    })
    .nullable(),
  vectorised: z.object({ episodes: z.number().int().min(0), successRate: rate }).nullable(),
});
export type EvalSummary = z.infer<typeof EVAL_SUMMARY_SCHEMA>;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The summary of an evaluation report: `aerie eval --json` output (`{successRate, ..., policy, sections}`), or a
 * trained policy's eval-report.json (`{..., evaluation: {policy, sections}}`). The reason names what is missing.
 */
export function summariseEvalReport(report: unknown): Result<EvalSummary, string> {
  if (!isObject(report)) return { ok: false, reason: 'the evaluation report is not a JSON object' };
  const evaluation = isObject(report.evaluation) ? report.evaluation : report;
  const policy = evaluation.policy;
  const sections = evaluation.sections;
  if (!isObject(policy) || typeof policy.sha256 !== 'string' || !isObject(sections)) {
    return { ok: false, reason: 'not an aerie eval report: expected policy.sha256 and sections (aerie eval --json)' };
  }
  const sitl = isObject(sections.sitl) ? sections.sitl : null;
  const vec = isObject(sections.vectorised) ? sections.vectorised : null;
  const off = isObject(sections['vectorised-filter-off']) ? sections['vectorised-filter-off'] : null;
  const from = sitl ?? vec;
  if (!from) return { ok: false, reason: 'the evaluation report has neither a sitl nor a vectorised section' };
  const breaches = (s: Json): number | null => {
    if (s === sitl) return num(s.breachesFilterOn);
    const share = isObject(s.breaches) ? num(s.breaches.episodeShare) : null;
    const episodes = num(s.episodes);
    return share === null || episodes === null ? null : Math.round(share * episodes);
  };
  const anyShare = (s: Json): number | null => num(s.interventionShareAny);
  const candidate = {
    policySha256: policy.sha256,
    summaryFrom: sitl ? 'sitl' : 'vectorised',
    successRate: num(from.successRate),
    interventionShare: anyShare(from),
    breachesFilterOn: breaches(from),
    breachesFilterOff: off ? breaches(off) : null,
    sitl: sitl
      ? {
          deliveries: num(sitl.episodes),
          successRate: num(sitl.successRate),
          interventionShare: anyShare(sitl),
          breachesFilterOn: num(sitl.breachesFilterOn),
        }
      : null,
    vectorised: vec ? { episodes: num(vec.episodes), successRate: num(vec.successRate) } : null,
  };
  const parsed = EVAL_SUMMARY_SCHEMA.safeParse(candidate);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { ok: false, reason: `the evaluation report lacks a usable ${i.path.join('.')}: ${i.message}` };
  }
  return { ok: true, value: parsed.data };
}

/**
 * Does this evaluation let the policy with `policySha256` in as a candidate? Passing needs a SITL section of that
 * model meeting every threshold; the reason lists each failure with its figure and threshold.
 */
export function evaluationGate(
  evalReport: unknown,
  policySha256: string,
  gate: EvalGateConfig,
): Result<EvalSummary, string> {
  if (evalReport === undefined || evalReport === null) {
    return {
      ok: false,
      reason: 'no evaluation report: pack the bundle with --eval-report (aerie eval --json with SITL)',
    };
  }
  const parsed = EVAL_SUMMARY_SCHEMA.safeParse(evalReport);
  if (!parsed.success) return { ok: false, reason: "the bundle's evaluation report is not an aerie eval summary" };
  const s = parsed.data;
  if (s.policySha256 !== policySha256) {
    return {
      ok: false,
      reason: `the evaluation report is of another model (${s.policySha256.slice(0, 16)}…, this policy is ${policySha256.slice(0, 16)}…)`,
    };
  }
  if (!s.sitl)
    return { ok: false, reason: 'the evaluation report has no SITL section (run aerie eval without --no-sitl)' };
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const failures: string[] = [];
  if (s.sitl.deliveries < gate.gateMinSitlDeliveries) {
    failures.push(`${s.sitl.deliveries} SITL deliveries < ${gate.gateMinSitlDeliveries}`);
  }
  if (!(s.sitl.successRate >= gate.gateMinSuccessRate)) {
    failures.push(`success ${pct(s.sitl.successRate)} < ${pct(gate.gateMinSuccessRate)}`);
  }
  if (!(s.sitl.interventionShare <= gate.gateMaxInterventionShare)) {
    failures.push(`interventions ${pct(s.sitl.interventionShare)} of ticks > ${pct(gate.gateMaxInterventionShare)}`);
  }
  if (s.sitl.breachesFilterOn > gate.gateMaxBreaches) {
    failures.push(`${s.sitl.breachesFilterOn} deliveries with a breach (filter on) > ${gate.gateMaxBreaches}`);
  }
  if (failures.length > 0) return { ok: false, reason: `SITL evaluation does not pass: ${failures.join('; ')}` };
  return { ok: true, value: s };
}
