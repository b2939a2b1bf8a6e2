/**
 * What the uplink needs from the onboard runtime, as a small port (runtime-port.ts adapts an OnboardRuntime; unit
 * tests give a fake). The uplink reads vehicle state and tick reports and applies commands only through it.
 */
import type { Airspace } from '../../shared/geo/index.js';
import type { VehicleState } from '../link/index.js';
import type { MissionEvent, MissionOutcome, MissionPhase, MissionPlan, MissionRequest } from '../mission/index.js';
import type { Neighbour, SafetyLayer } from '../safety/index.js';

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
}
