/**
 * StationStore on SQLite (better-sqlite3): one file, WAL journal so readers do not wait on the writer. Calls are
 * synchronous underneath and answered as resolved promises.
 */
import Database from 'better-sqlite3';
import { AerieError } from '../../shared/errors.js';
import { MIGRATIONS, MIGRATIONS_TABLE_SQL } from './migrations.js';
import { type PolicyStore, sqlitePolicyStore } from './policy-store.js';
import {
  COMMAND_RESULTS,
  type CommandRecord,
  type CommandResult,
  type DroneEventQuery,
  type DroneEventRecord,
  type DroneRecord,
  type ExperienceBatchRecord,
  type ExperienceQuery,
  type LatestEventSeq,
  ORDER_STATUSES,
  type OrderEvent,
  type OrderPatch,
  type OrderQuery,
  type OrderRecord,
  type OrderStatus,
  type StoredDroneEvent,
  type StoredExperienceBatch,
} from './records.js';
import { type RolloutStore, sqliteRolloutStore } from './rollout-store.js';
import {
  COMMAND_COLUMNS,
  commandToRow,
  DRONE_COLUMNS,
  DRONE_EVENT_COLUMNS,
  droneEventToRow,
  droneToRow,
  EXPERIENCE_COLUMNS,
  latestSeqOf,
  ORDER_COLUMNS,
  orderToRow,
  patchColumns,
  rowToCommand,
  rowToDrone,
  rowToDroneEvent,
  rowToExperienceBatch,
  rowToOrder,
  rowToOrderEvent,
} from './rows.js';
import {
  clampLimit,
  DEFAULT_EVENT_PAGE,
  DEFAULT_EXPERIENCE_PAGE,
  DEFAULT_ORDER_LIMIT,
  MAX_EVENT_PAGE,
  MAX_ORDER_LIMIT,
  type StationStore,
} from './store.js';
import { SubStores } from './sub-stores.js';

type Row = Record<string, unknown>;
const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

export class SqliteStore extends SubStores implements StationStore {
  readonly kind = 'sqlite' as const;
  readonly where: string;
  private readonly db: Database.Database;

  private constructor(db: Database.Database, where: string) {
    super();
    this.db = db;
    this.where = where;
  }

  /** Open (creating if needed) and migrate. `file` may be ':memory:'. */
  static open(file: string, nowMs: number = Date.now()): SqliteStore {
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw new AerieError('STORAGE_FAILED', `cannot open SQLite database ${file}: ${(err as Error).message}`, {
        file,
      });
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const store = new SqliteStore(db, file);
    store.migrate(nowMs);
    return store;
  }

