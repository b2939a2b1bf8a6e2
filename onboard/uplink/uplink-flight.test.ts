/**
 * The uplink on a real onboard runtime flying against the simulated fleet: a delivery assigned over MQTT is acked,
 * flown, and reported (events with the task id, telemetry, metrics). Checks the runtime port end to end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodePayload, topics } from '../../shared/protocol/index.js';
import { startTestVehicles, type TestVehicles } from '../../test/support/index.js';
import { goToGoalModelFile } from '../../test/support/onboard-models.js';
import { OnboardRuntime } from '../runtime.js';
import { runtimePort } from './runtime-port.js';
import { Subscriber, startBroker, type TestBroker, tempDataDir, testConfig } from './test-support.js';
import { Uplink } from './uplink.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('uplink on a flying runtime', () => {
  it('flies a delivery assigned over MQTT and reports it', async () => {
    const broker: TestBroker = await startBroker();
    cleanups.push(() => broker.close());
    const vehicles: TestVehicles = await startTestVehicles(1, {
      portKey: import.meta.url,
      timing: 'realtime',
      speed: 4,
      estimatorReadyS: 2,
    });
    cleanups.push(() => vehicles.close());
    // The stand-in go-to-goal model: this test is about the uplink, not about the trained policy.
    const runtime = await OnboardRuntime.create({
      link: { mavlink: vehicles.vehicles[0].url },
      policyPath: goToGoalModelFile(),
      control: { policyDeadlineMs: 50 },
      timeScale: 4,
    });
    cleanups.push(() => runtime.stop());
    const data = tempDataDir();
    cleanups.push(data.cleanup);
    const config = testConfig(broker.url, data.dir, { telemetryHz: 5, metricsWindowS: 2 });
    const station = await Subscriber.connect(broker.url, [`aerie/v1/drones/${config.id}/#`]);
    cleanups.push(async () => {
      await station.publish(topics.droneStatus(config.id), '', true);
      await station.close();
    });
    const uplink = Uplink.open(config, runtimePort(runtime));
    cleanups.push(() => uplink.stop(0));
    await runtime.start();
    uplink.start();
    expect(await runtime.waitForAutopilot(10_000)).toBe(true);

    // The birth carries the home once the autopilot reports it (a second birth if it came later).
    const births = () => station.on(topics.droneStatus(config.id)).filter((m) => m.json?.kind === 'birth');
    await station.waitFor(() => births().some((m) => m.json?.home !== null), 20_000, 'birth with home');
    expect(births().at(-1)?.json?.policyVersion).toMatch(/^sha256:[0-9a-f]{16}$/);

    const command = {
      schema: '1.0',
      commandId: 'fly-1',
      timeMs: Date.now(),
      kind: 'assign-delivery',
      taskId: 'T-flight',
      dropNeM: [30, 0],
      cruiseAltM: 10,
      releaseBy: 'hover',
    };
    await station.publish(topics.droneCommands(config.id), JSON.stringify(command));
    const eventsTopic = topics.droneEvents(config.id);
    const events = () => station.on(eventsTopic).map((m) => m.json as Record<string, unknown>);
    await station.waitFor(
      (all) => all.some((m) => m.topic === topics.droneAcks(config.id) && m.json?.commandId === 'fly-1'),
      5000,
      'ack',
    );
    expect(station.on(topics.droneAcks(config.id))[0].json).toMatchObject({ result: 'accepted' });
    await station.waitFor(() => events().some((e) => e.missionEvent === 'outcome'), 90_000, 'outcome');

    for (const m of station.on(eventsTopic)) expect(decodePayload('events', m.raw).ok).toBe(true);
    const outcome = events().find((e) => e.missionEvent === 'outcome');
    expect(outcome).toMatchObject({ outcome: 'delivered', taskId: 'T-flight' });
    expect(events().map((e) => e.seq)).toEqual(events().map((_, i) => i + 1));
    const phases = events()
      .filter((e) => e.missionEvent === 'phase')
      .map((e) => e.phase);
    expect(phases).toEqual(expect.arrayContaining(['takeoff', 'cruise-out', 'release', 'cruise-back', 'landing']));

    const telemetry = station.on(topics.droneTelemetry(config.id)).map((m) => m.json as Record<string, unknown>);
    const cruising = telemetry.find((t) => t.missionPhase === 'cruise-out');
    expect(cruising).toMatchObject({ taskId: 'T-flight', armed: true, linkQuality: { autopilotUp: true } });
    expect(cruising?.geo).not.toBeNull();

    await uplink.stop();
    const metrics = station.on(topics.droneMetrics(config.id)).map((m) => m.json as Record<string, number>);
    const total = (k: string) => metrics.reduce((s, m) => s + m[k], 0);
    expect(total('episodes')).toBe(1);
    expect(total('successes')).toBe(1);
    expect(total('policyTicks')).toBeGreaterThan(0);
    expect(metrics.some((m) => (m.inferenceLatencyUs as unknown as { p50: number | null }).p50 !== null)).toBe(true);
  }, 120_000);
});
