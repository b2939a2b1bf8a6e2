/**
 * A station restart in the middle of a rollout: three compiled `aerie onboard` processes fly simulated PX4 vehicles;
 * the rollout is in its canary step, the canary flying the candidate and episodes counted, when the station process
 * stops. A new one starts on the same database and ports (the drones reconnect by themselves): the rollout is there
 * where it was - same state, step, canary and analysis window - keeps counting, and the operator completes it.
 *
 * The children run the compiled dist/: run `npm run build` before running this file alone.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StationHandle, startStation } from '../../ground-station/station.js';
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
const STEP_MS = 90_000;

let rf: RolloutFleet | null = null;
let second: StationHandle | null = null;
let feeder: OrderFeeder | null = null;
beforeAll(() => requireFreshBuild());
afterEach(async () => {
  feeder?.stop();
  feeder = null;
  await second?.close();
  second = null;
  await rf?.f.close();
  rf = null;
});

const portOf = (url: string) => Number(new URL(url).port);

describe('rollout across a station restart (SITL, three aerie onboard processes)', () => {
  it('resumes where it was after the station restarts, and completes', async () => {
    rf = await startRolloutFleet({
      portKey: import.meta.url,
      depotOffsetKm: { n: 0, e: 120 },
      drones: 3,
      speed: SPEED,
    });
    const { f, keys } = rf;
    const first = f.t.station;
    const candidate = await publishCandidate(first.httpUrl, 'test-token', renamedGoToGoalModel('v3'), keys, 'v3');
    // Enough episodes asked that the analysis holds the canary step for the whole test.
    const started = await f.api<RolloutJson>('/api/rollouts', {
      candidate,
      steps: [0.34, 1],
      shadowMinTicks: 0,
      minEpisodesPerStep: 1000,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id;
    feeder = new OrderFeeder(f.api, f.ids.length).start(500);
    const get = async () => (await f.api<RolloutJson>(`/api/rollouts/${id}`)).body;
    const fail = async (err: Error) => {
      throw new Error(`${err.message}\n${describeRollout(await get(), await fleetView(f))}\n${f.log(15)}`);
    };

    // The canary flies the candidate and its episodes are counted.
    const before = await eventually(
      async () => {
        const r = await get();
        return (r.analysis?.candidate.episodes ?? 0) >= 1 ? r : undefined;
      },
      'candidate episodes counted in the canary step',
      STEP_MS,
      250,
    ).catch(fail);
    if (!before) throw new Error('unreachable');
    feeder.stop();

    // The station process stops; a new one takes the same database and ports.
    await first.close();
    second = await startStation({
      ...f.t.config,
      mqttPort: f.t.externalMqtt ? f.t.config.mqttPort : portOf(first.mqttUrl),
      httpPort: portOf(first.httpUrl),
    });
    expect(second.httpUrl).toBe(first.httpUrl);
    const resumed = await get();
    expect(resumed).toMatchObject({
      id,
      state: 'canary',
      stepIndex: 0,
      candidate,
      drones: before.drones,
      history: before.history,
    });
    expect((resumed as RolloutJson & { stepStartedAtMs: number }).stepStartedAtMs).toBe(
      (before as RolloutJson & { stepStartedAtMs: number }).stepStartedAtMs,
    );
    expect(resumed.analysis?.candidate.episodes ?? 0).toBeGreaterThanOrEqual(before.analysis?.candidate.episodes ?? 0);

    // The drones come back to the new station, and the window keeps filling from where it was.
    await eventually(
      async () => ((await fleetView(f)).filter((d) => d.online).length === f.ids.length ? true : undefined),
      'the drones back online',
      60_000,
    ).catch(fail);
    feeder = new OrderFeeder(f.api, f.ids.length).start(500);
    const episodesAtRestart = resumed.analysis?.candidate.episodes ?? 0;
    await eventually(
      async () => (((await get()).analysis?.candidate.episodes ?? 0) > episodesAtRestart ? true : undefined),
      'more candidate episodes counted after the restart',
      STEP_MS,
      250,
    ).catch(fail);
    feeder.stop();

    // The operator completes it; every drone switches as it lands.
    const promoted = await f.api<RolloutJson>(`/api/rollouts/${id}/promote`, { by: 'ops' });
    expect(promoted.body).toMatchObject({ state: 'completed' });
    expect(promoted.body.history.map((h) => h.to)).toEqual(['canary', 'completed']);
    await eventually(
      async () => ((await fleetView(f)).every((d) => d.policyVersion === candidate) ? true : undefined),
      'every drone on the candidate',
      60_000,
      250,
    ).catch(fail);
    expect((await second.store.listRolloutTransitions(id)).map((t) => t.toState)).toEqual(['canary', 'completed']);
  }, 300_000);
});
