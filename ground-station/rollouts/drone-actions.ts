/**
 * What each drone must be told so that it flies what the rollout wants, from what it reports (pure): install the
 * candidate's bundle, start or stop shadow mode, activate the candidate or revert to the previous policy. A switch
 * of the active policy waits until the drone is landed and disarmed (the drone would refuse it otherwise); an action
 * already sent is not repeated until `retryMs` has passed without its effect.
 */
import type { DroneActionKind, PendingAction, Rollout } from './rollout.js';

/** A drone's policy slots and flight state as the station last heard them. */
export interface DronePolicyView {
  readonly id: string;
  readonly online: boolean;
  /** On the ground and disarmed (a policy switch is allowed). */
  readonly landedDisarmed: boolean;
  readonly active: string | null;
  readonly candidate: string | null;
  readonly shadow: string | null;
}

export interface DroneAction {
  readonly droneId: string;
  readonly kind: DroneActionKind;
  readonly version: string;
}

export interface ActionPlan {
  readonly actions: DroneAction[];
  /** Drones whose switch waits for landing and disarming. */
  readonly waiting: string[];
  /** Drones that fly what the rollout wants. */
  readonly settled: string[];
  /** Drones whose active policy must change (activate or revert, sent or waiting): no new order until it has. */
  readonly switching: string[];
}

/** The one action a drone needs next (null when it flies what it should, or must wait). */
export function nextAction(
  arm: 'baseline' | 'candidate' | 'shadow',
  d: DronePolicyView,
  candidate: string,
): { kind: DroneActionKind } | 'settled' | 'wait' {
  const installed = d.candidate === candidate || d.shadow === candidate;
  switch (arm) {
    case 'shadow':
      if (d.active === candidate) return d.landedDisarmed ? { kind: 'revert' } : 'wait';
      if (d.shadow === candidate) return 'settled';
      return installed ? { kind: 'shadow-on' } : { kind: 'install' };
    case 'candidate':
      if (d.active === candidate) return 'settled';
      if (!installed) return { kind: 'install' };
      return d.landedDisarmed ? { kind: 'activate' } : 'wait';
    case 'baseline':
      if (d.shadow === candidate) return { kind: 'shadow-off' };
      if (d.active === candidate) return d.landedDisarmed ? { kind: 'revert' } : 'wait';
      // A drone on any other version than the candidate is left alone (the baseline is what it flew before).
      return 'settled';
  }
}

/**
 * Plan the actions for every online drone of the rollout, and update `r.pending` (mutates): an entry is kept while
 * its action's effect is awaited, dropped once the drone is settled.
 */
export function planDroneActions(
  r: Rollout,
  drones: ReadonlyMap<string, DronePolicyView>,
  nowMs: number,
  retryMs: number,
): ActionPlan {
  const actions: DroneAction[] = [];
  const waiting: string[] = [];
  const settled: string[] = [];
  const switching: string[] = [];
  for (const [id, arm] of Object.entries(r.drones)) {
    const d = drones.get(id);
    if (!d?.online) continue;
    const next = nextAction(arm, d, r.candidate);
    if (next === 'wait' || (next !== 'settled' && (next.kind === 'activate' || next.kind === 'revert'))) {
      switching.push(id);
    }
    if (next === 'settled' || next === 'wait') {
      (next === 'settled' ? settled : waiting).push(id);
      if (next === 'settled') delete r.pending[id];
      continue;
    }
    const pending: PendingAction | undefined = r.pending[id];
    if (pending && pending.kind === next.kind && nowMs - pending.atMs < retryMs) continue;
    r.pending[id] = {
      kind: next.kind,
      atMs: nowMs,
      attempts: pending?.kind === next.kind ? pending.attempts + 1 : 1,
    };
    actions.push({ droneId: id, kind: next.kind, version: r.candidate });
  }
  return { actions, waiting, settled, switching };
}
