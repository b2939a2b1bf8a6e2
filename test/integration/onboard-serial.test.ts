/**
 * The delivery of onboard-delivery.test.ts (with the go-to-goal model), but the runtime reaches the vehicle over a serial line, as a companion
 * wired to the flight controller's TELEM port does: socat makes a pty and bridges it to the simulated vehicle's
 * onboard UDP port (from the companion port the vehicle streams to), and the runtime opens `serial:<pty>:921600`.
 * MAVLink frames written whole to the pty must arrive at the vehicle as whole datagrams, and the runtime must
 * reassemble the vehicle's datagrams from the byte stream.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlightRecorder } from '../../onboard/flight-report.js';
import { OnboardRuntime } from '../../onboard/runtime.js';
import { startTestVehicles, type TestVehicles } from '../support/index.js';
import { goToGoalModelFile } from '../support/onboard-models.js';

const SOCAT = '/usr/bin/socat';
const hasSocat = existsSync(SOCAT);
const title = hasSocat
  ? 'a delivery flown by the onboard runtime over a serial pty bridged to aerie sitl (socat)'
  : `a delivery over a serial pty - SKIPPED: socat not found at ${SOCAT}`;

let vehicles: TestVehicles | null = null;
let runtime: OnboardRuntime | null = null;
let socat: ChildProcess | null = null;
afterEach(async () => {
  await runtime?.stop();
  if (socat && socat.exitCode === null) {
    const gone = new Promise((resolve) => socat?.once('exit', resolve));
    socat.kill('SIGTERM');
    await gone;
  }
  await vehicles?.close();
  runtime = null;
  socat = null;
  vehicles = null;
});

/** Start socat; resolves once it is relaying, rejects with its log if it does not get there. */
function bridge(ptyPath: string, vehiclePort: number, companionPort: number): Promise<ChildProcess> {
  const args = [
    '-d',
    '-d',
    `PTY,raw,echo=0,link=${ptyPath}`,
    `UDP:127.0.0.1:${vehiclePort},sourceport=${companionPort}`,
  ];
  const proc = spawn(SOCAT, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat did not start relaying within 10 s:\n${log}`)), 10_000);
    proc.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (/starting data transfer loop/.test(log)) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited (${code}):\n${log}`));
    });
  });
}

describe.skipIf(!hasSocat)(title, () => {
  it('delivers in wind and comes home; frames cross the pty whole', async () => {
    vehicles = await startTestVehicles(1, {
      portKey: import.meta.url,
      timing: 'realtime',
      speed: 3,
      estimatorReadyS: 3,
      simulatedOnly: true,
    });
    const fleet = vehicles.fleet;
    if (fleet === null) throw new Error('the simulated fleet is needed');
    fleet.injectFault(0, { kind: 'wind', northMS: 3, eastMS: -2, downMS: 0, gustStdMS: 1 });
    const { listenPort, remotePort } = fleet.endpoints[0].onboard;
    const pty = join(mkdtempSync(join(tmpdir(), 'aerie-pty-')), 'ttyS0');
    socat = await bridge(pty, listenPort, remotePort);

    runtime = await OnboardRuntime.create({
      link: { mavlink: `serial:${pty}:921600` },
      timeScale: 3,
      // The simple go-to-goal model: this scenario is about the serial line, not the (retrained) default policy.
      policyPath: goToGoalModelFile(),
      // The runtime's scaled clock runs free of the simulator's, which slips when a loaded machine cannot keep up:
      // room for that (and for a slow inference), since neither is what this scenario is about.
      control: { policyDeadlineMs: 50, stallThresholdMs: 1000 },
      safety: { stateStaleMs: 1500, stateLostLandMs: 5000 },
    });
    const rt = runtime;
    expect(rt.link.mavlink.transport.mode).toBe('stream');
    const recorder = new FlightRecorder();
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
    expect(result.outcome, JSON.stringify(report.events)).toBe('delivered');
    expect(report.phaseDurationsS['cruise-out']).toBeGreaterThan(0);
    expect(report.distanceFlownM).toBeGreaterThan(2 * Math.hypot(60, 40));
    expect(report.policyFaults).toBe(0);

    // The simulated vehicle, in truth: home, landed, disarmed.
    const status = fleet.status(0);
    expect(status.armed).toBe(false);
    expect(status.landed).toBe(true);
    expect(Math.hypot(status.positionNedM[0], status.positionNedM[1])).toBeLessThan(3);

    // Every frame crossed whole: the vehicle (datagram parser: a frame split across datagrams would be lost) saw
    // no junk and no bad frame, and took thousands of setpoints; the runtime reassembled the stream cleanly.
    const c = fleet.counters(0);
    expect(c.offboardSetpoints).toBeGreaterThan(1000);
    expect(c.junkBytes).toBe(0);
    expect(c.badFrames).toBe(0);
    const parse = rt.link.mavlink.counters.parse;
    expect(parse.frames).toBeGreaterThan(1000);
    expect(parse.badCrc).toBe(0);
    expect(parse.junkBytes).toBe(0);
  }, 150_000);
});
