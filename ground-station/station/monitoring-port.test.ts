/**
 * The station's monitoring glue with stepped time: telemetry counted exactly through the once-a-second sampling,
 * alerts evaluated, persisted, restored after a restart (neither lost nor re-announced) and acknowledged.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { componentLogger } from '../../shared/log/index.js';
import { type DroneBirth, examplePayloads, type Metrics, type Telemetry } from '../../shared/protocol/index.js';
import { DropCounters } from '../broker/index.js';
import { FleetRegistry } from '../fleet/index.js';
import { type OpenedStore, storeBackends } from '../storage/test-support.js';
import { LatencyRecorder } from './latency.js';
import { parseWindow, StationMonitoring } from './monitoring-port.js';

const T0 = 1_760_000_000_000;

function monitoringOn(opened: OpenedStore, registry: FleetRegistry, store = opened.store): StationMonitoring {
  return new StationMonitoring(
    store,
    registry,
    {
      drops: new DropCounters(),
      dispatcher: () => ({
        rounds: 0,
        commandsSent: 0,
        sendFailures: 0,
        acks: {},
        requeued: 0,
        delivered: 0,
        failed: 0,
        cancelled: 0,
        roundsLockedOut: 0,
        lastRound: null,
        lastRoundAtMs: null,
      }),
      experience: () => ({ batchesStored: 0, recordsStored: 0, duplicates: 0, refused: 0 }),
      latency: new LatencyRecorder(),
      messagesReceived: () => 0,
    },
    {},
    componentLogger('monitoring-test'),
  );
}

const telemetry = (seq: number, timeMs: number, batteryRemaining: number): Telemetry => ({
  ...examplePayloads().telemetry,
  id: 'd1',
  seq,
  timeMs,
  batteryRemaining,
});
const metrics = (seq: number, timeMs: number, policyFaults: number): Metrics => ({
  ...examplePayloads().metrics,
  id: 'd1',
  seq,
  timeMs,
  policyFaults,
});

describe('parseWindow', () => {
  it('reads 1m, 5m, 60m, 1h, 90s and bare seconds, and refuses the rest', () => {
    expect([parseWindow('1m'), parseWindow('5m'), parseWindow('60m'), parseWindow('1h'), parseWindow('90s')]).toEqual([
      60, 300, 3600, 3600, 90,
    ]);
    expect(parseWindow('300')).toBe(300);
    expect(parseWindow('0s')).toBeNull();
    expect(parseWindow('8d')).toBeNull();
    expect(parseWindow('soon')).toBeNull();
  });
});

for (const backend of storeBackends()) {
  describe(`StationMonitoring on ${backend.name}`, () => {
    let opened: OpenedStore;
    let registry: FleetRegistry;
    beforeEach(async () => {
      opened = await backend.open();
      registry = new FleetRegistry();
      registry.applyStatus({ ...(examplePayloads().status as DroneBirth), id: 'd1', timeMs: T0 }, T0);
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    it('counts every telemetry message though it samples once a second', () => {
      const m = monitoringOn(opened, registry);
      for (let i = 0; i < 25; i++) m.onTelemetry(telemetry(i + 1, T0 + i * 100, 0.9 - i * 0.001));
      m.flushAllTelemetry();
      expect(m.collector.totals('telemetry', 'drone:d1')?.sum).toBe(25);
      expect(m.collector.totals('messages', 'fleet')?.sum).toBe(25);
      expect(m.collector.lastValue('battery_remaining', 'drone:d1')?.value).toBeCloseTo(0.9 - 24 * 0.001, 12);
      // Three samples (at 1 s, 2 s and the final flush), not 25.
      expect(m.collector.totals('battery_remaining', 'drone:d1')?.count).toBe(3);
      const r = m.metrics({ window: '1m', scope: 'drone:d1' }, T0 + 3000);
      expect(r.ok && (r.value as { windowS: number }).windowS).toBe(60);
    });

    it('persists a firing alert, restores it after a restart without announcing it again, and keeps an ack', async () => {
      const m = monitoringOn(opened, registry);
      m.onMetrics(metrics(1, T0, 2));
      const fired = await m.evaluate(T0 + 1000);
      expect(fired.map((t) => [t.rule, t.to])).toContainEqual(['policy-faults', 'firing']);
      const alert = m.engine.firing().find((a) => a.rule === 'policy-faults')!;
      expect(await m.ack(alert.id, 'alice', T0 + 2000)).toBe(true);
      expect(await m.ack('no-such-alert', 'alice', T0 + 2000)).toBe(false);

      const again = monitoringOn(opened, registry, await opened.reopen());
      await again.restore();
      const restored = again.engine.firing().find((a) => a.rule === 'policy-faults');
      expect(restored).toMatchObject({ id: alert.id, state: 'firing', acknowledgedBy: 'alice' });
      // The same fault data again (a drone resending its window): no second 'firing' transition.
      again.onMetrics(metrics(1, T0, 2));
      const next = await again.evaluate(T0 + 3000);
      expect(next.filter((t) => t.rule === 'policy-faults' && t.to === 'firing')).toEqual([]);
      const view = again.alerts({ state: 'firing' }) as { firing: { rule: string }[] };
      expect(view.firing.map((a) => a.rule)).toContain('policy-faults');
    });
  });
}
