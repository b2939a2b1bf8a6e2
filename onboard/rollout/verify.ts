/**
 * Everything a bundle must pass before it may become the candidate, in order, the first failure refusing it with
 * its code and reason: (1) the signature against the trusted keys, each part's hash and the manifest's contract
 * version (shared/bundle openBundle); (2) the policy contract as the onboard loader sees it (the ONNX models are
 * loaded and probed: wrong inputs, outputs or contract metadata are refused); (3) the safety-filter configuration it
 * carries parses; (4) the autopilot's actual PX4 parameters, read over MAVLink, match what it expects.
 * Nothing here changes the drone.
 */
import { checkPx4Params, type OpenedBundle, openBundle, type TrustedKey } from '../../shared/bundle/index.js';
import { type ErrorCode, isAerieError } from '../../shared/errors.js';
import { loadPolicy, loadShield } from '../policy/index.js';
import { parseSafetyConfig } from '../safety/index.js';
import type { ParamReadings } from './px4-params.js';

export type VerifyStep = 'bundle' | 'contract' | 'filter' | 'px4-params';

export type VerifyResult =
  | { readonly ok: true; readonly bundle: OpenedBundle }
  | { readonly ok: false; readonly step: VerifyStep; readonly code: ErrorCode; readonly reason: string };

export interface VerifyDeps {
  readonly trustedKeys: readonly TrustedKey[];
  /** Read these PX4 parameters from the autopilot; null when the link is down (the bundle is then refused). */
  readonly readParams: (names: readonly string[]) => Promise<ParamReadings | null>;
}

function refuse(step: VerifyStep, code: ErrorCode, reason: string): VerifyResult {
  return { ok: false, step, code, reason };
}

async function loads(kind: 'policy' | 'shield', bytes: Buffer, label: string): Promise<VerifyResult | null> {
  try {
    const runner = kind === 'policy' ? await loadPolicy(bytes, { label }) : await loadShield(bytes, { label });
    await runner.release();
    return null;
  } catch (err) {
    const code: ErrorCode = isAerieError(err) ? err.code : 'POLICY_LOAD_FAILED';
    const message = err instanceof Error ? err.message.replace(/^[A-Z_]+: /, '') : String(err);
    return refuse('contract', code, message);
  }
}

/** Verify a bundle file. Never throws. */
export async function verifyBundle(bytes: Uint8Array, deps: VerifyDeps): Promise<VerifyResult> {
  const opened = openBundle(bytes, { trustedKeys: deps.trustedKeys });
  if (!opened.ok) return refuse('bundle', opened.code, opened.reason);
  const bundle = opened.bundle;

  const policy = await loads('policy', bundle.policy, `${bundle.version}/policy.onnx`);
  if (policy) return policy;
  if (bundle.shield) {
    const shield = await loads('shield', bundle.shield, `${bundle.version}/shield.onnx`);
    if (shield) return shield;
  }

  if (bundle.filterConfig !== undefined) {
    try {
      if (typeof bundle.filterConfig !== 'object' || bundle.filterConfig === null || Array.isArray(bundle.filterConfig))
        throw new Error('filter.json is not an object');
      parseSafetyConfig(bundle.filterConfig as Record<string, unknown>);
    } catch (err) {
      const code: ErrorCode = isAerieError(err) ? err.code : 'CONFIG_INVALID_VALUE';
      return refuse('filter', code, `filter.json: ${(err as Error).message.replace(/^[A-Z_]+: /, '')}`);
    }
  }

  const names = Object.keys(bundle.px4Params);
  if (names.length > 0) {
    let actual: ParamReadings | null;
    try {
      actual = await deps.readParams(names);
    } catch (err) {
      actual = null;
      void err;
    }
    if (actual === null)
      return refuse('px4-params', 'BUNDLE_PX4_PARAMS', 'the autopilot link is down: its parameters cannot be checked');
    const r = checkPx4Params(bundle.px4Params, actual);
    if (!r.ok) return refuse('px4-params', r.code, r.reason);
  }
  return { ok: true, bundle };
}
