/**
 * Commands over a real broker (Mosquitto at $MQTT_URL, else embedded aedes): applied through the runtime port and
 * answered with acks, including the malformed, foreign, unknown and unsupported ones; the unreadable are dropped.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload, topics } from '../../shared/protocol/index.js';
import { makeRig, type Received, type Rig, startBroker, type TestBroker, until } from './test-support.js';

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

const statusOf = (r: Rig) => r.sub.on(topics.droneStatus(r.id)).filter((m) => m.json !== null);
const jsonOn = (r: Rig, topic: string) => r.sub.on(topic).map((m) => m.json as Record<string, unknown>);

describe('commands', () => {
  async function commandRig() {
    const r = await makeRig(broker, cleanups);
    r.uplink.start();
    await r.sub.waitFor(() => statusOf(r).length >= 1, 10_000, 'birth');
    const acksTopic = topics.droneAcks(r.id);
    const send = async (command: unknown) => {
      await r.sub.publish(topics.droneCommands(r.id), typeof command === 'string' ? command : JSON.stringify(command));
    };
    const ackFor = async (commandId: string, nth = 1): Promise<Record<string, unknown>> => {
      const of = (all: Received[]) => all.filter((m) => m.topic === acksTopic && m.json?.commandId === commandId);
      await r.sub.waitFor((all) => of(all).length >= nth, 5000, `ack of ${commandId}`);
      const m = of(r.sub.messages)[nth - 1];
      expect(decodePayload('acks', m.raw).ok).toBe(true);
      return m.json as Record<string, unknown>;
    };
    return { r, send, ackFor };
  }
  const base = { schema: '1.0', timeMs: Date.now() };

  it('applies an assignment, answers it, and refuses a second one while busy', async () => {
    const { r, send, ackFor } = await commandRig();
    const assign = {
      ...base,
      commandId: 'a1',
      kind: 'assign-delivery',
      taskId: 'T1',
      dropNeM: [80, -20],
      cruiseAltM: 25,
      releaseBy: 'land',
    };
    await send(assign);
    expect(await ackFor('a1')).toMatchObject({ result: 'accepted', kind: 'assign-delivery', id: r.id });
    expect(r.runtime.flown).toHaveLength(1);
    expect(r.runtime.flown[0]).toMatchObject({
      dropNeM: [80, -20],
      cruiseAltM: 25,
      releaseBy: 'land',
      returnNeM: [0, 0],
    });
    // The same command again (a station retry): the same answer, applied once.
    await send(assign);
    expect(await ackFor('a1', 2)).toMatchObject({ result: 'accepted' });
    expect(r.runtime.flown).toHaveLength(1);
    await send({ ...assign, commandId: 'a2', taskId: 'T2' });
    const busy = await ackFor('a2');
    expect(busy).toMatchObject({ result: 'rejected' });
    expect(busy.reason).toMatch(/busy/);
    // Telemetry carries the task; an assigned event went out.
    await r.sub.waitFor(
      () => r.sub.on(topics.droneTelemetry(r.id)).some((m) => m.json?.taskId === 'T1'),
      5000,
      'task in telemetry',
    );
    await r.sub.waitFor(
      () => jsonOn(r, topics.droneEvents(r.id)).some((e) => e.missionEvent === 'assigned' && e.taskId === 'T1'),
      5000,
      'assigned event',
    );
    // Abort reaches the mission.
    await send({ ...base, commandId: 'x1', kind: 'abort' });
    expect(await ackFor('x1')).toMatchObject({ result: 'accepted' });
    expect(r.runtime.currentMission?.requests).toEqual(['abort']);
  });

  it('places a drop given in degrees with its home, and checks both forms agree', async () => {
    const { r, send, ackFor } = await commandRig();
    const home = r.runtime.state.home as { latDeg: number; lonDeg: number };
    const dropGeo = { latDeg: home.latDeg + 0.001, lonDeg: home.lonDeg };
    await send({
      ...base,
      commandId: 'g1',
      kind: 'assign-delivery',
      taskId: 'T',
      dropGeo,
      dropNeM: [0, 300],
      cruiseAltM: 20,
      releaseBy: 'hover',
    });
    const ack = await ackFor('g1');
    expect(ack).toMatchObject({ result: 'rejected' });
    expect(ack.reason).toMatch(/apart/);
    await send({
      ...base,
      commandId: 'g2',
      kind: 'assign-delivery',
      taskId: 'T',
      dropGeo,
      cruiseAltM: 20,
      releaseBy: 'hover',
    });
    expect(await ackFor('g2')).toMatchObject({ result: 'accepted' });
    const [n, e] = r.runtime.flown[0].dropNeM;
    expect(n).toBeCloseTo(111.2, 0);
    expect(e).toBeCloseTo(0, 3);
  });

  it('answers malformed, foreign, unknown and unsupported commands with an error ack, and drops the unreadable', async () => {
    const { r, send, ackFor } = await commandRig();
    await send({
      ...base,
      commandId: 'm1',
      kind: 'assign-delivery',
      taskId: 'T',
      dropNeM: [1, 2],
      cruiseAltM: 'high',
      releaseBy: 'hover',
    });
    const typed = await ackFor('m1');
    expect(typed).toMatchObject({ result: 'rejected', kind: 'assign-delivery' });
    expect(typed.reason).toMatch(/cruiseAltM/);
    await send({ ...base, schema: '2.0', commandId: 'm2', kind: 'abort' });
    expect((await ackFor('m2')).reason).toMatch(/major 2/);
    await send({ ...base, commandId: 'm3', kind: 'barrel-roll' });
    expect(await ackFor('m3')).toMatchObject({ result: 'unsupported', kind: 'barrel-roll' });
    await send({ ...base, commandId: 'm4', kind: 'activate-policy', version: 'v9' });
    expect(await ackFor('m4')).toMatchObject({ result: 'unsupported' });
    await send({ ...base, commandId: 'm5', kind: 'land', target: 'someone-else' });
    expect(await ackFor('m5')).toMatchObject({
      result: 'rejected',
      reason: expect.stringMatching(/addressed to someone-else/),
    });
    await send({ ...base, commandId: 'm6', kind: 'return' });
    expect(await ackFor('m6')).toMatchObject({ result: 'rejected', reason: 'no delivery in progress' });
    // Nothing to answer: counted and dropped, and the uplink goes on.
    await send('{"commandId": "m7", ');
    await send(Buffer.from([0xff, 0x00, 0x13]));
    await send('');
    await until(() => r.uplink.counters.commandsDropped === 3, 5000, 'dropped commands');
    await send({ ...base, commandId: 'm8', kind: 'emergency-stop' });
    expect(await ackFor('m8')).toMatchObject({ result: 'accepted' });
    expect(r.runtime.estops).toBe(1);
    expect(r.runtime.flown).toHaveLength(0);
    expect(r.uplink.counters).toMatchObject({ commandsAccepted: 1, commandsRefused: 6, commandsDropped: 3 });
    await r.sub.waitFor(
      () => jsonOn(r, topics.droneEvents(r.id)).some((e) => e.code === 'emergency-stop'),
      5000,
      'estop alert',
    );
  });

  it('refuses an assignment while the autopilot is down and sets an airspace given from another origin', async () => {
    const { r, send, ackFor } = await commandRig();
    r.runtime.up = false;
    await send({
      ...base,
      commandId: 'u1',
      kind: 'assign-delivery',
      taskId: 'T',
      dropNeM: [5, 5],
      cruiseAltM: 20,
      releaseBy: 'hover',
    });
    expect(await ackFor('u1')).toMatchObject({ result: 'rejected', reason: 'the autopilot link is down' });
    const home = r.runtime.state.home as { latDeg: number; lonDeg: number; altAmslM: number };
    // The origin 100 m north and 10 m below home: a zone at the origin is 100 m south of home, altitudes +... -10.
    const origin = { latDeg: home.latDeg + 100 / 111_195, lonDeg: home.lonDeg, altAmslM: home.altAmslM - 10 };
    const airspace = {
      geofence: null,
      noFlyZones: [{ kind: 'cylinder', id: 'z', centerNeM: { n: 0, e: 0 }, radiusM: 20, topM: 60 }],
      altitudeFloorM: 15,
    };
    await send({ ...base, commandId: 's1', kind: 'set-airspace', airspace, origin });
    expect(await ackFor('s1')).toMatchObject({ result: 'accepted' });
    const applied = r.runtime.airspaces[0];
    const zone = applied.noFlyZones[0] as { centerNeM: { n: number; e: number }; topM: number };
    expect(zone.centerNeM.n).toBeCloseTo(100, 0);
    expect(zone.topM).toBeCloseTo(50, 6);
    expect(applied.altitudeFloorM).toBeCloseTo(5, 6);
  });
});
