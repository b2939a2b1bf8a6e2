import { describe, expect, it } from 'vitest';
import { evaluateShield } from './shield.js';

const enforce = { shieldMode: 'enforce', shieldThreshold: 1 } as const;

describe('shield layer', () => {
  it('vetoes strictly above the threshold in enforce mode', () => {
    expect(evaluateShield({ score: 1 }, false, enforce)).toEqual({
      veto: false,
      wouldVeto: false,
      reason: null,
      score: 1,
    });
    expect(evaluateShield({ score: 1.01 }, false, enforce)).toEqual({
      veto: true,
      wouldVeto: true,
      reason: 'shield_veto',
      score: 1.01,
    });
  });

  it('fails closed on missing and non-finite scores when enforcing', () => {
    expect(evaluateShield(null, false, enforce)).toMatchObject({ veto: true, reason: 'shield_missing' });
    expect(evaluateShield({ score: Number.POSITIVE_INFINITY }, false, enforce)).toMatchObject({
      veto: true,
      reason: 'shield_score_invalid',
    });
  });

  it('reports only in advisory mode, is silent when off or when the policy already faulted', () => {
    expect(evaluateShield({ score: 5 }, false, { ...enforce, shieldMode: 'advisory' })).toMatchObject({
      veto: false,
      wouldVeto: true,
    });
    expect(evaluateShield({ score: 5 }, false, { ...enforce, shieldMode: 'off' }).wouldVeto).toBe(false);
    expect(evaluateShield({ score: 5 }, true, enforce).veto).toBe(false);
  });
});
