/**
 * Rollouts over the HTTP API of a station started in-process, with light fake drones on the real broker: bearer auth,
 * validation, a start that picks canaries among the online drones, activate-policy sent only to a landed and
 * disarmed canary whose candidate slot holds the version, the metrics windows counted per version, the operator's
 * pause / resume / promote / abort (revert-policy to the drones), and the update hook the dashboard listens to.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, topics } from '../../shared/protocol/index.js';
import { registerCandidate } from '../rollouts/fake-drones/test-support.js';
import { FakeDrone, startTestStation, type TestStation, waitFor } from '../test-support.js';

const BASE = 'base-v1';
let CAND = '';
const SHA = 'ab'.repeat(32);

interface RolloutJson {
  id: string;
  state: string;
  stepIndex: number;
  share: number;
  candidate: string;
  baseline: string;
  drones: Record<string, string>;
  analysis: { candidate: { episodes: number }; baseline: { episodes: number }; decision: string } | null;
  history: { from: string | null; to: string; reason: string }[];
}

describe('the rollouts API', () => {
  let t: TestStation | null = null;
  const drones: FakeDrone[] = [];
  afterEach(async () => {
    for (const d of drones.splice(0)) await d.close().catch(() => undefined);
    await t?.close();
    t = null;
  });

  async function fleet(n: number): Promise<FakeDrone[]> {
    const ids = Array.from({ length: n }, (_, i) => `r${i}`);
    t = await startTestStation({ droneIds: ids });
    CAND = await registerCandidate(t.station, t.config.db, 'test-token');
    for (const id of ids) {
      const full = `${t.prefix}${id}`;
      const d = await FakeDrone.connect(t.station.mqttUrl, full, {
        password: t.passwords[full],
        capabilities: ['assign-delivery', 'activate-policy', 'install-policy', 'shadow-policy', 'revert-policy'],
      });
      drones.push(d);
      // The candidate is already in each drone's candidate slot (installed beforehand).
      await d.birth({
        policyVersion: BASE,
        policy: { active: { version: BASE, sha256: SHA }, candidate: { version: CAND, sha256: SHA } },
      });
      await d.telemetry({ policyVersion: BASE, landed: true, armed: false });
    }
    const station = t.station;
    await waitFor(
      () => station.registry.onlineCount() === n && station.registry.all().every((x) => x.telemetry !== null),
      'drones online',
    );
    return drones;
  }

  const metrics = (d: FakeDrone, seq: number, version: string, successes: number) =>
    d.client.publishAsync(
      topics.droneMetrics(d.id),
      JSON.stringify({
        schema: PROTOCOL_VERSION,
        id: d.id,
        sessionId: d.sessionId,
        seq,
        timeMs: Date.now(),
        windowS: 10,
        episodes: 1,
        successes,
        returnSum: successes ? 10 : -5,
        ticks: 200,
        policyTicks: 200,
        interventionsByLayer: { sanity: 0, box: 4, barrier: 0, shield: 0, monitor: 0 },
        violations: 0,
        policyFaults: 0,
        inferenceLatencyUs: { p50: 20, p99: 40 },
        policyVersion: version,
      }),
      { qos: 1 },
    );

  it('needs the token, validates the plan, refuses a second live rollout, 404s unknown ids', async () => {
    await fleet(2);
    const api = t!.api.bind(t);
    expect((await api('/api/rollouts', { token: null })).status).toBe(401);
    const bad = await api('/api/rollouts', { body: { candidate: CAND, steps: [0.5] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/ends at 1/);
    expect((await api('/api/rollouts', { body: { candidate: BASE } })).status).toBe(400);
    const ok = await api('/api/rollouts', { body: { candidate: CAND, shadowMinTicks: 0 } });
    expect(ok.status).toBe(201);
    expect((await api('/api/rollouts', { body: { candidate: 'other' } })).status).toBe(409);
    expect((await api('/api/rollouts/ro_none')).status).toBe(404);
    expect((await api('/api/rollouts/ro_none/pause', { body: {} })).status).toBe(404);
  });

  it('activates the canary only once landed and disarmed, counts windows per version, and obeys the operator', async () => {
    const ds = await fleet(4);
    const station = t!.station;
    const updates: { id: string; state: unknown }[] = [];
    const original = station.stream.publishRollout.bind(station.stream);
    station.stream.publishRollout = (r) => {
      updates.push({ id: r.id, state: r.state });
      original(r);
    };
    // Every drone is in the air when the rollout starts: no switch may be sent yet.
    for (const d of ds) await d.telemetry({ policyVersion: BASE, landed: false, armed: true });
    await waitFor(() => station.registry.all().every((x) => x.telemetry?.armed === true), 'all flying');
    const res = await t!.api('/api/rollouts', {
      body: { candidate: CAND, steps: [0.5, 1], shadowMinTicks: 0, minEpisodesPerStep: 50 },
    });
    expect(res.status).toBe(201);
    const r = (await res.json()) as RolloutJson;
    expect(r).toMatchObject({ state: 'canary', baseline: BASE, candidate: CAND, share: 0.5 });
    const canaries = Object.keys(r.drones).filter((id) => r.drones[id] === 'candidate');
    expect(canaries).toHaveLength(2);
    const [first, second] = ds.filter((d) => canaries.includes(d.id));
    // The assignment sees the canaries as such (risk-averse: lower-risk orders).
    const flagged = station.dispatcher.assignableDrones(Date.now()).filter((d) => d.canary === true);
    expect(flagged.map((d) => d.id).sort()).toEqual([...canaries].sort());
    // The first canary lands and disarms: it gets the switch; the second, still flying, does not.
    await first.telemetry({ policyVersion: BASE, landed: true, armed: false });
    await waitFor(
      () => first.commands.some((c) => c.kind === 'activate-policy'),
      'activate-policy to the landed canary',
    );
    expect(first.commands.find((c) => c.kind === 'activate-policy')).toMatchObject({
      kind: 'activate-policy',
      version: CAND,
      target: first.id,
    });
    await station.rollouts.tick(Date.now());
    expect(second.commands.some((c) => c.kind === 'activate-policy')).toBe(false);
    await second.telemetry({ policyVersion: BASE, landed: true, armed: false });
    await waitFor(() => second.commands.some((c) => c.kind === 'activate-policy'), 'activate-policy once landed');
    expect(ds.filter((d) => !canaries.includes(d.id)).every((d) => d.commands.length === 0)).toBe(true);
    const grounded = [first, second];

    // The canaries switch and report; every drone flies a window.
    for (const d of grounded) {
      await d.telemetry({ policyVersion: CAND, landed: true, armed: false });
    }
    let seq = 0;
    seq++;
    for (const d of ds) {
      const onCandidate = grounded.includes(d);
      await metrics(d, seq, onCandidate ? CAND : BASE, 1);
    }
    let last: unknown = null;
    await waitFor(async () => {
      const v = (await (await t!.api(`/api/rollouts/${r.id}`)).json()) as RolloutJson;
      // A canary still flying the baseline counts for neither side.
      const baselineDrones = ds.filter((d) => !canaries.includes(d.id)).length;
      last = v.analysis;
      return v.analysis?.candidate.episodes === grounded.length && v.analysis?.baseline.episodes === baselineDrones;
    }, 'windows counted per version').catch((err) => {
      throw new Error(
        `${(err as Error).message}: ${JSON.stringify(last)} ${JSON.stringify(station.drops.snapshot())} ${JSON.stringify(station.rollouts.stats)}`,
      );
    });

    // Operator: pause, resume, promote to 100 %.
    expect((await t!.api(`/api/rollouts/${r.id}/pause`, { body: {} })).status).toBe(200);
    expect((await t!.api(`/api/rollouts/${r.id}/pause`, { body: {} })).status).toBe(409);
    expect((await t!.api(`/api/rollouts/${r.id}/resume`, { body: {} })).status).toBe(200);
    const promoted = (await (
      await t!.api(`/api/rollouts/${r.id}/promote`, { body: { by: 'alice' } })
    ).json()) as RolloutJson;
    expect(promoted.state).toBe('completed');
    expect(promoted.history.at(-1)?.reason).toBe('promoted by alice');
    expect(Object.values(promoted.drones).every((a) => a === 'candidate')).toBe(true);
    // The registry follows: the candidate is the active policy now.
    await waitFor(
      async () => ((await (await t!.api(`/api/policies/${CAND}`)).json()) as { state: string }).state === 'active',
      'the registry shows the candidate active',
    );
    const list = (await (await t!.api('/api/rollouts')).json()) as { rollouts: RolloutJson[] };
    expect(list.rollouts.map((x) => x.id)).toEqual([r.id]);
    expect((await t!.api(`/api/rollouts/${r.id}/abort`, { body: {} })).status).toBe(409);
    await waitFor(() => updates.some((u) => u.id === r.id && u.state === 'completed'), 'update hook');
    expect(updates.map((u) => u.state)).toEqual(expect.arrayContaining(['canary', 'paused', 'completed']));
  });

  it('abort sends revert-policy to the drones flying the candidate', async () => {
    const ds = await fleet(2);
    const res = await t!.api('/api/rollouts', { body: { candidate: CAND, steps: [0.5, 1], shadowMinTicks: 0 } });
    const r = (await res.json()) as RolloutJson;
    const canary = ds.find((d) => r.drones[d.id] === 'candidate');
    if (!canary) throw new Error('no canary');
    await waitFor(() => canary.commands.some((c) => c.kind === 'activate-policy'), 'activate');
    await canary.telemetry({ policyVersion: CAND, landed: true, armed: false });
    await waitFor(() => t!.station.registry.get(canary.id)?.policyVersion === CAND, 'candidate flown');
    const aborted = (await (await t!.api(`/api/rollouts/${r.id}/abort`, { body: {} })).json()) as RolloutJson;
    expect(aborted.state).toBe('aborted');
    await waitFor(() => canary.commands.some((c) => c.kind === 'revert-policy'), 'revert-policy');
    const stored = await t!.station.store.listRolloutTransitions(r.id);
    expect(stored.map((x) => x.toState)).toEqual(['canary', 'aborted']);
  });
});
