/**
 * Station storage: one repository interface (StationStore), two implementations - SQLite by default, PostgreSQL when
 * a database URL is given - with numbered migrations applied in order at open.
 */
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { StationStore } from './store.js';

export { MIGRATIONS, type Migration } from './migrations.js';
export type { PolicyQuery, PolicyRecord, PolicyStore, PolicyTransitionRecord } from './policy-store.js';
export { PostgresStore, type PostgresStoreOptions, redactUrl } from './postgres-store.js';
export * from './records.js';
export type {
  RolloutQuery,
  RolloutRecord,
  RolloutStore,
  RolloutTransitionRecord,
} from './rollout-store.js';
export { SqliteStore } from './sqlite-store.js';
export type { StationStore } from './store.js';

export interface StoreOptions {
  /** SQLite file (or ':memory:'), used when no databaseUrl is given. */
  readonly dbFile: string;
  /** postgres://... ; when set, PostgreSQL is used instead of SQLite. */
  readonly databaseUrl?: string;
  /** PostgreSQL schema to use (created if missing). */
  readonly databaseSchema?: string;
}

export async function openStore(options: StoreOptions, nowMs: number = Date.now()): Promise<StationStore> {
  if (options.databaseUrl) {
    return PostgresStore.open(
      {
        connectionString: options.databaseUrl,
        ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
      },
      nowMs,
    );
  }
  return SqliteStore.open(options.dbFile, nowMs);
}