  private migrate(nowMs: number): void {
    this.db.exec(MIGRATIONS_TABLE_SQL);
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sqlite);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)')
          .run(m.version, m.name, nowMs);
      })();
    }
  }

  async appliedMigrations(): Promise<{ version: number; name: string }[]> {
    const rows = this.db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as Row[];
    return rows.map((r) => ({ version: Number(r.version), name: String(r.name) }));
  }

  async insertOrder(order: OrderRecord): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO orders (${ORDER_COLUMNS.join(', ')}) VALUES (${marks(ORDER_COLUMNS.length)})`)
        .run(...orderToRow(order));
      this.db
        .prepare('INSERT INTO order_events (order_id, time_ms, status, drone_id, reason) VALUES (?, ?, ?, ?, ?)')
        .run(order.id, order.createdAtMs, order.status, order.droneId, order.reason);
    })();
  }

  async getOrder(id: string): Promise<OrderRecord | null> {
    const row = this.db.prepare('SELECT * FROM orders WHERE id = ?').get(id) as Row | undefined;
    return row ? rowToOrder(row) : null;
  }

  async listOrders(query: OrderQuery = {}): Promise<OrderRecord[]> {
    const limit = clampLimit(query.limit, DEFAULT_ORDER_LIMIT, MAX_ORDER_LIMIT);
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const statuses = query.statuses ?? [];
    const where = statuses.length > 0 ? `WHERE status IN (${marks(statuses.length)})` : '';
    const rows = this.db
      .prepare(`SELECT * FROM orders ${where} ORDER BY created_at_ms DESC, id DESC LIMIT ? OFFSET ?`)
      .all(...statuses, limit, offset) as Row[];
    return rows.map(rowToOrder);
  }

  async transitionOrder(
    id: string,
    from: readonly OrderStatus[],
    patch: OrderPatch,
    atMs: number,
  ): Promise<OrderRecord | null> {
    if (from.length === 0) return null;
    const { columns, values, attemptsDelta } = patchColumns(patch);
    const set = [...columns.map((c) => `${c} = ?`), 'attempts = attempts + ?', 'updated_at_ms = ?'].join(', ');
    return this.db.transaction(() => {
      const row = this.db
        .prepare(`UPDATE orders SET ${set} WHERE id = ? AND status IN (${marks(from.length)}) RETURNING *`)
        .get(...values, attemptsDelta, atMs, id, ...from) as Row | undefined;
      if (!row) return null;
      const order = rowToOrder(row);
      this.db
        .prepare('INSERT INTO order_events (order_id, time_ms, status, drone_id, reason) VALUES (?, ?, ?, ?, ?)')
        .run(id, atMs, order.status, order.droneId, order.reason);
      return order;
    })();
  }

  async orderEvents(id: string): Promise<OrderEvent[]> {
    const rows = this.db.prepare('SELECT * FROM order_events WHERE order_id = ? ORDER BY seq').all(id) as Row[];
    return rows.map(rowToOrderEvent);
  }

  async countOrdersByStatus(): Promise<Record<OrderStatus, number>> {
    const counts = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM orders GROUP BY status').all() as Row[];
    for (const r of rows) counts[String(r.status) as OrderStatus] = Number(r.n);
    return counts;
  }

  async saveDrones(drones: readonly DroneRecord[]): Promise<void> {
    const update = DRONE_COLUMNS.slice(1)
      .map((c) => `${c} = excluded.${c}`)
      .join(', ');
    const stmt = this.db.prepare(
      `INSERT INTO drones (${DRONE_COLUMNS.join(', ')}) VALUES (${marks(DRONE_COLUMNS.length)})
       ON CONFLICT (id) DO UPDATE SET ${update}`,
    );
    this.db.transaction(() => {
      for (const d of drones) stmt.run(...droneToRow(d, 'integer'));
    })();
  }

  async listDrones(): Promise<DroneRecord[]> {
    return (this.db.prepare('SELECT * FROM drones ORDER BY id').all() as Row[]).map(rowToDrone);
  }

  async insertCommand(command: CommandRecord): Promise<void> {
    this.db
      .prepare(`INSERT INTO commands (${COMMAND_COLUMNS.join(', ')}) VALUES (${marks(COMMAND_COLUMNS.length)})`)
      .run(...commandToRow(command));
  }

  async recordAck(
    commandId: string,
    result: CommandResult,
    reason: string | null,
    atMs: number,
  ): Promise<CommandRecord | null> {
    if (!COMMAND_RESULTS.includes(result)) return null;
    const row = this.db
      .prepare(
        'UPDATE commands SET result = ?, reason = ?, acked_at_ms = ? WHERE command_id = ? AND result IS NULL RETURNING *',
      )
      .get(result, reason, atMs, commandId) as Row | undefined;
    return row ? rowToCommand(row) : null;
  }

  async getCommand(commandId: string): Promise<CommandRecord | null> {
    const row = this.db.prepare('SELECT * FROM commands WHERE command_id = ?').get(commandId) as Row | undefined;
    return row ? rowToCommand(row) : null;
  }

  async withAssignmentLock<T>(fn: () => Promise<T>): Promise<{ acquired: true; value: T }> {
    // One process per SQLite file: the dispatcher already runs one round at a time.
    return { acquired: true, value: await fn() };
  }

  async putState(key: string, value: unknown, atMs: number): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO station_state (key, value_json, updated_at_ms) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at_ms = excluded.updated_at_ms`,
      )
      .run(key, JSON.stringify(value ?? null), atMs);
  }

  async getState(key: string): Promise<unknown | undefined> {
    const row = this.db.prepare('SELECT value_json FROM station_state WHERE key = ?').get(key) as Row | undefined;
    return row ? JSON.parse(String(row.value_json)) : undefined;
  }

  async insertExperienceBatch(b: ExperienceBatchRecord): Promise<boolean> {
    const info = this.db
      .prepare(
        `INSERT INTO experience_batches (${EXPERIENCE_COLUMNS.join(', ')}) VALUES (${marks(EXPERIENCE_COLUMNS.length)})
         ON CONFLICT (drone_id, session_id, seq) DO NOTHING`,
      )
      .run(
        b.droneId,
        b.sessionId,
        b.seq,
        b.timeMs,
        b.receivedAtMs,
        b.policyVersion,
        b.recordCount,
        Buffer.from(b.frames.buffer, b.frames.byteOffset, b.frames.byteLength),
      );
    return info.changes === 1;
  }

  async listExperienceBatches(query: ExperienceQuery = {}): Promise<StoredExperienceBatch[]> {
    const limit = clampLimit(query.limit, DEFAULT_EXPERIENCE_PAGE, 10_000);
    const clauses = ['row_id > ?'];
    const params: unknown[] = [query.afterRowId ?? 0];
    if (query.droneId !== undefined) {
      clauses.push('drone_id = ?');
      params.push(query.droneId);
    }
    if (query.policyVersion !== undefined) {
      clauses.push('policy_version = ?');
      params.push(query.policyVersion);
    }
    const rows = this.db
      .prepare(`SELECT * FROM experience_batches WHERE ${clauses.join(' AND ')} ORDER BY row_id LIMIT ?`)
      .all(...params, limit) as Row[];
    return rows.map(rowToExperienceBatch);
  }

  async experienceStats(): Promise<{ batches: number; records: number }> {
    const row = this.db
      .prepare('SELECT COUNT(*) AS batches, COALESCE(SUM(record_count), 0) AS records FROM experience_batches')
      .get() as Row;
    return { batches: Number(row.batches), records: Number(row.records) };
  }

  async insertDroneEvent(e: DroneEventRecord): Promise<boolean> {
    const info = this.db
      .prepare(
        `INSERT INTO drone_events (${DRONE_EVENT_COLUMNS.join(', ')}) VALUES (${marks(DRONE_EVENT_COLUMNS.length)})
         ON CONFLICT (drone_id, session_id, seq) DO NOTHING`,
      )
      .run(...droneEventToRow(e));
    return info.changes === 1;
  }

  async latestEventSeqs(sinceMs: number): Promise<LatestEventSeq[]> {
    const rows = this.db
      .prepare(
        `SELECT drone_id, session_id, MAX(seq) AS seq, MAX(received_at_ms) AS last_ms FROM drone_events
         WHERE received_at_ms >= ? GROUP BY drone_id, session_id ORDER BY last_ms, drone_id, session_id`,
      )
      .all(sinceMs) as Row[];
    return rows.map(latestSeqOf);
  }

  async listDroneEvents(query: DroneEventQuery): Promise<StoredDroneEvent[]> {
    const limit = clampLimit(query.limit, DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE);
    const clauses = ['drone_id = ?', 'row_id > ?'];
    const params: unknown[] = [query.droneId, query.afterRowId ?? 0];
    if (query.sessionId !== undefined) {
      clauses.push('session_id = ?');
      params.push(query.sessionId);
    }
    const rows = this.db
      .prepare(`SELECT * FROM drone_events WHERE ${clauses.join(' AND ')} ORDER BY row_id LIMIT ?`)
      .all(...params, limit) as Row[];
    return rows.map(rowToDroneEvent);
  }

  private rolloutSql?: RolloutStore;
  protected get rollouts(): RolloutStore {
    this.rolloutSql ??= sqliteRolloutStore(this.db);
    return this.rolloutSql;
  }

  private policySql?: PolicyStore;
  protected get policies(): PolicyStore {
    this.policySql ??= sqlitePolicyStore(this.db);
    return this.policySql;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
