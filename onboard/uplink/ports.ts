/**
 * What the uplink needs from the onboard runtime, as a small port (runtime-port.ts adapts an OnboardRuntime; unit
 * tests give a fake). The uplink reads vehicle state and tick reports and applies commands only through it.
 */
import type { Airspace } from '../../shared/geo/index.js';
import type { BundleChunk, Command, DroneBirth, Metrics } from '../../shared/protocol/index.js';
import type { VehicleState } from '../link/index.js';
import type { MissionEvent, MissionOutcome, MissionPhase, MissionPlan, MissionRequest } from '../mission/index.js';
import type { Neighbour, SafetyLayer } from '../safety/index.js';
import type { EventBody } from './events.js';

/** The mission flying now (or the last one) as the uplink sees it; DeliveryMission satisfies it. */
export interface MissionHandle {
  readonly phase: MissionPhase;
  readonly outcome: MissionOutcome | null;
  request(req: MissionRequest, by?: 'operator' | 'monitor'): void;
}

/** The fields of a control tick's report the uplink reads (the loop's TickReport satisfies it). */
export interface UplinkTick {
  readonly phase: MissionPhase;
  readonly events: readonly MissionEvent[];
  readonly policy: { readonly ok: boolean; readonly latencyUs: number } | null;
  readonly decision: {
    readonly layers: Readonly<Record<SafetyLayer, boolean>>;
    readonly interventions: readonly {
      readonly layer: SafetyLayer;
      readonly reason: string;
      readonly magnitudeMS: number;
    }[];
    readonly policyFault: boolean;
    readonly error: string | null;
    readonly barrier: { readonly breached: readonly string[] };
    readonly monitor: {
      readonly transition: { readonly from: string; readonly to: string; readonly rules: readonly string[] } | null;
    };
  };
}

/** The commands a drone with onboard rollouts answers (onboard/rollout). */
export type PolicyCommand = Extract<
  Command,
  { kind: 'install-policy' | 'activate-policy' | 'shadow-policy' | 'revert-policy' }
>;

/** Onboard rollouts as the uplink sees them (onboard/rollout RolloutManager satisfies it). */
export interface UplinkRolloutPort {
  /** Apply a policy command; resolves with its ack's result once done. Never rejects. */
  command(
    cmd: PolicyCommand,
  ): Promise<{ readonly result: 'accepted' | 'rejected' | 'failed'; readonly reason?: string }>;
  /** One chunk from the drone's `bundle` channel (already decoded and checked against the schema). */
  chunk(chunk: BundleChunk): void | Promise<void>;
  /** The status' `policy` field. */
  status(): NonNullable<DroneBirth['policy']>;
  /** The metrics' `shadow` field for the window that closes now (null when no shadow ran). */
  shadowMetrics(): Metrics['shadow'] | null;
  /** Where policy events go. */
  setEventSink(sink: (event: EventBody) => void): void;
  /** The broker connection came (back) up. */
  onReconnect(): void;
}

export interface UplinkRuntimePort {
  /** The live vehicle state (read it, do not keep it). */
  vehicle(): Readonly<VehicleState>;
  /** The autopilot's heartbeat keeps coming; and how often it was lost since start. */
  autopilotLink(): { readonly up: boolean; readonly linkDowns: number };
  mission(): MissionHandle | null;
  /** Start flying a delivery (the outcome arrives as tick events). */
  fly(plan: MissionPlan): void;
  triggerEmergencyStop(): void;
  setAirspace(airspace: Airspace): void;
  setNeighbours(neighbours: readonly Neighbour[]): void;
  /** The version of the policy flying now (see policyVersionFromSha256). */
  policyVersion(): string;
  /** Called after every control tick; returns an unsubscribe. */
  onTick(listener: (tick: UplinkTick) => void): () => void;
  /** Onboard rollouts (policy slots, bundles, shadow); absent: policy commands are answered 'unsupported'. */
  readonly rollout?: UplinkRolloutPort;
}
