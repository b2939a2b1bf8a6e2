/**
 * The policy registry's and the rollouts' tables live in their own modules (policy-store.ts, rollout-store.ts), one
 * implementation per dialect; a StationStore hands those calls on. This base class is that hand-over, written once
 * for both databases: a store names its two sub-stores and inherits the methods.
 */
import type { PolicyQuery, PolicyRecord, PolicyStore, PolicyTransitionRecord } from './policy-store.js';
import type { RolloutQuery, RolloutRecord, RolloutStore, RolloutTransitionRecord } from './rollout-store.js';

export abstract class SubStores {
  protected abstract get rollouts(): RolloutStore;
  protected abstract get policies(): PolicyStore;

  saveRollout(r: RolloutRecord): Promise<void> {
    return this.rollouts.saveRollout(r);
  }
  getRollout(id: string): Promise<RolloutRecord | null> {
    return this.rollouts.getRollout(id);
  }
  listRollouts(query?: RolloutQuery): Promise<RolloutRecord[]> {
    return this.rollouts.listRollouts(query);
  }
  appendRolloutTransitions(ts: readonly RolloutTransitionRecord[]): Promise<void> {
    return this.rollouts.appendRolloutTransitions(ts);
  }
  listRolloutTransitions(rolloutId: string): Promise<RolloutTransitionRecord[]> {
    return this.rollouts.listRolloutTransitions(rolloutId);
  }

  insertPolicy(p: PolicyRecord, bundle: Uint8Array): Promise<boolean> {
    return this.policies.insertPolicy(p, bundle);
  }
  getPolicy(version: string): Promise<PolicyRecord | null> {
    return this.policies.getPolicy(version);
  }
  listPolicies(query?: PolicyQuery): Promise<PolicyRecord[]> {
    return this.policies.listPolicies(query);
  }
  getPolicyBundle(version: string): Promise<Buffer | null> {
    return this.policies.getPolicyBundle(version);
  }
  movePolicy(version: string, from: string, to: string, atMs: number, reason: string): Promise<boolean> {
    return this.policies.movePolicy(version, from, to, atMs, reason);
  }
  listPolicyTransitions(version: string): Promise<PolicyTransitionRecord[]> {
    return this.policies.listPolicyTransitions(version);
  }
}
