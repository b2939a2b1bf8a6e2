/**
 * Test helper (not built): the storage backends a suite should run on - SQLite always, PostgreSQL when DATABASE_URL
 * is set - each opened fresh: a temporary SQLite file, or a PostgreSQL schema of its own (aerie_test_<random>) that
 * is dropped afterwards, so parallel test files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { StationStore } from './store.js';

export interface OpenedStore {
  readonly store: StationStore;
  /** Open a second store on the same data (restart, or a second station). */
  reopen(): Promise<StationStore>;
  /** Close every store opened here and delete the data. */
  cleanup(): Promise<void>;
}

export interface StoreBackend {
  readonly name: 'sqlite' | 'postgres';
  open(): Promise<OpenedStore>;
}

export function storeBackends(): StoreBackend[] {
  const backends: StoreBackend[] = [{ name: 'sqlite', open: openSqlite }];
  const url = process.env.DATABASE_URL;
  if (url) backends.push({ name: 'postgres', open: () => openPostgres(url) });
  return backends;
}

async function openSqlite(): Promise<OpenedStore> {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-store-'));
  const file = join(dir, 'station.db');
  const opened: StationStore[] = [SqliteStore.open(file)];
  return {
    store: opened[0],
    async reopen() {
      const s = SqliteStore.open(file);
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function testSchemaName(): string {
  return `aerie_test_${randomBytes(6).toString('hex')}`;
}

async function openPostgres(connectionString: string): Promise<OpenedStore> {
  const schema = testSchemaName();
  const first = await PostgresStore.open({ connectionString, schema });
  const opened: PostgresStore[] = [first];
  return {
    store: first,
    async reopen() {
      const s = await PostgresStore.open({ connectionString, schema });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened.slice(1)) await s.close();
      await first.dropSchema(schema);
      await first.close();
    },
  };
}
