/**
 * Numbered schema migrations, one list for both databases (each step written in both dialects). At start the store
 * applies, in order and each in its own transaction, every version not yet recorded in `schema_migrations` (so a
 * step that landed after a higher-numbered one is still applied to a database made in between).
 * Append new steps; never edit an applied one.
 */
import { POLICY_MIGRATION } from './policy-store.js';
import { ROLLOUT_MIGRATION } from './rollout-store.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orders',
    sqlite: `
      CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        pickup_depot_id TEXT NOT NULL,
        pickup_lat_deg REAL NOT NULL,
        pickup_lon_deg REAL NOT NULL,
        pickup_alt_amsl_m REAL NOT NULL,
        drop_lat_deg REAL NOT NULL,
        drop_lon_deg REAL NOT NULL,
        drop_north_m REAL,
        drop_east_m REAL,
        weight_kg REAL NOT NULL,
        priority INTEGER NOT NULL,
        deadline_ms INTEGER,
        drone_id TEXT,
        command_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        reference TEXT,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
      );
      CREATE INDEX orders_status ON orders (status, created_at_ms);
      CREATE TABLE order_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id TEXT NOT NULL REFERENCES orders (id),
        time_ms INTEGER NOT NULL,
        status TEXT NOT NULL,
        drone_id TEXT,
        reason TEXT
      );
      CREATE INDEX order_events_order ON order_events (order_id, seq);`,
    postgres: `
      CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        pickup_depot_id TEXT NOT NULL,
        pickup_lat_deg DOUBLE PRECISION NOT NULL,
        pickup_lon_deg DOUBLE PRECISION NOT NULL,
        pickup_alt_amsl_m DOUBLE PRECISION NOT NULL,
        drop_lat_deg DOUBLE PRECISION NOT NULL,
        drop_lon_deg DOUBLE PRECISION NOT NULL,
        drop_north_m DOUBLE PRECISION,
        drop_east_m DOUBLE PRECISION,
        weight_kg DOUBLE PRECISION NOT NULL,
        priority INTEGER NOT NULL,
        deadline_ms BIGINT,
        drone_id TEXT,
        command_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        reference TEXT,
        created_at_ms BIGINT NOT NULL,
        updated_at_ms BIGINT NOT NULL
      );
      CREATE INDEX orders_status ON orders (status, created_at_ms);
      CREATE TABLE order_events (
        seq BIGSERIAL PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders (id),
        time_ms BIGINT NOT NULL,
        status TEXT NOT NULL,
        drone_id TEXT,
        reason TEXT
      );
      CREATE INDEX order_events_order ON order_events (order_id, seq);`,
  },
  {
    version: 2,
    name: 'drones and commands',
    sqlite: `
      CREATE TABLE drones (
        id TEXT PRIMARY KEY,
        online INTEGER NOT NULL,
        session_id TEXT,
        policy_version TEXT,
        home_json TEXT,
        capabilities_json TEXT,
        last_state_json TEXT,
        birth_at_ms INTEGER,
        last_seen_ms INTEGER,
        updated_at_ms INTEGER NOT NULL
      );
      CREATE TABLE commands (
        command_id TEXT PRIMARY KEY,
        drone_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        order_id TEXT,
        payload_json TEXT NOT NULL,
        sent_at_ms INTEGER NOT NULL,
        result TEXT,
        reason TEXT,
        acked_at_ms INTEGER
      );
      CREATE INDEX commands_order ON commands (order_id);`,
    postgres: `
      CREATE TABLE drones (
        id TEXT PRIMARY KEY,
        online BOOLEAN NOT NULL,
        session_id TEXT,
        policy_version TEXT,
        home_json TEXT,
        capabilities_json TEXT,
        last_state_json TEXT,
        birth_at_ms BIGINT,
        last_seen_ms BIGINT,
        updated_at_ms BIGINT NOT NULL
      );
      CREATE TABLE commands (
        command_id TEXT PRIMARY KEY,
        drone_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        order_id TEXT,
        payload_json TEXT NOT NULL,
        sent_at_ms BIGINT NOT NULL,
        result TEXT,
        reason TEXT,
        acked_at_ms BIGINT
      );
      CREATE INDEX commands_order ON commands (order_id);`,
  },
  {
    version: 3,
    name: 'station state and experience',
    sqlite: `
      CREATE TABLE station_state (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL
      );
      CREATE TABLE experience_batches (
        row_id INTEGER PRIMARY KEY AUTOINCREMENT,
        drone_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        time_ms INTEGER NOT NULL,
        received_at_ms INTEGER NOT NULL,
        policy_version TEXT NOT NULL,
        record_count INTEGER NOT NULL,
        frames BLOB NOT NULL,
        UNIQUE (drone_id, session_id, seq)
      );
      CREATE INDEX experience_policy ON experience_batches (policy_version, row_id);`,
    postgres: `
      CREATE TABLE station_state (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL,
        updated_at_ms BIGINT NOT NULL
      );
      CREATE TABLE experience_batches (
        row_id BIGSERIAL PRIMARY KEY,
        drone_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        time_ms BIGINT NOT NULL,
        received_at_ms BIGINT NOT NULL,
        policy_version TEXT NOT NULL,
        record_count INTEGER NOT NULL,
        frames BYTEA NOT NULL,
        UNIQUE (drone_id, session_id, seq)
      );
      CREATE INDEX experience_policy ON experience_batches (policy_version, row_id);`,
  },
  {
    version: 4,
    name: 'drone events',
    sqlite: `
      CREATE TABLE drone_events (
        row_id INTEGER PRIMARY KEY AUTOINCREMENT,
        drone_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        time_ms INTEGER NOT NULL,
        received_at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        UNIQUE (drone_id, session_id, seq)
      );
      CREATE INDEX drone_events_drone ON drone_events (drone_id, row_id);`,
    postgres: `
      CREATE TABLE drone_events (
        row_id BIGSERIAL PRIMARY KEY,
        drone_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        time_ms BIGINT NOT NULL,
        received_at_ms BIGINT NOT NULL,
        kind TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        UNIQUE (drone_id, session_id, seq)
      );
      CREATE INDEX drone_events_drone ON drone_events (drone_id, row_id);`,
  },
  POLICY_MIGRATION,
  ROLLOUT_MIGRATION,
];

export const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at_ms BIGINT NOT NULL
)`;
