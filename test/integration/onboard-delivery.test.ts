import { afterEach, describe, expect, it } from 'vitest';
import { FlightRecorder } from '../../onboard/flight-report.js';
import { OnboardRuntime } from '../../onboard/runtime.js';
import { startTestVehicles, type TestVehicles } from '../support/index.js';
import { goToGoalModelFile } from '../support/onboard-models.js';

let vehicles: TestVehicles | null = null;
let runtime: OnboardRuntime | null = null;
afterEach(async () => {
  await runtime?.stop();
  await vehicles?.close();
  runtime = null;
  vehicles = null;
});

describe('a delivery flown by the onboard runtime against aerie sitl over UDP', () => {
  it('delivers with an ONNX policy in wind and comes home', async () => {
    vehicles = await startTestVehicles(1, {
      portKey: import.meta.url,
      timing: 'realtime',
      speed: 3,
      estimatorReadyS: 3,
    });
    vehicles.fleet?.injectFault(0, { kind: 'wind', northMS: 3, eastMS: -2, downMS: 0, gustStdMS: 1 });
    // An ONNX policy written by the project (go-to-goal), so this test does not move with retraining; a generous
    // inference deadline, because a loaded CI machine is not the companion computer this budget is for.
    runtime = await OnboardRuntime.create({
      link: { mavlink: vehicles.vehicles[0].url },
      policyPath: goToGoalModelFile(),
      control: { policyDeadlineMs: 50 },
      timeScale: 3,
    });
    const recorder = new FlightRecorder();
    const rt = runtime;
    rt.onTick((r) => recorder.record(r, rt.link.state()));
    await rt.start();
    expect(await rt.waitForAutopilot(10_000)).toBe(true);
    const result = await rt.fly({
      dropNeM: [60, 40],
      returnNeM: [0, 0],
      cruiseAltM: 15,
      releaseAltM: 5,
      releaseBy: 'hover',
      arrivalRadiusM: 2,
    });
    const report = recorder.finish(result.outcome, result.reason, rt.loop.stats.summary());
    expect(result.outcome).toBe('delivered');
    expect(report.phaseDurationsS['cruise-out']).toBeGreaterThan(0);
    expect(report.distanceFlownM).toBeGreaterThan(2 * Math.hypot(60, 40));
    expect(report.policyFaults).toBe(0);
    // The vehicle is home, landed and disarmed (PX4 disarms after landing).
    const status = vehicles.fleet?.status(0);
    expect(status?.armed).toBe(false);
    expect(Math.hypot(status?.positionNedM[0] ?? 99, status?.positionNedM[1] ?? 99)).toBeLessThan(3);
  }, 120_000);
});
