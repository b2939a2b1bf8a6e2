import { describe, expect, it } from 'vitest';
import type { Airspace } from '../../../shared/geo/index.js';
import { BarrierProbe, envSafetyConfig, widenedProbeConfig } from './barrier-probe.js';
import { parseEnvConfig } from './env-config.js';

const zoneAt = (eastM: number, radiusM: number): Airspace => ({
  geofence: null,
  noFlyZones: [{ kind: 'cylinder', id: 'z', centerNeM: { n: 0, e: eastM }, radiusM }],
  altitudeFloorM: 0,
});

describe('the barrier probe', () => {
  const safety = envSafetyConfig(parseEnvConfig({}));
  const here = { n: 0, e: 0, d: -30 };
  const still = { n: 0, e: 0, d: 0 };

  it("widens only the horizontal margins by the training buffer and keeps the filter's own otherwise", () => {
    expect(widenedProbeConfig(safety, 0)).toBe(safety);
    const wide = widenedProbeConfig(safety, 3);
    expect(wide.zoneMarginM).toBe(safety.zoneMarginM + 3);
    expect(wide.fenceMarginM).toBe(safety.fenceMarginM + 3);
    expect(wide.separationMarginM).toBe(safety.separationMarginM + 3);
    expect(wide.verticalMarginM).toBe(safety.verticalMarginM);
    expect(wide.maxHorizontalAccelMS2).toBe(safety.maxHorizontalAccelMS2);
  });

  it('counts a slow approach inside the widened band, which the filter itself lets through', () => {
    // 5 m from the zone's edge, creeping towards it at 0.3 m/s: outside the filter's 3 m margin, inside 3 + 3 m.
    const airspace = zoneAt(15, 10);
    const toward = { n: 0, e: 0.3, d: 0 };
    expect(new BarrierProbe(safety).interventionMS(here, still, toward, airspace, [])).toBe(0);
    expect(
      new BarrierProbe(widenedProbeConfig(safety, 3)).interventionMS(here, still, toward, airspace, []),
    ).toBeGreaterThan(0.05);
    // Far from the zone both let it through.
    const far = zoneAt(40, 10);
    expect(new BarrierProbe(widenedProbeConfig(safety, 3)).interventionMS(here, still, toward, far, [])).toBe(0);
  });

  it("leaves the environment's probe at the filter's margins unless the config asks for a buffer", () => {
    expect(parseEnvConfig({}).probeExtraMarginM).toBe(0);
    expect(() => parseEnvConfig({ probeExtraMarginM: -1 })).toThrow(/probeExtraMarginM/);
  });
});
