/**
 * The scenario helper's two routes: real endpoints (here a simulated fleet running on its own clock stands in for
 * PX4 SITL, reached only through its URL) and a simulated fleet running faster than real time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { minimal, modeNameOfCustom } from '../../shared/mavlink/index.js';
import { runRealtime, SitlFleet } from '../../sitl/index.js';
import { portsFrom, px4EndpointsFromEnv, startTestVehicles, type TestVehicles } from '../support/index.js';

describe('scenario endpoints', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('reads AERIE_PX4_ENDPOINTS', () => {
    expect(px4EndpointsFromEnv({})).toBeNull();
    expect(px4EndpointsFromEnv({ AERIE_PX4_ENDPOINTS: 'udp://:14540, udp://:14541' })).toEqual([
      'udp://:14540',
      'udp://:14541',
    ]);
    expect(() => px4EndpointsFromEnv({ AERIE_PX4_ENDPOINTS: 'tcp://x' })).toThrow(/MAVLINK_URL_INVALID/);
  });

  it('drives a vehicle behind a bare URL on the wall clock, learning its system id from HEARTBEAT', async () => {
    const base = 45_000 + (process.pid % 100) * 30;
    const fleet = await SitlFleet.start({
      vehicles: 2,
      network: 'udp',
      ports: portsFrom(base, 2),
      estimatorReadyS: 0.2,
    });
    const stop = new AbortController();
    const running = runRealtime(fleet, { speed: 1, signal: stop.signal });
    cleanups.push(async () => {
      stop.abort();
      await running;
      await fleet.close();
    });
    const env: TestVehicles = await startTestVehicles(1, { px4Endpoints: [fleet.endpoints[1].companionUrl] });
    cleanups.push(() => env.close());
    expect(env.kind).toBe('px4');
    expect(env.fleet).toBeNull();
    const client = await env.client(0);
    expect(client.targetSystem).toBe(2);
    expect((await client.command(31_337)).resultName).toBe('UNSUPPORTED');
    expect((await client.setMode('POSCTL')).resultName).toBe('ACCEPTED');
    await client.waitFor(minimal.Heartbeat, (m) => modeNameOfCustom(m.customMode) === 'POSCTL', 3000);
  });

  it('runs a simulated fleet faster than real time when asked', async () => {
    const env = await startTestVehicles(1, {
      portKey: import.meta.url,
      timing: 'realtime',
      speed: 20,
      simulatedOnly: true,
    });
    cleanups.push(() => env.close());
    const client = await env.client(0);
    const start = env.fleet?.timeS ?? 0;
    const beats = await client.collect(minimal.Heartbeat, 4000);
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect((env.fleet?.timeS ?? 0) - start).toBeGreaterThan(2);
  });
});
