/**
 * Layer 4, safety shield: a learned cost critic scores (observation, proposed action); above the threshold the
 * action is vetoed and the barrier layer's safe fallback flies instead (hover, shaped by the barriers). The critic's
 * ONNX session lives in the driver, which passes its score in, so this layer stays a pure comparison.
 *
 * Modes: off ignores the critic; advisory reports what it would veto (for shadow evaluation of a new critic);
 * enforce vetoes, and fails closed: a missing or non-finite score is a veto too (a critic that stopped answering is
 * not a critic that approves). The monitor turns a long veto streak into a hold.
 */
import type { SafetyConfig } from './config.js';
import type { InterventionReason, ShieldVerdict } from './types.js';

export interface ShieldDecision {
  /** The action must be replaced by the safe fallback. */
  readonly veto: boolean;
  /** Would have vetoed (equals veto in enforce mode; the advisory signal otherwise). */
  readonly wouldVeto: boolean;
  readonly reason: Extract<InterventionReason, 'shield_veto' | 'shield_score_invalid' | 'shield_missing'> | null;
  /** The score compared, or null when there was none. */
  readonly score: number | null;
}

const PASS: ShieldDecision = Object.freeze({ veto: false, wouldVeto: false, reason: null, score: null });

/**
 * Judge the verdict for this tick's policy action. `policyFault` skips the shield: there is no action to score and
 * the sanity layer already flies the fallback.
 */
export function evaluateShield(
  verdict: ShieldVerdict | null | undefined,
  policyFault: boolean,
  cfg: Pick<SafetyConfig, 'shieldMode' | 'shieldThreshold'>,
): ShieldDecision {
  if (cfg.shieldMode === 'off' || policyFault) return PASS;
  const score = verdict == null ? null : verdict.score;
  let reason: ShieldDecision['reason'] = null;
  if (score === null || typeof score !== 'number') reason = 'shield_missing';
  else if (!Number.isFinite(score)) reason = 'shield_score_invalid';
  else if (score > cfg.shieldThreshold) reason = 'shield_veto';
  const wouldVeto = reason !== null;
  return {
    veto: cfg.shieldMode === 'enforce' && wouldVeto,
    wouldVeto,
    reason,
    score: typeof score === 'number' ? score : null,
  };
}
