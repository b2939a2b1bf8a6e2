/**
 * Several stations on one database must not double-book a drone. The store's assignment lock (a PostgreSQL advisory
 * lock of the schema; SQLite is one station per file and simply runs) and two real stations on one PostgreSQL schema
 * and one broker running rounds at the same time against the same idle drones: every drone gets at most one order,
 * no order goes out twice. The PostgreSQL parts run when DATABASE_URL is set and are skipped otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nedToGeo } from '../../shared/geo/index.js';
import { addCredential, type CredentialsFile, EMPTY_CREDENTIALS, saveCredentials } from '../broker/index.js';
import { parseStationConfig } from '../config.js';
import { type StationHandle, startStation } from '../station.js';
import { PostgresStore } from '../storage/index.js';
import { storeBackends, testSchemaName } from '../storage/test-support.js';
import { FAST_SCRYPT, FakeDrone, TEST_DEPOT, waitFor } from '../test-support.js';

const DATABASE_URL = process.env.DATABASE_URL ?? '';
const MQTT_URL = process.env.MQTT_URL ?? '';

for (const backend of storeBackends()) {
  describe(`the assignment lock on ${backend.name}`, () => {
    it(
      backend.name === 'postgres'
        ? 'is held by one store at a time, and free again once its holder is done (or failed)'
        : 'always runs: one station per SQLite file',
      async () => {
        const opened = await backend.open();
        try {
          const other = await opened.reopen();
          const inner = await opened.store.withAssignmentLock(async () => other.withAssignmentLock(async () => 'b'));
          expect(inner).toEqual({
            acquired: true,
            value: backend.name === 'postgres' ? { acquired: false } : { acquired: true, value: 'b' },
          });
          expect(await other.withAssignmentLock(async () => 'b')).toEqual({ acquired: true, value: 'b' });
          await expect(
            opened.store.withAssignmentLock(async () => {
              throw new Error('round failed');
            }),
          ).rejects.toThrow('round failed');
          expect(await other.withAssignmentLock(async () => 'after')).toEqual({ acquired: true, value: 'after' });
        } finally {
          await opened.cleanup();
        }
      },
    );
  });
}

describe.skipIf(DATABASE_URL === '')('two stations on one PostgreSQL database', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('run rounds at the same time over the same idle drones and never book a drone or an order twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-two-stations-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const schema = testSchemaName();
    cleanups.push(async () => {
      const s = await PostgresStore.open({ connectionString: DATABASE_URL, schema });
      await s.dropSchema(schema);
      await s.close();
    });
    // Far from every other test's depot: on a shared broker no other station finds these drones worth an order.
    const depot = nedToGeo(TEST_DEPOT, { n: 0, e: 230_000, d: 0 });
    const prefix = `lk${Date.now().toString(36)}-`;
    const ids = Array.from({ length: 6 }, (_, i) => `${prefix}d${i + 1}`);
    let credentials: CredentialsFile = EMPTY_CREDENTIALS;
    const passwords: Record<string, string> = {};
    for (const [id, role] of [...ids.map((id) => [id, 'drone'] as const), ['station-b', 'station'] as const]) {
      const added = addCredential(credentials, id, role, 1, FAST_SCRYPT);
      credentials = added.credentials;
      passwords[id] = added.password;
    }
    const credentialsFile = join(dir, 'credentials.json');
    saveCredentials(credentialsFile, credentials);

    const config = (name: string, broker: Record<string, unknown>) =>
      parseStationConfig({
        mqttPort: 0,
        httpPort: 0,
        db: join(dir, `${name}.db`),
        credentials: credentialsFile,
        operatorToken: 'test-token',
        logLevel: 'silent',
        trafficRate: 0,
        depots: `lock=${depot.latDeg},${depot.lonDeg},${depot.altAmslM}`,
        // Rounds only when kicked (orders) or run below: they overlap as much as the test makes them.
        roundInterval: 600,
        staleAfter: 120,
        databaseUrl: DATABASE_URL,
        databaseSchema: schema,
        ...broker,
      });
    const a: StationHandle = await startStation(config('a', MQTT_URL ? { mqttUrl: MQTT_URL } : {}));
    cleanups.push(() => a.close());
    const b: StationHandle = await startStation(
      config(
        'b',
        MQTT_URL
          ? { mqttUrl: MQTT_URL }
          : { mqttUrl: a.mqttUrl, mqttUsername: 'station-b', mqttPassword: passwords['station-b'] },
      ),
    );
    cleanups.push(() => b.close());

    const drones: FakeDrone[] = [];
    cleanups.push(async () => {
      await Promise.all(drones.map((d) => d.close().catch(() => undefined)));
    });
    for (const [i, id] of ids.entries()) {
      const home = nedToGeo(depot, { n: 20 * Math.cos(i), e: 20 * Math.sin(i), d: 0 });
      const d = await FakeDrone.connect(a.mqttUrl, id, { ...(MQTT_URL ? {} : { password: passwords[id] }), home });
      drones.push(d);
      await d.birth();
      await d.telemetry();
    }
    for (const s of [a, b]) {
      await waitFor(() => ids.every((id) => s.registry.get(id)?.telemetry != null), 'both stations see every drone');
    }

    // Ten orders for six drones, half through each station (each POST kicks a round there at once).
    const post = async (s: StationHandle, i: number) => {
      const res = await fetch(`${s.httpUrl}/api/deliveries`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
        body: JSON.stringify({ drop: { northM: 100 + 10 * i, eastM: 50 }, weightKg: 1, reference: `lock-${i}` }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 2 === 0 ? a : b, i)));
    // The drones accept but report no task in telemetry: to each station they still look idle on the ground.
    for (let i = 0; i < 8; i++) await Promise.all([a.runRound(), b.runRound()]);
    await Promise.all([a.settle(), b.settle()]);
    await waitFor(() => drones.every((d) => d.commands.some((c) => c.kind === 'assign-delivery')), 'every drone busy');
    await Promise.all([a.settle(), b.settle()]);

    const assignments = drones.map((d) => d.commands.filter((c) => c.kind === 'assign-delivery'));
    expect(assignments.map((cmds) => cmds.length)).toEqual(ids.map(() => 1));
    const orders = await a.store.listOrders({ limit: 100 });
    const mine = orders.filter((o) => o.reference?.startsWith('lock-'));
    expect(mine).toHaveLength(10);
    const active = mine.filter((o) => o.status === 'assigned' || o.status === 'in-flight');
    expect(active).toHaveLength(6);
    expect(new Set(active.map((o) => o.droneId))).toEqual(new Set(ids));
    expect(mine.filter((o) => o.status === 'queued')).toHaveLength(4);
    expect(mine.every((o) => o.attempts <= 1)).toBe(true);
    // Every hand-out a drone received is the order the database says it holds.
    const taskIds = assignments.flat().map((c) => (c.kind === 'assign-delivery' ? c.taskId : ''));
    expect(new Set(taskIds)).toEqual(new Set(active.map((o) => o.id)));
    // Both stations planned (rounds ran in each).
    expect(a.dispatcher.stats.rounds + a.dispatcher.stats.roundsLockedOut).toBeGreaterThan(0);
    expect(b.dispatcher.stats.rounds + b.dispatcher.stats.roundsLockedOut).toBeGreaterThan(0);
  });
});
