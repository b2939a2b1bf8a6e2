/**
 * The station's policy registry: signed bundles by version, with lineage, evaluation summary and a state, persisted
 * in the station store (migration 5). A bundle enters only when it verifies against the station's trusted keys and,
 * as a candidate, passes the evaluation gate; the drones' current default policy is seeded as the active baseline.
 *
 * States: candidate -> shadow -> canary -> active -> retired, and rolled-back from any live state. The rollout
 * manager moves them (`transition`) with a reason; every move is logged.
 */
import { type BundleErrorCode, openBundle, type TrustedKey } from '../../shared/bundle/index.js';
import { AerieError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import type { PolicyRecord, PolicyTransitionRecord, StationStore } from '../storage/index.js';
import { type EvalGateConfig, evaluationGate } from './registry-gate.js';

export const POLICY_STATES = ['candidate', 'shadow', 'canary', 'active', 'retired', 'rolled-back'] as const;
export type PolicyState = (typeof POLICY_STATES)[number];

/** Which state may follow which. A retired policy may become active again (the fleet rolled back to it). */
export const POLICY_TRANSITIONS: Readonly<Record<PolicyState, readonly PolicyState[]>> = {
  candidate: ['shadow', 'canary', 'active', 'retired', 'rolled-back'],
  shadow: ['candidate', 'canary', 'active', 'retired', 'rolled-back'],
  canary: ['candidate', 'shadow', 'active', 'retired', 'rolled-back'],
  active: ['retired', 'rolled-back'],
  retired: ['active', 'candidate'],
  'rolled-back': ['retired'],
};

export const isPolicyState = (s: string): s is PolicyState => (POLICY_STATES as readonly string[]).includes(s);

/** What the API shows of a version (never the bundle bytes). */
export interface PolicyView {
  readonly version: string;
  readonly sha256: string;
  readonly policySha256: string;
  readonly state: PolicyState;
  readonly stateReason: string;
  readonly label: string | null;
  readonly lineage: unknown;
  readonly evalReport: unknown | null;
  readonly contractVersion: string | null;
  readonly keyId: string | null;
  readonly parts: unknown;
  readonly px4Params: unknown;
  readonly totalBytes: number;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export interface PolicyDetail extends PolicyView {
  readonly history: readonly { atMs: number; from: string | null; to: string; reason: string }[];
}

/** Why a bundle was not registered: a BUNDLE_* or POLICY_* code, the reason, and the HTTP status it maps to. */
export interface PublishRefusal {
  readonly ok: false;
  readonly code: BundleErrorCode | 'POLICY_EVAL_GATE' | 'POLICY_TRANSITION_INVALID';
  readonly reason: string;
  readonly status: 400 | 409 | 422;
}

export type PublishResult = { ok: true; policy: PolicyView; created: boolean } | PublishRefusal;

export interface PolicyRegistryOptions {
  readonly store: StationStore;
  /** Keys a published bundle must be signed with (the station's release key, usually). */
  readonly trustedKeys: readonly TrustedKey[];
  readonly gate: EvalGateConfig;
  readonly logger?: Logger;
}

function view(r: PolicyRecord): PolicyView {
  const m = (r.manifest ?? {}) as Record<string, unknown>;
  return {
    version: r.version,
    sha256: r.sha256,
    policySha256: r.policySha256,
    state: r.state as PolicyState,
    stateReason: r.stateReason,
    label: r.label,
    lineage: r.lineage,
    evalReport: r.evalReport,
    contractVersion: typeof m.contractVersion === 'string' ? m.contractVersion : null,
    keyId: typeof m.keyId === 'string' ? m.keyId : null,
    parts: m.parts ?? [],
    px4Params: m.px4Params ?? {},
    totalBytes: r.totalBytes,
    createdAtMs: r.createdAtMs,
    updatedAtMs: r.updatedAtMs,
  };
}

export class PolicyRegistry {
  private readonly store: StationStore;
  private readonly trustedKeys: readonly TrustedKey[];
  private readonly gate: EvalGateConfig;
  private readonly logger?: Logger;

  constructor(options: PolicyRegistryOptions) {
    this.store = options.store;
    this.trustedKeys = options.trustedKeys;
    this.gate = options.gate;
    this.logger = options.logger;
  }

  /**
   * Register a signed bundle as a candidate: it must verify (signature by a trusted key, hashes, contract) and pass
   * the evaluation gate. The same file again is answered with the existing version (created: false); another
   * bundle of the same policy version is refused (409).
   */
  async publish(bytes: Uint8Array, nowMs: number, by = 'operator'): Promise<PublishResult> {
    return this.register(bytes, nowMs, { state: 'candidate', reason: `published by ${by}`, gated: true });
  }

  /**
   * Register the drones' current default policy as the active baseline, without the gate (it is what flies today).
   * Nothing changes when that version is already registered.
   */
  async seedBaseline(bytes: Uint8Array, nowMs: number): Promise<PublishResult> {
    return this.register(bytes, nowMs, {
      state: 'active',
      reason: 'baseline: the policy the drones fly by default',
      gated: false,
    });
  }

  private async register(
    bytes: Uint8Array,
    nowMs: number,
    how: { state: PolicyState; reason: string; gated: boolean },
  ): Promise<PublishResult> {
    const opened = openBundle(bytes, { trustedKeys: this.trustedKeys });
    if (!opened.ok) return { ok: false, code: opened.code, reason: opened.reason, status: 422 };
    const b = opened.bundle;
    const policySha256 = b.manifest.parts.find((p) => p.name === 'policy.onnx')?.sha256 ?? '';
    const existing = await this.store.getPolicy(b.version);
    if (existing) {
      // The seed packs afresh at every start (a new createdAtMs): the version registered is the baseline already.
      if (existing.sha256 === b.sha256 || !how.gated) return { ok: true, policy: view(existing), created: false };
      return {
        ok: false,
        code: 'POLICY_TRANSITION_INVALID',
        reason: `version ${b.version} is registered with another bundle (sha256 ${existing.sha256.slice(0, 16)}…, state ${existing.state}); the policy model is the same, so its version is too`,
        status: 409,
      };
    }
    if (how.gated) {
      const gate = evaluationGate(b.manifest.evalReport, policySha256, this.gate);
      if (!gate.ok) return { ok: false, code: 'POLICY_EVAL_GATE', reason: gate.reason, status: 422 };
    }
    const record: PolicyRecord = {
      version: b.version,
      sha256: b.sha256,
      policySha256,
      state: how.state,
      stateReason: how.reason,
      label: b.manifest.label ?? null,
      manifest: b.manifest,
      lineage: b.manifest.lineage,
      evalReport: b.manifest.evalReport ?? null,
      totalBytes: b.totalBytes,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    const created = await this.store.insertPolicy(record, bytes);
    const stored = created ? record : await this.store.getPolicy(b.version);
    if (!stored) throw new AerieError('STORAGE_FAILED', `policy ${b.version} vanished while being registered`);
    if (created) this.logger?.info({ version: b.version, state: how.state, keyId: b.keyId }, 'policy registered');
    return { ok: true, policy: view(stored), created };
  }

  async list(query: { states?: readonly PolicyState[]; limit?: number } = {}): Promise<PolicyView[]> {
    return (await this.store.listPolicies(query)).map(view);
  }

  async get(version: string): Promise<PolicyDetail | null> {
    const r = await this.store.getPolicy(version);
    if (!r) return null;
    const history = (await this.store.listPolicyTransitions(version)).map((t: PolicyTransitionRecord) => ({
      atMs: t.atMs,
      from: t.fromState,
      to: t.toState,
      reason: t.reason,
    }));
    return { ...view(r), history };
  }

  /** The signed bundle file of a version, with its hash; null when unknown. */
  async bundle(version: string): Promise<{ bytes: Buffer; sha256: string; version: string } | null> {
    const r = await this.store.getPolicy(version);
    if (!r) return null;
    const bytes = await this.store.getPolicyBundle(version);
    return bytes ? { bytes, sha256: r.sha256, version } : null;
  }

  /** The versions in the `active` state, newest first (one, outside a staged rollout's switch-over). */
  async active(): Promise<PolicyView[]> {
    return this.list({ states: ['active'] });
  }

  /**
   * Move a version to `to` with a reason. Throws POLICY_UNKNOWN, or POLICY_TRANSITION_INVALID when the move is not
   * allowed from its state or someone moved it meanwhile. Moving to the state it is in changes nothing.
   */
  async transition(version: string, to: PolicyState, reason: string, nowMs: number): Promise<PolicyView> {
    const r = await this.store.getPolicy(version);
    if (!r) throw new AerieError('POLICY_UNKNOWN', `no policy ${version} in the registry`, { version });
    if (r.state === to) return view(r);
    const from = r.state as PolicyState;
    if (!isPolicyState(from) || !POLICY_TRANSITIONS[from].includes(to)) {
      throw new AerieError(
        'POLICY_TRANSITION_INVALID',
        `policy ${version} is ${from}; it cannot become ${to} (allowed: ${(POLICY_TRANSITIONS[from as PolicyState] ?? []).join(', ') || 'none'})`,
        { version, from, to },
      );
    }
    if (!(await this.store.movePolicy(version, from, to, nowMs, reason))) {
      throw new AerieError(
        'POLICY_TRANSITION_INVALID',
        `policy ${version} changed state meanwhile; it is no longer ${from}`,
        {
          version,
          from,
          to,
        },
      );
    }
    this.logger?.info({ version, from, to, reason }, 'policy state changed');
    return view({ ...r, state: to, stateReason: reason, updatedAtMs: nowMs });
  }
}
