/**
 * The uplink against a real broker (Mosquitto at $MQTT_URL, else embedded aedes), through a TCP proxy so a test can
 * cut the connection: birth and death with the session id, telemetry, events and metrics with their sequences.
 * Commands and acks: commands.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload, PROTOCOL_VERSION, topics } from '../../shared/protocol/index.js';
import {
  makeRig,
  quietTick,
  type Rig,
  Subscriber,
  sleep,
  startBroker,
  type TestBroker,
  until,
} from './test-support.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const rig = (overrides: Record<string, unknown> = {}) => makeRig(broker, cleanups, overrides);
const statusOf = (r: Rig) => r.sub.on(topics.droneStatus(r.id)).filter((m) => m.json !== null);
const jsonOn = (r: Rig, topic: string) => r.sub.on(topic).map((m) => m.json as Record<string, unknown>);

describe('birth and death', () => {
  it('publishes a birth on every connect and the broker publishes the death (same session) when the link dies', async () => {
    const r = await rig();
    r.uplink.start();
    await r.sub.waitFor(() => statusOf(r).length >= 1, 10_000, 'birth');
    const birth = statusOf(r)[0];
    const decoded = decodePayload('status', birth.raw);
    expect(decoded.ok).toBe(true);
    expect(birth.json).toMatchObject({
      schema: PROTOCOL_VERSION,
      kind: 'birth',
      id: r.id,
      online: true,
      sessionId: r.uplink.sessionId,
      policyVersion: r.runtime.version,
      home: r.runtime.state.home,
    });
    expect(birth.json?.capabilities).toContain('assign-delivery');

    // The network dies (no DISCONNECT): the broker publishes the will, the death of this session.
    await r.proxy.stop();
    await r.sub.waitFor(() => statusOf(r).some((m) => m.json?.kind === 'death'), 15_000, 'death');
    const death = statusOf(r).find((m) => m.json?.kind === 'death');
    expect(decodePayload('status', death?.raw ?? Buffer.alloc(0)).ok).toBe(true);
    expect(death?.json).toMatchObject({ kind: 'death', id: r.id, online: false, sessionId: r.uplink.sessionId });
    await until(() => !r.uplink.isOnline, 5000, 'uplink offline');

    // It is retained: a station that starts now learns the drone is offline.
    const late = await Subscriber.connect(broker.url, [topics.droneStatus(r.id)]);
    cleanups.push(() => late.close());
    await late.waitFor((all) => all.length >= 1, 5000, 'retained status');
    expect(late.messages[0]).toMatchObject({ retain: true });
    expect(late.messages[0].json).toMatchObject({ kind: 'death', sessionId: r.uplink.sessionId });

    // The link comes back: a new birth, same session (the same run of the process).
    await r.proxy.start();
    await r.sub.waitFor(() => statusOf(r).filter((m) => m.json?.kind === 'birth').length >= 2, 10_000, 'rebirth');
    const births = statusOf(r).filter((m) => m.json?.kind === 'birth');
    expect(births[1].json?.sessionId).toBe(r.uplink.sessionId);
  });

  it('publishes the death itself on a clean stop', async () => {
    const r = await rig();
    r.uplink.start();
    await r.sub.waitFor(() => statusOf(r).length >= 1, 10_000, 'birth');
    await r.uplink.stop(0);
    await r.sub.waitFor(() => statusOf(r).some((m) => m.json?.kind === 'death'), 5000, 'death');
    const deaths = statusOf(r).filter((m) => m.json?.kind === 'death');
    expect(deaths[0].json).toMatchObject({ sessionId: r.uplink.sessionId, reason: 'shutdown' });
    expect(typeof deaths[0].json?.timeMs).toBe('number');
    // A clean DISCONNECT: the broker discards the will, so no second death follows.
    await sleep(300);
    expect(statusOf(r).filter((m) => m.json?.kind === 'death')).toHaveLength(1);
  });

  it('announces a new birth when the home becomes known', async () => {
    const r = await rig();
    const home = r.runtime.state.home;
    r.runtime.state.home = null;
    r.uplink.start();
    await r.sub.waitFor(() => statusOf(r).length >= 1, 10_000, 'birth');
    expect(statusOf(r)[0].json?.home).toBeNull();
    r.runtime.state.home = home;
    await r.sub.waitFor(() => statusOf(r).length >= 2, 5000, 'second birth');
    expect(statusOf(r)[1].json).toMatchObject({ kind: 'birth', home, sessionId: r.uplink.sessionId });
  });
});

describe('telemetry', () => {
  it('streams at the configured rate with consecutive sequence numbers', async () => {
    const r = await rig({ telemetryHz: 5 });
    r.uplink.start();
    const topic = topics.droneTelemetry(r.id);
    await r.sub.waitFor(() => r.sub.on(topic).length >= 8, 10_000, 'telemetry');
    const got = r.sub.on(topic);
    for (const m of got) expect(decodePayload('telemetry', m.raw).ok).toBe(true);
    const seqs = got.map((m) => m.json?.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    const times = got.map((m) => m.json?.timeMs as number);
    const hz = (got.length - 1) / ((times[times.length - 1] - times[0]) / 1000);
    // 5 Hz, loosely: timers on a loaded machine fire late, never early by much.
    expect(hz).toBeGreaterThan(2.5);
    expect(hz).toBeLessThan(7);
    expect(got[0].json).toMatchObject({
      id: r.id,
      sessionId: r.uplink.sessionId,
      positionNedM: { n: 1, e: 2, d: -3 },
      batteryRemaining: 0.9,
      missionPhase: 'idle',
      taskId: null,
      policyVersion: r.runtime.version,
      linkQuality: { autopilotUp: true },
    });
    // Unknown values go out as null, never as NaN.
    r.runtime.state.batteryRemaining = Number.NaN;
    r.runtime.state.yawRad = Number.NaN;
    const before = r.sub.on(topic).length;
    await r.sub.waitFor(() => r.sub.on(topic).length >= before + 2, 5000, 'more telemetry');
    const last = r.sub.on(topic).at(-1)?.json;
    expect(last?.batteryRemaining).toBeNull();
    expect(last?.yawRad).toBeNull();
  });
});

describe('events and metrics', () => {
  it('sends mission events at once, aggregates interventions per window, and numbers each channel per session', async () => {
    const r = await rig({ eventWindowMs: 300, metricsWindowS: 0.5 });
    r.uplink.start();
    await r.sub.waitFor(() => statusOf(r).length >= 1, 10_000, 'birth');
    const boxed = quietTick({
      decision: {
        layers: { sanity: false, box: true, barrier: false, shield: false, monitor: false },
        interventions: [{ layer: 'box', reason: 'horizontal_speed_limit', magnitudeMS: 1.5 }],
      },
    });
    r.runtime.emit(quietTick({ events: [{ kind: 'phase', phase: 'takeoff', timeMs: 1 }] }));
    for (let i = 0; i < 50; i++) r.runtime.emit(boxed);
    r.runtime.emit(
      quietTick({
        decision: { monitor: { transition: { from: 'none', to: 'hold', rules: ['barrier_fallback_streak'] } } },
      }),
    );
    r.runtime.emit(quietTick({ events: [{ kind: 'outcome', phase: 'done', timeMs: 2, outcome: 'delivered' }] }));
    const eventsTopic = topics.droneEvents(r.id);
    await r.sub.waitFor(() => r.sub.on(eventsTopic).length >= 4, 10_000, 'events');
    const events = jsonOn(r, eventsTopic);
    for (const m of r.sub.on(eventsTopic)) expect(decodePayload('events', m.raw).ok).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.every((e) => e.sessionId === r.uplink.sessionId)).toBe(true);
    expect(events.filter((e) => e.kind === 'mission').map((e) => e.missionEvent)).toEqual(['phase', 'outcome']);
    const alert = events.find((e) => e.kind === 'alert');
    expect(alert).toMatchObject({
      code: 'monitor-transition',
      level: 'critical',
      monitor: { from: 'none', to: 'hold' },
    });
    // 50 ticks of interventions make one event, not 50.
    const interventions = events.filter((e) => e.kind === 'intervention');
    expect(interventions).toHaveLength(1);
    expect(interventions[0]).toMatchObject({ interventionTicks: 50, byLayer: { box: 50 }, maxMagnitudeMS: 1.5 });
    expect(interventions[0].byReason).toEqual({ 'box:horizontal_speed_limit': 50 });

    const metricsTopic = topics.droneMetrics(r.id);
    await r.sub.waitFor(
      () => jsonOn(r, metricsTopic).reduce((s, m) => s + (m.ticks as number), 0) >= 53,
      10_000,
      'metrics',
    );
    const metrics = jsonOn(r, metricsTopic);
    for (const m of r.sub.on(metricsTopic)) expect(decodePayload('metrics', m.raw).ok).toBe(true);
    expect(metrics.map((m) => m.seq)).toEqual(metrics.map((_, i) => i + 1));
    const sum = (k: string) => metrics.reduce((s, m) => s + (m[k] as number), 0);
    expect(sum('ticks')).toBe(53);
    expect(sum('episodes')).toBe(1);
    expect(sum('successes')).toBe(1);
    expect(metrics.reduce((s, m) => s + (m.interventionsByLayer as { box: number }).box, 0)).toBe(50);
    const withLatency = metrics.find((m) => (m.ticks as number) > 0);
    expect(withLatency?.inferenceLatencyUs).toEqual({ p50: 20, p99: 20 });
  });
});

describe('MQTT 5', () => {
  // aedes speaks 3.1.1 only; Mosquitto (MQTT_URL) speaks both.
  it.skipIf(!process.env.MQTT_URL)('works the same with protocol version 5', async () => {
    const r = await rig({ mqttProtocol: 5 });
    r.uplink.start();
    await r.sub.waitFor(() => statusOf(r).length >= 1, 10_000, 'birth');
    r.runtime.emit(quietTick({ events: [{ kind: 'phase', phase: 'takeoff', timeMs: 1 }] }));
    await r.sub.waitFor(() => r.sub.on(topics.droneEvents(r.id)).length === 1, 5000, 'event');
    await r.proxy.stop();
    await r.sub.waitFor(() => statusOf(r).some((m) => m.json?.kind === 'death'), 15_000, 'death');
    expect(statusOf(r).at(-1)?.json).toMatchObject({ kind: 'death', sessionId: r.uplink.sessionId });
  });
});
