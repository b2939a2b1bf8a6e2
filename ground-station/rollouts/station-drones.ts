/**
 * The rollout manager's drone actions as station commands: `shadow-policy`, `activate-policy` and `revert-policy`
 * over the drone's command channel, and the bundle install through the bundle distribution (which sends
 * `install-policy` and the chunks). A command the link could not publish is a failure the manager retries.
 */
import { randomBytes } from 'node:crypto';
import type { Result } from '../../shared/errors.js';
import { type Command, PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import type { RolloutDronePort } from './manager.js';

export interface StationDronesDeps {
  readonly sendCommand: (droneId: string, command: Command) => Promise<Result<void, string>>;
  /** The bundle distribution's install (install-policy + transfer); absent: installs fail with the reason. */
  readonly install?: (droneId: string, version: string, nowMs: number) => Promise<Result<void, string>>;
}

const commandId = () => `ro-${randomBytes(6).toString('hex')}`;

export function stationRolloutDrones(deps: StationDronesDeps): RolloutDronePort {
  const base = (droneId: string, nowMs: number) => ({
    schema: PROTOCOL_VERSION,
    commandId: commandId(),
    timeMs: nowMs,
    target: droneId,
  });
  return {
    install: (droneId, version, nowMs) =>
      deps.install
        ? deps.install(droneId, version, nowMs)
        : Promise.resolve({ ok: false, reason: 'this station has no bundle distribution' }),
    shadow: (droneId, version, enabled, nowMs) =>
      deps.sendCommand(droneId, { ...base(droneId, nowMs), kind: 'shadow-policy', version, enabled }),
    activate: (droneId, version, nowMs) =>
      deps.sendCommand(droneId, { ...base(droneId, nowMs), kind: 'activate-policy', version }),
    revert: (droneId, nowMs) =>
      deps.sendCommand(droneId, { ...base(droneId, nowMs), kind: 'revert-policy', reason: 'rollout' }),
  };
}
