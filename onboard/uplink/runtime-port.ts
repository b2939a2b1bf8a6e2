/** The uplink's port onto a real OnboardRuntime. */
import { policyVersionFromSha256 } from '../../shared/protocol/index.js';
import type { OnboardRuntime } from '../runtime.js';
import type { UplinkRolloutPort, UplinkRuntimePort } from './ports.js';

/** `rollout`: the runtime's onboard rollouts (onboard/rollout), when it has a policy folder. */
export function runtimePort(runtime: OnboardRuntime, rollout?: UplinkRolloutPort): UplinkRuntimePort {
  return {
    ...(rollout ? { rollout } : {}),
    vehicle: () => runtime.link.state(),
    autopilotLink: () => ({ up: runtime.link.isUp, linkDowns: runtime.link.counters.linkDowns }),
    mission: () => runtime.loop.currentMission,
    fly: (plan) => {
      void runtime.fly(plan);
    },
    triggerEmergencyStop: () => runtime.loop.triggerEmergencyStop(),
    setAirspace: (airspace) => runtime.loop.setAirspace(airspace),
    setNeighbours: (neighbours) => runtime.loop.setNeighbours(neighbours),
    policyVersion: () => {
      const info = runtime.policy.current?.info;
      return info ? policyVersionFromSha256(info.sha256) : 'none';
    },
    onTick: (listener) => runtime.onTick(listener),
  };
}
