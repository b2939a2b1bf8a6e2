/**
 * The one storage suite, run on every backend: SQLite always, PostgreSQL when DATABASE_URL is set (each run in a
 * schema of its own, dropped afterwards).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import type { DroneRecord, ExperienceBatchRecord, OrderRecord } from './records.js';
import type { StationStore } from './store.js';
import { type OpenedStore, storeBackends } from './test-support.js';

function order(id: string, createdAtMs: number, extra: Partial<OrderRecord> = {}): OrderRecord {
  return {
    id,
    status: 'queued',
    pickupDepotId: 'main',
    pickupGeo: { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 },
    dropGeo: { latDeg: 47.3986, lonDeg: 8.5461 },
    dropNeM: { northM: 95.5, eastM: 38.25 },
    weightKg: 1.25,
    priority: 3,
    deadlineMs: null,
    droneId: null,
    commandId: null,
    attempts: 0,
    reason: null,
    reference: null,
    createdAtMs,
    updatedAtMs: createdAtMs,
    ...extra,
  };
}

function batch(droneId: string, sessionId: string, seq: number, extra: Partial<ExperienceBatchRecord> = {}) {
  return {
    droneId,
    sessionId,
    seq,
    timeMs: 1_700_000_000_000 + seq,
    receivedAtMs: 1_700_000_000_500 + seq,
    policyVersion: 'p1',
    recordCount: 2,
    frames: Uint8Array.from([seq & 0xff, 1, 2, 3, 254, 255]),
    ...extra,
  } satisfies ExperienceBatchRecord;
}

for (const backend of storeBackends()) {
  describe(`StationStore on ${backend.name}`, () => {
    let opened: OpenedStore;
    let store: StationStore;
    beforeEach(async () => {
      opened = await backend.open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    it('applies every numbered migration once, in order, and not again on reopen', async () => {
      const expected = MIGRATIONS.map((m) => ({ version: m.version, name: m.name }));
      expect(await store.appliedMigrations()).toEqual(expected);
      const again = await opened.reopen();
      expect(await again.appliedMigrations()).toEqual(expected);
    });

    it('stores an order and reads it back field for field, with a null-heavy variant', async () => {
      const a = order('ord_a', 1000, { deadlineMs: 1_700_000_123_456, reference: 'client-7', priority: 5 });
      const b = order('ord_b', 2000, { dropNeM: null });
      await store.insertOrder(a);
      await store.insertOrder(b);
      expect(await store.getOrder('ord_a')).toEqual(a);
      expect(await store.getOrder('ord_b')).toEqual(b);
      expect(await store.getOrder('nope')).toBeNull();
    });

    it('refuses a second order with the same id', async () => {
      await store.insertOrder(order('ord_a', 1000));
      await expect(store.insertOrder(order('ord_a', 2000))).rejects.toThrow();
    });

    it('lists newest first, filters by status, pages', async () => {
      for (let i = 0; i < 5; i++) await store.insertOrder(order(`ord_${i}`, 1000 + i));
      await store.transitionOrder('ord_1', ['queued'], { status: 'cancelled' }, 3000);
      const all = await store.listOrders();
      expect(all.map((o) => o.id)).toEqual(['ord_4', 'ord_3', 'ord_2', 'ord_1', 'ord_0']);
      const queued = await store.listOrders({ statuses: ['queued'] });
      expect(queued.map((o) => o.id)).toEqual(['ord_4', 'ord_3', 'ord_2', 'ord_0']);
      const page = await store.listOrders({ limit: 2, offset: 1 });
      expect(page.map((o) => o.id)).toEqual(['ord_3', 'ord_2']);
      expect(await store.countOrdersByStatus()).toEqual({
        queued: 4,
        assigned: 0,
        'in-flight': 0,
        delivered: 0,
        failed: 0,
        cancelled: 1,
      });
    });

    it('moves an order only from an expected status (compare-and-set) and logs each move', async () => {
      await store.insertOrder(order('ord_a', 1000));
      const assigned = await store.transitionOrder(
        'ord_a',
        ['queued'],
        { status: 'assigned', droneId: 'd1', commandId: 'c1', attemptsDelta: 1 },
        2000,
      );
      expect(assigned).toMatchObject({ status: 'assigned', droneId: 'd1', commandId: 'c1', attempts: 1 });
      expect(assigned?.updatedAtMs).toBe(2000);
      // A second assigner that still thinks it is queued loses.
      expect(await store.transitionOrder('ord_a', ['queued'], { status: 'assigned', droneId: 'd2' }, 2001)).toBeNull();
      expect((await store.getOrder('ord_a'))?.droneId).toBe('d1');
      // Absent keys are kept; explicit null clears.
      const requeued = await store.transitionOrder(
        'ord_a',
        ['assigned', 'in-flight'],
        { status: 'queued', commandId: null, reason: 'd1 went offline' },
        3000,
      );
      expect(requeued).toMatchObject({ status: 'queued', droneId: 'd1', commandId: null, attempts: 1 });
      expect(await store.transitionOrder('missing', ['queued'], { status: 'cancelled' }, 1)).toBeNull();
      expect(await store.transitionOrder('ord_a', [], { status: 'cancelled' }, 1)).toBeNull();
      expect(await store.orderEvents('ord_a')).toEqual([
        { orderId: 'ord_a', timeMs: 1000, status: 'queued', droneId: null, reason: null },
        { orderId: 'ord_a', timeMs: 2000, status: 'assigned', droneId: 'd1', reason: null },
        { orderId: 'ord_a', timeMs: 3000, status: 'queued', droneId: 'd1', reason: 'd1 went offline' },
      ]);
    });

    it('keeps orders across a reopen (a persisted queue)', async () => {
      await store.insertOrder(order('ord_a', 1000));
      await store.transitionOrder('ord_a', ['queued'], { status: 'assigned', droneId: 'd1' }, 2000);
      const again = await opened.reopen();
      expect(await again.getOrder('ord_a')).toMatchObject({ status: 'assigned', droneId: 'd1' });
    });

    it('upserts drones and reads them back with their JSON fields', async () => {
      const d1: DroneRecord = {
        id: 'd1',
        online: true,
        sessionId: 's1',
        policyVersion: '1.0.0',
        home: { latDeg: 47.1, lonDeg: 8.2, altAmslM: 400.5 },
        capabilities: { payloadKg: 2, hover: true },
        lastState: { battery: 0.8, mode: 'OFFBOARD' },
        birthAtMs: 1000,
        lastSeenMs: 1500,
        updatedAtMs: 1500,
      };
      const d2: DroneRecord = {
        id: 'd2',
        online: false,
        sessionId: null,
        policyVersion: null,
        home: null,
        capabilities: null,
        lastState: null,
        birthAtMs: null,
        lastSeenMs: null,
        updatedAtMs: 10,
      };
      await store.saveDrones([d2, d1]);
      expect(await store.listDrones()).toEqual([d1, d2]);
      await store.saveDrones([{ ...d1, online: false, updatedAtMs: 2000 }]);
      expect((await store.listDrones())[0]).toMatchObject({ id: 'd1', online: false, updatedAtMs: 2000 });
      await store.saveDrones([]);
    });

    it('records the first ack of a command only', async () => {
      await store.insertCommand({
        commandId: 'c1',
        droneId: 'd1',
        kind: 'assign-delivery',
        orderId: 'ord_a',
        payload: { taskId: 'ord_a', dropNeM: [10, 20] },
        sentAtMs: 100,
        result: null,
        reason: null,
        ackedAtMs: null,
      });
      expect(await store.recordAck('c1', 'rejected', 'battery low', 150)).toMatchObject({
        result: 'rejected',
        reason: 'battery low',
        ackedAtMs: 150,
      });
      expect(await store.recordAck('c1', 'accepted', null, 160)).toBeNull();
      expect(await store.recordAck('c-unknown', 'accepted', null, 160)).toBeNull();
      expect(await store.getCommand('c1')).toMatchObject({
        payload: { taskId: 'ord_a', dropNeM: [10, 20] },
        result: 'rejected',
      });
    });

    it('keeps named state documents', async () => {
      expect(await store.getState('alerts')).toBeUndefined();
      await store.putState('alerts', { rules: { a: { firing: true } } }, 1);
      await store.putState('alerts', { rules: { a: { firing: false } } }, 2);
      expect(await store.getState('alerts')).toEqual({ rules: { a: { firing: false } } });
    });

    it('stores experience batches once per (drone, session, seq), bytes intact, in arrival order', async () => {
      expect(await store.insertExperienceBatch(batch('d1', 's1', 1))).toBe(true);
      expect(await store.insertExperienceBatch(batch('d1', 's1', 2))).toBe(true);
      expect(await store.insertExperienceBatch(batch('d1', 's1', 1, { recordCount: 99 }))).toBe(false);
      expect(await store.insertExperienceBatch(batch('d1', 's2', 1, { policyVersion: 'p2' }))).toBe(true);
      expect(await store.insertExperienceBatch(batch('d2', 's1', 1))).toBe(true);
      expect(await store.experienceStats()).toEqual({ batches: 4, records: 8 });
      const all = await store.listExperienceBatches();
      expect(all.map((b) => [b.droneId, b.sessionId, b.seq])).toEqual([
        ['d1', 's1', 1],
        ['d1', 's1', 2],
        ['d1', 's2', 1],
        ['d2', 's1', 1],
      ]);
      expect(Array.from(all[0].frames)).toEqual([1, 1, 2, 3, 254, 255]);
      expect(all[0].recordCount).toBe(2);
      const page2 = await store.listExperienceBatches({ afterRowId: all[1].rowId, limit: 1 });
      expect(page2.map((b) => b.seq)).toEqual([1]);
      expect(page2[0].sessionId).toBe('s2');
      expect((await store.listExperienceBatches({ droneId: 'd2' })).length).toBe(1);
      expect((await store.listExperienceBatches({ policyVersion: 'p2' })).map((b) => b.sessionId)).toEqual(['s2']);
    });

    it('stores drone events once per (drone, session, seq), payload intact, oldest first', async () => {
      const event = (droneId: string, sessionId: string, seq: number, kind = 'mission') => ({
        droneId,
        sessionId,
        seq,
        timeMs: 1_700_000_000_000 + seq,
        receivedAtMs: 1_700_000_000_400 + seq,
        kind,
        payload: { seq, kind, detail: { nested: [1, 'two', null] } },
      });
      expect(await store.insertDroneEvent(event('d1', 's1', 1))).toBe(true);
      expect(await store.insertDroneEvent(event('d1', 's1', 2, 'alert'))).toBe(true);
      // A resend after a lost PUBACK: kept once, the first copy wins.
      expect(await store.insertDroneEvent({ ...event('d1', 's1', 1), kind: 'changed' })).toBe(false);
      expect(await store.insertDroneEvent(event('d1', 's2', 1))).toBe(true);
      expect(await store.insertDroneEvent(event('d2', 's1', 1))).toBe(true);
      const d1 = await store.listDroneEvents({ droneId: 'd1' });
      expect(d1.map((e) => [e.sessionId, e.seq, e.kind])).toEqual([
        ['s1', 1, 'mission'],
        ['s1', 2, 'alert'],
        ['s2', 1, 'mission'],
      ]);
      expect(d1[0]).toMatchObject({
        droneId: 'd1',
        timeMs: 1_700_000_000_001,
        receivedAtMs: 1_700_000_000_401,
        payload: { seq: 1, kind: 'mission', detail: { nested: [1, 'two', null] } },
      });
      expect((await store.listDroneEvents({ droneId: 'd1', sessionId: 's2' })).map((e) => e.seq)).toEqual([1]);
      const page = await store.listDroneEvents({ droneId: 'd1', afterRowId: d1[0].rowId, limit: 1 });
      expect(page.map((e) => [e.sessionId, e.seq])).toEqual([['s1', 2]]);
      // The highest seq per (drone, session), least recently received first; older sessions left out by time.
      expect(await store.latestEventSeqs(0)).toEqual([
        { droneId: 'd1', sessionId: 's2', seq: 1 },
        { droneId: 'd2', sessionId: 's1', seq: 1 },
        { droneId: 'd1', sessionId: 's1', seq: 2 },
      ]);
      expect(await store.latestEventSeqs(1_700_000_000_402)).toEqual([{ droneId: 'd1', sessionId: 's1', seq: 2 }]);
      expect(await store.listDroneEvents({ droneId: 'nobody' })).toEqual([]);
    });
  });
}
