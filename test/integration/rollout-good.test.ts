/**
 * A good candidate rolled out across a SITL fleet: three compiled `aerie onboard` processes fly simulated PX4
 * vehicles for an in-process station (real broker, real registry, signed bundles over MQTT). The candidate - the
 * drones' own go-to-goal controller under another name, so another version that flies as well - is published to the
 * registry, installed on one drone and run there in shadow, then flown by it as the canary while orders keep coming,
 * promoted by the analysis, and finally activated on every drone as each lands: shadow -> canary -> completed.
 *
 * The children run the compiled dist/: run `npm run build` before running this file alone.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireFreshBuild } from '../support/onboard-cli.js';
import {
  describeRollout,
  fleetView,
  OrderFeeder,
  publishCandidate,
  type RolloutFleet,
  type RolloutJson,
  renamedGoToGoalModel,
  startRolloutFleet,
} from '../support/rollout-fleet.js';
import { eventually } from '../support/station-fleet.js';

const SPEED = 4;
/** Generous wall-clock guards for a loaded 2-core machine; what is asserted is outcomes. */
const ROLLOUT_MS = 120_000;

let rf: RolloutFleet | null = null;
let feeder: OrderFeeder | null = null;
beforeAll(() => requireFreshBuild());
afterEach(async () => {
  feeder?.stop();
  feeder = null;
  await rf?.f.close();
  rf = null;
});

describe('rollout of a good candidate (SITL, three aerie onboard processes, real broker)', () => {
  it('goes shadow -> canary -> 100 %: every drone ends on the candidate, the registry shows it active', async () => {
    rf = await startRolloutFleet({
      portKey: import.meta.url,
      depotOffsetKm: { n: 120, e: 0 },
      drones: 3,
      speed: SPEED,
    });
    const { f, keys, baseline } = rf;
    const station = f.t.station;
    const candidate = await publishCandidate(station.httpUrl, 'test-token', renamedGoToGoalModel('v2'), keys, 'v2');
    expect(candidate).not.toBe(baseline);

    const started = await f.api<RolloutJson>('/api/rollouts', {
      candidate,
      steps: [0.34, 1],
      shadowMinTicks: 40,
      minEpisodesPerStep: 1,
      // Few episodes in a short test: promote on any non-inferior point estimate; rollback keeps its 1 %.
      analysis: { promoteAlpha: 0.5, successMargin: 0.5, interventionsMarginRel: 10, returnMarginRel: 10 },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const r0 = started.body;
    expect(r0).toMatchObject({ state: 'shadow', baseline, candidate });
    const shadowDrone = Object.keys(r0.drones).find((id) => r0.drones[id] === 'shadow');
    expect(shadowDrone).toBeDefined();
    feeder = new OrderFeeder(f.api, f.ids.length).start(500);

    const get = async () => (await f.api<RolloutJson>(`/api/rollouts/${r0.id}`)).body;
    const fail = async (err: Error) => {
      throw new Error(`${err.message}\n${describeRollout(await get(), await fleetView(f))}\n${f.log(15)}`);
    };
    // Completed once the analysis promoted the canary step.
    const done = await eventually(
      async () => {
        const r = await get();
        if (r.state === 'rolled-back' || r.state === 'aborted') throw new Error(`rollout ended ${r.state}`);
        return r.state === 'completed' ? r : undefined;
      },
      'the rollout to complete',
      ROLLOUT_MS,
      250,
    ).catch(fail);
    feeder.stop();
    expect(done?.history.map((h) => h.to)).toEqual(['shadow', 'canary', 'completed']);
    expect(done?.history[1].reason).toMatch(/^shadow passed: \d+ shadow ticks/);
    expect(done?.history[2].reason).toMatch(/promoted from step 0 \(34 %\): every metric non-inferior/);
    // The shadow drone became the canary.
    expect(done?.shadow.ticks).toBeGreaterThanOrEqual(40);

    // Every drone lands and switches.
    await eventually(
      async () => ((await fleetView(f)).every((d) => d.policyVersion === candidate) ? true : undefined),
      'every drone on the candidate',
      60_000,
      250,
    ).catch(fail);
    const policy = (await f.api<{ state: string }>(`/api/policies/${candidate}`)).body;
    expect(policy.state).toBe('active');
    // The stored transitions match the rollout's history.
    const stored = await station.store.listRolloutTransitions(r0.id);
    expect(stored.map((t) => t.toState)).toEqual(['shadow', 'canary', 'completed']);
  }, 300_000);
});
