/**
 * The rollout's values as the uplink and the runtime see them: policy events, the status' `policy` field, the
 * metrics' `shadow`, the commands and their answers, what it needs of the runtime, and its options.
 */
import type { TrustedKey } from '../../shared/bundle/index.js';
import type { Airspace } from '../../shared/geo/index.js';
import type { Logger } from '../../shared/log/index.js';
import type { MavlinkLink } from '../../shared/mavlink/index.js';
import type { TickReport } from '../control/index.js';
import type { MavlinkSource, VehicleState } from '../link/index.js';
import type { MissionPhase } from '../mission/index.js';
import type { ModelSource, SwapOutcome } from '../policy/index.js';
import type { Neighbour, SafetyConfig } from '../safety/index.js';
import type { CrashPoint } from './slots.js';

export type PolicyAction =
  | 'loaded'
  | 'bundle-progress'
  | 'installed'
  | 'refused'
  | 'activated'
  | 'rolled-back'
  | 'shadow-started'
  | 'shadow-stopped';

/** A `policy` event body (the uplink adds the envelope). */
export interface PolicyEvent {
  readonly kind: 'policy';
  readonly action: PolicyAction;
  readonly policyVersion: string;
  readonly reason?: string;
  /** Stable code of a refusal (BUNDLE_*, POLICY_*, CONFIG_*). */
  readonly code?: string;
  /** The command this answers. */
  readonly commandId?: string;
  readonly transferId?: string;
  readonly count?: number;
  readonly receivedChunks?: number;
  readonly missingChunks?: number[];
}

/** The metrics' `shadow` field (docs/protocol.md). */
export interface ShadowMetrics {
  readonly policyVersion: string;
  readonly ticks: number;
  readonly divergenceMeanMps: number | null;
  readonly divergenceP95Mps: number | null;
  readonly wouldBeInterventionTicks: number;
  readonly wouldBeInterventionsByLayer: Readonly<Record<'sanity' | 'box' | 'barrier' | 'shield' | 'monitor', number>>;
}

/** The status' `policy` field. */
export interface PolicyStatus {
  readonly active: { readonly version: string; readonly sha256: string };
  readonly candidate?: { readonly version: string; readonly sha256: string };
  readonly previous?: { readonly version: string };
  readonly shadow?: string;
}

export interface RolloutAnswer {
  readonly result: 'accepted' | 'rejected' | 'failed';
  readonly reason?: string;
}

export type RolloutCommand = { readonly commandId: string } & (
  | {
      readonly kind: 'install-policy';
      readonly version: string;
      readonly sha256: string;
      readonly totalBytes: number;
      readonly url?: string;
      readonly transferId?: string;
    }
  | { readonly kind: 'activate-policy'; readonly version: string; readonly sha256?: string; readonly url?: string }
  | { readonly kind: 'shadow-policy'; readonly version: string; readonly enabled: boolean }
  | { readonly kind: 'revert-policy' }
);

/** What the manager needs of the onboard runtime (OnboardRuntime satisfies it). */
export interface RolloutHost {
  readonly policy: {
    readonly current: { readonly info: { readonly sha256: string } } | null;
    swap(source: ModelSource, options?: { label?: string }): Promise<SwapOutcome>;
  };
  readonly shield: { swap(source: ModelSource, options?: { label?: string }): Promise<SwapOutcome> } | null;
  readonly link: {
    readonly isUp: boolean;
    state(): Readonly<VehicleState>;
    readonly mavlink: Pick<MavlinkLink, 'send' | 'on'>;
    readonly tracker: { readonly autopilot: MavlinkSource | null };
  };
  readonly loop: {
    readonly currentMission: { readonly phase: MissionPhase; readonly outcome: unknown } | null;
    getAirspace(): Airspace;
    getNeighbours(): readonly Neighbour[];
  };
  readonly controlConfig: {
    readonly maxHorizontalSpeedMS: number;
    readonly maxUpSpeedMS: number;
    readonly maxDownSpeedMS: number;
    readonly policyDeadlineMs: number;
  };
  readonly safetyConfig: SafetyConfig;
  readonly clock: { nowMs(): number };
  onTick(listener: (r: TickReport) => void): () => void;
}

export interface RolloutOptions {
  /** The slot folder (--policy-dir). */
  readonly dir: string;
  readonly trustedKeys: readonly TrustedKey[];
  /** Flights a fresh activation is watched for (0: never reverted on the drone). */
  readonly probationFlights?: number;
  /** Consecutive policy faults that trip a probation. */
  readonly faultStreakTicks?: number;
  /** How long an install waits for its chunks before it is answered 'failed' (the chunks stay on disk). */
  readonly installTimeoutMs?: number;
  /** Quiet time after which the drone reports the chunks it still misses (ms). */
  readonly progressIdleMs?: number;
  /** HTTP basic auth for bundle URLs: the drone's MQTT login. */
  readonly http?: { readonly username?: string; readonly password?: string };
  /** Unix ms for records (default Date.now). */
  readonly nowMs?: () => number;
  readonly log?: Logger;
  /** The policy flown when no slot is active (the runtime's --policy; default: the shipped default policy). */
  readonly fallbackPolicyPath?: string;
  /** Tests only: crash points of the slot store. */
  readonly crashAt?: (point: CrashPoint) => void;
}
