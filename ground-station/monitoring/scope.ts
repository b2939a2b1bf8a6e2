/**
 * Where a metric is aggregated: the whole fleet, one drone, or one policy version. Scope keys are the strings the
 * collector, the alert engine and their snapshots use: 'fleet', 'drone:<id>', 'policy:<version>'.
 */
export type ScopeKind = 'fleet' | 'drone' | 'policy';

export type Scope =
  | { readonly kind: 'fleet' }
  | { readonly kind: 'drone'; readonly droneId: string }
  | { readonly kind: 'policy'; readonly policyVersion: string };

export const FLEET: Scope = Object.freeze({ kind: 'fleet' });

export const droneScope = (droneId: string): Scope => ({ kind: 'drone', droneId });
export const policyScope = (policyVersion: string): Scope => ({ kind: 'policy', policyVersion });

export function scopeKey(scope: Scope): string {
  switch (scope.kind) {
    case 'fleet':
      return 'fleet';
    case 'drone':
      return `drone:${scope.droneId}`;
    case 'policy':
      return `policy:${scope.policyVersion}`;
  }
}

/** Inverse of scopeKey; null for a string that is not a scope key. */
export function parseScopeKey(key: string): Scope | null {
  if (key === 'fleet') return FLEET;
  if (key.startsWith('drone:') && key.length > 6) return droneScope(key.slice(6));
  if (key.startsWith('policy:') && key.length > 7) return policyScope(key.slice(7));
  return null;
}

export const scopeKindOf = (key: string): ScopeKind | null => parseScopeKey(key)?.kind ?? null;
