/**
 * StationStore on PostgreSQL (pg). Several stations may share one database: migrations run under an advisory lock,
 * and order transitions are single compare-and-set statements, so two stations never both move the same order.
 * An optional schema (created if missing) isolates a station - or a test run - inside a shared database.
 */
import pg from 'pg';
import { AerieError } from '../../shared/errors.js';
import { MIGRATIONS, MIGRATIONS_TABLE_SQL } from './migrations.js';
import { type PolicyStore, postgresPolicyStore } from './policy-store.js';
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
import { postgresRolloutStore, type RolloutStore } from './rollout-store.js';
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
const params = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');
/** Any constant 64-bit key: the migration lock of Aerie stations. */
const MIGRATION_LOCK_KEY = 0x4145_5249;
/**
 * The assignment lock: the two-key advisory lock (this class, hashtext(current schema)), so stations sharing a
 * schema exclude each other and stations in other schemas of the same database do not (two-key and one-key advisory
 * locks never collide).
 */
const ASSIGNMENT_LOCK_CLASS = 0x4145_5241;

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** Schema to use (created if missing); default: the connection's search_path (normally public). */
  readonly schema?: string;
  readonly maxConnections?: number;
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database URL)';
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export class PostgresStore extends SubStores implements StationStore {
  readonly kind = 'postgres' as const;
  readonly where: string;
  private readonly pool: pg.Pool;

  private constructor(pool: pg.Pool, where: string) {
    super();
    this.pool = pool;
    this.where = where;
  }

  static async open(options: PostgresStoreOptions, nowMs: number = Date.now()): Promise<PostgresStore> {
    const where = redactUrl(options.connectionString) + (options.schema ? ` (schema ${options.schema})` : '');
    if (options.schema !== undefined && !IDENT.test(options.schema)) {
      throw new AerieError(
        'CONFIG_INVALID_VALUE',
        `database schema ${JSON.stringify(options.schema)} is not a plain identifier`,
      );
    }
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 5,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle client's error (server restart) must not crash the station; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, where);
    try {
      if (options.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
      await store.migrate(nowMs);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new AerieError('STORAGE_FAILED', `cannot open PostgreSQL ${where}: ${(err as Error).message}`, { where });
    }
    return store;
  }

  private async migrate(nowMs: number): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        await client.query(MIGRATIONS_TABLE_SQL);
        const { rows } = await client.query('SELECT version FROM schema_migrations');
        const applied = new Set(rows.map((r: Row) => Number(r.version)));
        for (const m of MIGRATIONS) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.postgres);
            await client.query('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)', [
              m.version,
              m.name,
              nowMs,
            ]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    } finally {
      client.release();
    }
  }

  async appliedMigrations(): Promise<{ version: number; name: string }[]> {
    const { rows } = await this.pool.query('SELECT version, name FROM schema_migrations ORDER BY version');
    return rows.map((r: Row) => ({ version: Number(r.version), name: String(r.name) }));
  }

  async insertOrder(order: OrderRecord): Promise<void> {
    const n = ORDER_COLUMNS.length;
    // One statement inserts the order and its first history line together.
    await this.pool.query(
      `WITH o AS (INSERT INTO orders (${ORDER_COLUMNS.join(', ')}) VALUES (${params(n)}) RETURNING id)
       INSERT INTO order_events (order_id, time_ms, status, drone_id, reason)
       SELECT id, $${n + 1}::bigint, $${n + 2}::text, $${n + 3}::text, $${n + 4}::text FROM o`,
      [...orderToRow(order), order.createdAtMs, order.status, order.droneId, order.reason],
    );
  }

  async getOrder(id: string): Promise<OrderRecord | null> {
    const { rows } = await this.pool.query('SELECT * FROM orders WHERE id = $1', [id]);
    return rows[0] ? rowToOrder(rows[0]) : null;
  }

  async listOrders(query: OrderQuery = {}): Promise<OrderRecord[]> {
    const limit = clampLimit(query.limit, DEFAULT_ORDER_LIMIT, MAX_ORDER_LIMIT);
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const statuses = query.statuses ?? [];
    const where = statuses.length > 0 ? 'WHERE status = ANY($3::text[])' : '';
    const { rows } = await this.pool.query(
      `SELECT * FROM orders ${where} ORDER BY created_at_ms DESC, id DESC LIMIT $1 OFFSET $2`,
      statuses.length > 0 ? [limit, offset, statuses] : [limit, offset],
    );
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
    const k = values.length;
    const set = [
      ...columns.map((c, i) => `${c} = $${i + 1}`),
      `attempts = attempts + $${k + 1}`,
      `updated_at_ms = $${k + 2}`,
    ].join(', ');
    const { rows } = await this.pool.query(
      `WITH u AS (
         UPDATE orders SET ${set} WHERE id = $${k + 3} AND status = ANY($${k + 4}::text[]) RETURNING *
       ), e AS (
         INSERT INTO order_events (order_id, time_ms, status, drone_id, reason)
         SELECT id, $${k + 2}::bigint, status, drone_id, reason FROM u
       )
       SELECT * FROM u`,
      [...values, attemptsDelta, atMs, id, [...from]],
    );
    return rows[0] ? rowToOrder(rows[0]) : null;
  }

  async orderEvents(id: string): Promise<OrderEvent[]> {
    const { rows } = await this.pool.query('SELECT * FROM order_events WHERE order_id = $1 ORDER BY seq', [id]);
    return rows.map(rowToOrderEvent);
  }

  async countOrdersByStatus(): Promise<Record<OrderStatus, number>> {
    const counts = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
    const { rows } = await this.pool.query('SELECT status, COUNT(*) AS n FROM orders GROUP BY status');
    for (const r of rows) counts[String(r.status) as OrderStatus] = Number(r.n);
    return counts;
  }

  async saveDrones(drones: readonly DroneRecord[]): Promise<void> {
    if (drones.length === 0) return;
    const width = DRONE_COLUMNS.length;
    const update = DRONE_COLUMNS.slice(1)
      .map((c) => `${c} = excluded.${c}`)
      .join(', ');
    // Chunks keep each statement well under pg's 65535-parameter limit.
    for (let i = 0; i < drones.length; i += 500) {
      const chunk = drones.slice(i, i + 500);
      const tuples = chunk.map((_, j) => `(${params(width, j * width + 1)})`).join(', ');
      await this.pool.query(
        `INSERT INTO drones (${DRONE_COLUMNS.join(', ')}) VALUES ${tuples} ON CONFLICT (id) DO UPDATE SET ${update}`,
        chunk.flatMap((d) => droneToRow(d, 'boolean')),
      );
    }
  }

  async listDrones(): Promise<DroneRecord[]> {
    const { rows } = await this.pool.query('SELECT * FROM drones ORDER BY id');
    return rows.map(rowToDrone);
  }

  async insertCommand(command: CommandRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO commands (${COMMAND_COLUMNS.join(', ')}) VALUES (${params(COMMAND_COLUMNS.length)})`,
      commandToRow(command),
    );
  }

  async recordAck(
    commandId: string,
    result: CommandResult,
    reason: string | null,
    atMs: number,
  ): Promise<CommandRecord | null> {
    if (!COMMAND_RESULTS.includes(result)) return null;
    const { rows } = await this.pool.query(
      'UPDATE commands SET result = $1, reason = $2, acked_at_ms = $3 WHERE command_id = $4 AND result IS NULL RETURNING *',
      [result, reason, atMs, commandId],
    );
    return rows[0] ? rowToCommand(rows[0]) : null;
  }

  async getCommand(commandId: string): Promise<CommandRecord | null> {
    const { rows } = await this.pool.query('SELECT * FROM commands WHERE command_id = $1', [commandId]);
    return rows[0] ? rowToCommand(rows[0]) : null;
  }

  async withAssignmentLock<T>(fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
    // A session lock on a client kept for the round (the round's own queries use the pool and commit as they go,
    // so the next station to take the lock sees every hand-out). A dropped connection releases it by itself.
    const client = await this.pool.connect();
    let broken = false;
    try {
      const { rows } = await client.query('SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS acquired', [
        ASSIGNMENT_LOCK_CLASS,
      ]);
      if (rows[0]?.acquired !== true) return { acquired: false };
      try {
        return { acquired: true, value: await fn() };
      } finally {
        await client
          .query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [ASSIGNMENT_LOCK_CLASS])
          .catch(() => {
            broken = true;
          });
      }
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      // A client whose unlock failed may still hold the lock: destroy it rather than return it to the pool.
      client.release(broken);
    }
  }

  async putState(key: string, value: unknown, atMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO station_state (key, value_json, updated_at_ms) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at_ms = excluded.updated_at_ms`,
      [key, JSON.stringify(value ?? null), atMs],
    );
  }

  async getState(key: string): Promise<unknown | undefined> {
    const { rows } = await this.pool.query('SELECT value_json FROM station_state WHERE key = $1', [key]);
    return rows[0] ? JSON.parse(String(rows[0].value_json)) : undefined;
  }

  async insertExperienceBatch(b: ExperienceBatchRecord): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO experience_batches (${EXPERIENCE_COLUMNS.join(', ')}) VALUES (${params(EXPERIENCE_COLUMNS.length)})
       ON CONFLICT (drone_id, session_id, seq) DO NOTHING`,
      [
        b.droneId,
        b.sessionId,
        b.seq,
        b.timeMs,
        b.receivedAtMs,
        b.policyVersion,
        b.recordCount,
        Buffer.from(b.frames.buffer, b.frames.byteOffset, b.frames.byteLength),
      ],
    );
    return result.rowCount === 1;
  }

  async listExperienceBatches(query: ExperienceQuery = {}): Promise<StoredExperienceBatch[]> {
    const limit = clampLimit(query.limit, DEFAULT_EXPERIENCE_PAGE, 10_000);
    const clauses = ['row_id > $1'];
    const values: unknown[] = [query.afterRowId ?? 0];
    if (query.droneId !== undefined) {
      values.push(query.droneId);
      clauses.push(`drone_id = $${values.length}`);
    }
    if (query.policyVersion !== undefined) {
      values.push(query.policyVersion);
      clauses.push(`policy_version = $${values.length}`);
    }
    values.push(limit);
    const { rows } = await this.pool.query(
      `SELECT * FROM experience_batches WHERE ${clauses.join(' AND ')} ORDER BY row_id LIMIT $${values.length}`,
      values,
    );
    return rows.map(rowToExperienceBatch);
  }

  async experienceStats(): Promise<{ batches: number; records: number }> {
    const { rows } = await this.pool.query(
      'SELECT COUNT(*) AS batches, COALESCE(SUM(record_count), 0) AS records FROM experience_batches',
    );
    return { batches: Number(rows[0].batches), records: Number(rows[0].records) };
  }

  async insertDroneEvent(e: DroneEventRecord): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO drone_events (${DRONE_EVENT_COLUMNS.join(', ')}) VALUES (${params(DRONE_EVENT_COLUMNS.length)})
       ON CONFLICT (drone_id, session_id, seq) DO NOTHING`,
      droneEventToRow(e),
    );
    return result.rowCount === 1;
  }

  async latestEventSeqs(sinceMs: number): Promise<LatestEventSeq[]> {
    const { rows } = await this.pool.query(
      `SELECT drone_id, session_id, MAX(seq) AS seq, MAX(received_at_ms) AS last_ms FROM drone_events
         WHERE received_at_ms >= $1 GROUP BY drone_id, session_id ORDER BY last_ms, drone_id, session_id`,
      [sinceMs],
    );
    return rows.map(latestSeqOf);
  }

  async listDroneEvents(query: DroneEventQuery): Promise<StoredDroneEvent[]> {
    const limit = clampLimit(query.limit, DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE);
    const clauses = ['drone_id = $1', 'row_id > $2'];
    const values: unknown[] = [query.droneId, query.afterRowId ?? 0];
    if (query.sessionId !== undefined) {
      values.push(query.sessionId);
      clauses.push(`session_id = $${values.length}`);
    }
    values.push(limit);
    const { rows } = await this.pool.query(
      `SELECT * FROM drone_events WHERE ${clauses.join(' AND ')} ORDER BY row_id LIMIT $${values.length}`,
      values,
    );
    return rows.map(rowToDroneEvent);
  }

  private rolloutSql?: RolloutStore;
  protected get rollouts(): RolloutStore {
    this.rolloutSql ??= postgresRolloutStore(this.pool);
    return this.rolloutSql;
  }

  private policySql?: PolicyStore;
  protected get policies(): PolicyStore {
    this.policySql ??= postgresPolicyStore(this.pool);
    return this.policySql;
  }

  /** Drop a schema and everything in it (test teardown). */
  async dropSchema(schema: string): Promise<void> {
    if (!IDENT.test(schema)) throw new AerieError('CONFIG_INVALID_VALUE', `bad schema name ${schema}`);
    await this.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
