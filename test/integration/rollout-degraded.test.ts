/**
 * A degraded candidate rolled back across a SITL fleet: three compiled `aerie onboard` processes fly simulated PX4
 * vehicles for an in-process station. The candidate flies towards its goal but answers NaN near it - policy faults
 * on every tick there, which the safety filter brakes and the monitor escalates. It passes the registry's gate (its
 * evaluation report says it is fine: the gate cannot know), goes straight to the canary, and the station must roll
 * the whole fleet back on its own, every drone ending on the baseline.
 *
 * The children run the compiled dist/: run `npm run build` before running this file alone.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireFreshBuild } from '../support/onboard-cli.js';
import {
  describeRollout,
  faultyNearGoalModel,
  fleetView,
  OrderFeeder,
  publishCandidate,
  type RolloutFleet,
  type RolloutJson,
  startRolloutFleet,
} from '../support/rollout-fleet.js';
import { eventually } from '../support/station-fleet.js';

const SPEED = 4;
const ROLLBACK_MS = 90_000;

let rf: RolloutFleet | null = null;
let feeder: OrderFeeder | null = null;
beforeAll(() => requireFreshBuild());
afterEach(async () => {
  feeder?.stop();
  feeder = null;
  await rf?.f.close();
  rf = null;
});

describe('rollout of a degraded candidate (SITL, three aerie onboard processes, real broker)', () => {
  it('is rolled back automatically and every drone ends on the baseline', async () => {
    rf = await startRolloutFleet({
      portKey: import.meta.url,
      depotOffsetKm: { n: -120, e: 0 },
      drones: 3,
      speed: SPEED,
    });
    const { f, keys, baseline } = rf;
    const station = f.t.station;
    const candidate = await publishCandidate(station.httpUrl, 'test-token', faultyNearGoalModel(15), keys, 'nan');

    const started = await f.api<RolloutJson>('/api/rollouts', {
      candidate,
      steps: [0.34, 1],
      shadowMinTicks: 0,
      minEpisodesPerStep: 1,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const r0 = started.body;
    const canary = Object.keys(r0.drones).find((id) => r0.drones[id] === 'candidate') as string;
    expect(canary).toBeDefined();
    feeder = new OrderFeeder(f.api, f.ids.length).start(500);

    const get = async () => (await f.api<RolloutJson>(`/api/rollouts/${r0.id}`)).body;
    const fail = async (err: Error) => {
      throw new Error(`${err.message}\n${describeRollout(await get(), await fleetView(f))}\n${f.log(15)}`);
    };
    // The canary flies the candidate at some point...
    await eventually(
      async () => ((await fleetView(f)).find((d) => d.id === canary)?.policyVersion === candidate ? true : undefined),
      'the canary to fly the candidate',
      ROLLBACK_MS,
      200,
    ).catch(fail);
    // ...and the station rolls the fleet back by itself.
    const rolled = await eventually(
      async () => {
        const r = await get();
        if (r.state === 'completed') throw new Error('the degraded candidate was promoted');
        return r.state === 'rolled-back' ? r : undefined;
      },
      'an automatic rollback',
      ROLLBACK_MS,
      250,
    ).catch(fail);
    feeder.stop();
    expect(rolled?.history.map((h) => h.to)).toEqual(['canary', 'rolled-back']);
    // Why: a fault streak or a metric worse (station side), or the drone reverting the candidate itself.
    expect(rolled?.history[1].reason).toMatch(/policy faults|worse|reverted the candidate itself/);
    expect(Object.values(rolled?.drones ?? {}).every((a) => a === 'baseline')).toBe(true);

    await eventually(
      async () => ((await fleetView(f)).every((d) => d.policyVersion === baseline) ? true : undefined),
      'every drone back on the baseline',
      60_000,
      250,
    ).catch(fail);
    expect((await f.api<{ state: string }>(`/api/policies/${candidate}`)).body.state).toBe('rolled-back');
    expect((await station.store.listRolloutTransitions(r0.id)).map((t) => t.toState)).toEqual([
      'canary',
      'rolled-back',
    ]);
  }, 300_000);
});
