/**
 * `aerie eval` on the shipped default policy, SITL part included: full deliveries flown by the real onboard runtime
 * against the simulated PX4 fleet over UDP (wind, turbulence, a geofence and a no-fly zone), faster than real time.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { main as evalMain } from '../../ground-station/learning/eval-cli.js';
import { defaultPolicyPath } from '../../onboard/policy/index.js';

/** A port range of this file's own (distinct test files run in parallel), as test/support does. */
function basePort(): number {
  const key = `${import.meta.url}#${process.env.VITEST_POOL_ID ?? ''}`;
  return 20000 + (createHash('sha256').update(key).digest().readUInt32BE(0) % 900) * 40;
}

describe('aerie eval with SITL', () => {
  it('flies the default policy through the onboard runtime against the simulated fleet and reports the targets', async () => {
    const out: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await evalMain([
        defaultPolicyPath(),
        '--json',
        '--episodes',
        '6',
        '--sitl-deliveries',
        '3',
        '--sitl-parallel',
        '3',
        '--speed',
        '6',
        '--base-port',
        String(basePort()),
      ]);
      expect(code).toBe(0);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const report = JSON.parse(out.join(''));
    const sitl = report.sections.sitl;
    // The headline keys, at the top level and in the SITL section.
    expect(report.summaryFrom).toBe('sitl');
    expect(report.successRate).toBe(sitl.successRate);
    expect(report.interventionShare).toBe(sitl.interventionShareAny);
    expect(report.breachesFilterOn).toBe(sitl.breachesFilterOn);
    expect(report.breachesFilterOff).toBe(report.sections['vectorised-filter-off'].breachEpisodes);
    expect(Object.keys(sitl.interventionShare).sort()).toEqual(['barrier', 'box', 'monitor', 'sanity', 'shield']);
    // Every delivery flown end to end: out, parcel released, back and landed; no breach on the true position.
    expect(sitl.episodes).toBe(3);
    for (const d of sitl.deliveries) {
      expect(d.outcome, `delivery ${d.index}: ${d.reason}`).toBe('delivered');
      expect(d.timeToDeliverS).toBeGreaterThan(0);
      expect(d.policyTicks).toBeGreaterThan(0);
      // The loop's own count agrees with the section's (policy ticks are the cruise legs').
      expect(Math.abs(d.loop.policyTicks - d.policyTicks)).toBeLessThanOrEqual(1);
    }
    expect(sitl.successRate).toBe(1);
    expect(sitl.breachesFilterOn).toBe(0);
    expect(sitl.interventionShareAny).toBeGreaterThanOrEqual(0);
    expect(sitl.interventionShareAny).toBeLessThan(0.5);
  }, 120_000);
});
