/**
 * The dispatcher with time stepped by hand: a real SQLite store and registry, a recording command sender at the
 * edge. Covers what the MQTT tests cannot time exactly: the in-flight grace, restart recovery, send failures.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Result } from '../../shared/errors.js';
import { componentLogger } from '../../shared/log/index.js';
import { type Command, type DroneBirth, examplePayloads, type Telemetry } from '../../shared/protocol/index.js';
import { FleetRegistry } from '../fleet/index.js';
import { type OrderRecord, SqliteStore } from '../storage/index.js';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { resolveDeliveryRequest } from './request.js';

const DEPOT = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };
const OPTIONS: DispatcherOptions = {
  ackTimeoutMs: 10_000,
  rejectCooldownMs: 30_000,
  maxAttempts: 3,
  inFlightOfflineGraceMs: 60_000,
  cruiseAltM: 30,
  releaseBy: 'hover',
  fleetOrigin: DEPOT,
};

class RecordingSender {
  readonly sent: { droneId: string; command: Command }[] = [];
  fail = false;
  async sendCommand(droneId: string, command: Command): Promise<Result<void, string>> {
    if (this.fail) return { ok: false, reason: 'broker unreachable' };
    this.sent.push({ droneId, command });
    return { ok: true, value: undefined };
  }
}

function birth(id: string, sessionId: string, timeMs: number): DroneBirth {
  return { ...(examplePayloads().status as DroneBirth), id, sessionId, timeMs, home: DEPOT };
}
function telemetry(id: string, seq: number, extra: Partial<Telemetry> = {}): Telemetry {
  return {
    ...examplePayloads().telemetry,
    id,
    seq,
    sessionId: undefined,
    geo: DEPOT,
    landed: true,
    taskId: null,
    batteryRemaining: 0.9,
    ...extra,
  };
}

describe('Dispatcher (stepped time)', () => {
  let store: SqliteStore;
  let registry: FleetRegistry;
  let sender: RecordingSender;
  let dispatcher: Dispatcher;
  let t: number;

  beforeEach(() => {
    store = SqliteStore.open(':memory:');
    registry = new FleetRegistry({ staleAfterMs: 600_000 });
    sender = new RecordingSender();
    dispatcher = new Dispatcher(store, registry, sender, OPTIONS, componentLogger('dispatcher-test'));
    t = 1_700_000_000_000;
  });
  afterEach(async () => {
    await store.close();
  });

  async function newOrder(northM = 200): Promise<OrderRecord> {
    const r = resolveDeliveryRequest(
      { drop: { northM, eastM: 0 }, weightKg: 1 },
      { depots: [{ id: 'main', geo: DEPOT }], maxDropDistanceM: 20_000, nowMs: t },
    );
    if (!r.ok) throw new Error('bad order');
    await store.insertOrder(r.value);
    return r.value;
  }

  function idle(id: string, session = 's1') {
    registry.applyStatus(birth(id, session, t), t);
    registry.applyTelemetry(telemetry(id, 1), t);
  }

  async function flying(id: string): Promise<OrderRecord> {
    idle(id);
    const o = await newOrder();
    await dispatcher.round(t);
    const cmd = sender.sent.at(-1)!.command;
    await dispatcher.onAck(id, { schema: '1.0', commandId: cmd.commandId, result: 'accepted', timeMs: t }, t);
    expect((await store.getOrder(o.id))?.status).toBe('in-flight');
    return o;
  }

  it('keeps an in-flight order whose drone comes back with the task, and fails one whose drone does not', async () => {
    const kept = await flying('d1');
    const lost = await flying('d2');
    registry.applyStatus({ schema: '1.0', kind: 'death', id: 'd1', online: false, sessionId: 's1' }, t);
    registry.applyStatus({ schema: '1.0', kind: 'death', id: 'd2', online: false, sessionId: 's1' }, t);
    await dispatcher.onDroneOffline('d1', t);
    await dispatcher.onDroneOffline('d2', t);
    t += 59_000;
    await dispatcher.round(t);
    expect((await store.getOrder(kept.id))?.status).toBe('in-flight');
    expect((await store.getOrder(lost.id))?.status).toBe('in-flight');
    // d1 reboots (new session) and still flies the task; d2 stays away.
    registry.applyStatus(birth('d1', 's2', t), t);
    registry.applyTelemetry(telemetry('d1', 1, { sessionId: 's2', taskId: kept.id, landed: false }), t);
    t += 1000;
    await dispatcher.round(t);
    t += 120_000;
    await dispatcher.round(t);
    expect((await store.getOrder(kept.id))?.status).toBe('in-flight');
    const failed = await store.getOrder(lost.id);
    expect(failed?.status).toBe('failed');
    expect(failed?.reason).toContain('d2 lost in flight');
  });

  it('picks up where it left off after a restart: acks of commands sent before still move orders', async () => {
    idle('d1');
    const o = await newOrder();
    await dispatcher.round(t);
    const cmd = sender.sent[0].command;
    const again = new Dispatcher(store, registry, sender, OPTIONS, componentLogger('dispatcher-test'));
    await again.restore(t);
    expect(again.taskOf('d1')).toBe(o.id);
    await again.onAck('d1', { schema: '1.0', commandId: cmd.commandId, result: 'accepted', timeMs: t }, t);
    expect((await store.getOrder(o.id))?.status).toBe('in-flight');
    // d1 is busy: a second order waits for another drone.
    const second = await newOrder(100);
    await again.round(t + 1);
    expect((await store.getOrder(second.id))?.status).toBe('queued');
    expect(sender.sent.length).toBe(1);
  });

  it('puts the order back when the command cannot be sent, and ignores acks from the wrong drone', async () => {
    idle('d1');
    const o = await newOrder();
    sender.fail = true;
    await dispatcher.round(t);
    const back = await store.getOrder(o.id);
    expect(back?.status).toBe('queued');
    expect(back?.reason).toContain('broker unreachable');
    expect(dispatcher.stats.sendFailures).toBe(1);
    sender.fail = false;
    await dispatcher.round(t + 1);
    const cmd = sender.sent[0].command;
    // An ack naming our command but sent by another drone does not count.
    await dispatcher.onAck('d9', { schema: '1.0', commandId: cmd.commandId, result: 'accepted', timeMs: t }, t + 2);
    expect((await store.getOrder(o.id))?.status).toBe('assigned');
    // ... nor use up the answer: the right drone's ack still moves the order.
    await dispatcher.onAck('d1', { schema: '1.0', commandId: cmd.commandId, result: 'accepted', timeMs: t }, t + 3);
    expect((await store.getOrder(o.id))?.status).toBe('in-flight');
  });

  it('treats a late ack of an earlier hand-out as history', async () => {
    const quick = new Dispatcher(
      store,
      registry,
      sender,
      { ...OPTIONS, rejectCooldownMs: 0, ackTimeoutMs: 1000 },
      componentLogger('dispatcher-test'),
    );
    idle('d1');
    const o = await newOrder();
    await quick.round(t);
    const first = sender.sent[0].command;
    await quick.round(t + 2000); // no ack: back to the queue, and handed out again
    expect(sender.sent.length).toBe(2);
    const second = sender.sent[1].command;
    expect((await store.getOrder(o.id))?.commandId).toBe(second.commandId);
    await quick.onAck('d1', { schema: '1.0', commandId: first.commandId, result: 'rejected', timeMs: t }, t + 2100);
    expect((await store.getOrder(o.id))?.status).toBe('assigned');
    await quick.onAck('d1', { schema: '1.0', commandId: second.commandId, result: 'accepted', timeMs: t }, t + 2200);
    expect((await store.getOrder(o.id))?.status).toBe('in-flight');
  });

  it('leaves drones out that are busy per telemetry, flying, stale, low or without the capability', () => {
    idle('ok');
    registry.applyStatus(birth('busy', 's', t), t);
    registry.applyTelemetry(telemetry('busy', 1, { taskId: 'other' }), t);
    registry.applyStatus(birth('air', 's', t), t);
    registry.applyTelemetry(telemetry('air', 1, { landed: false, armed: true }), t);
    registry.applyStatus(birth('quiet', 's', t), t);
    registry.applyStatus({ ...birth('nocap', 's', t), capabilities: ['land'] }, t);
    registry.applyTelemetry(telemetry('nocap', 1), t);
    registry.applyStatus(birth('flat', 's', t), t);
    registry.applyTelemetry(
      telemetry('flat', 1, { linkQuality: { ...telemetry('x', 1).linkQuality, autopilotUp: false } }),
      t,
    );
    const drones = dispatcher.assignableDrones(t);
    expect(drones.filter((d) => d.available).map((d) => d.id)).toEqual(['ok']);
    expect(drones.map((d) => d.id).sort()).toEqual(['air', 'busy', 'flat', 'ok', 'quiet']);
  });
  it('leaves alone a drone that holds an order in the database, whichever station handed it out', async () => {
    idle('d1');
    // Another station on the same database handed d1 an order: this dispatcher's own books know nothing of it.
    const theirs = await newOrder(100);
    await store.transitionOrder(theirs.id, ['queued'], { status: 'assigned', droneId: 'd1', commandId: 'c-other' }, t);
    const ours = await newOrder(300);
    await dispatcher.round(t);
    expect(sender.sent).toEqual([]);
    expect((await store.getOrder(ours.id))?.status).toBe('queued');
    idle('d2');
    await dispatcher.round(t);
    expect(sender.sent.map((s) => [s.droneId, s.command.kind])).toEqual([['d2', 'assign-delivery']]);
    expect((await store.getOrder(ours.id))?.droneId).toBe('d2');
  });

  it('fails a queued order the airspace forbids, with the reason, and hands out the others', async () => {
    const forbidden = new Set<string>();
    const d = new Dispatcher(
      store,
      registry,
      sender,
      {
        ...OPTIONS,
        orderRefusal: (o) => (forbidden.has(o.id) ? 'drop point is inside no-fly zone z (airspace v1)' : null),
      },
      componentLogger('dispatcher-test'),
    );
    idle('d1');
    const bad = await newOrder(100);
    const good = await newOrder(300);
    forbidden.add(bad.id);
    await d.round(t);
    expect(await store.getOrder(bad.id)).toMatchObject({
      status: 'failed',
      reason: 'not flyable: drop point is inside no-fly zone z (airspace v1)',
    });
    expect((await store.getOrder(good.id))?.status).toBe('assigned');
    expect(d.stats.failed).toBe(1);
  });
});
