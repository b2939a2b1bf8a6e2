/**
 * The policy registry in the station database (migration 5): one row per policy version with its signed bundle (the
 * bytes), manifest, lineage and evaluation summary, its registry state, and an append-only log of its state
 * transitions with reasons. SQL for both dialects lives here; the two stores delegate to it.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';

export interface PolicyRecord {
  /** The policy version drones report (policyVersionFromSha256 of the policy model). */
  readonly version: string;
  /** SHA-256 of the bundle file (hex). */
  readonly sha256: string;
  /** SHA-256 of the policy model (hex). */
  readonly policySha256: string;
  readonly state: string;
  /** Why it is in this state (the last transition's reason). */
  readonly stateReason: string;
  readonly label: string | null;
  /** The bundle's manifest (JSON). */
  readonly manifest: unknown;
  readonly lineage: unknown;
  readonly evalReport: unknown | null;
  readonly totalBytes: number;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export interface PolicyTransitionRecord {
  readonly version: string;
  readonly atMs: number;
  readonly fromState: string | null;
  readonly toState: string;
  readonly reason: string;
}

export interface PolicyQuery {
  readonly states?: readonly string[];
  readonly limit?: number;
}

/** What the station store offers for the policy registry. */
export interface PolicyStore {
  /** Insert a version with its bundle and its first transition (null -> state); false when the version exists. */
  insertPolicy(policy: PolicyRecord, bundle: Uint8Array): Promise<boolean>;
  getPolicy(version: string): Promise<PolicyRecord | null>;
  /** Newest first (by creation). */
  listPolicies(query?: PolicyQuery): Promise<PolicyRecord[]>;
  /** The signed bundle file; null for an unknown version. */
  getPolicyBundle(version: string): Promise<Buffer | null>;
  /**
   * Move a version from `from` to `to` (compare-and-set) and log the transition, in one transaction; false when the
   * version is not in `from` (or unknown).
   */
  movePolicy(version: string, from: string, to: string, atMs: number, reason: string): Promise<boolean>;
  /** The version's log, oldest first. */
  listPolicyTransitions(version: string): Promise<PolicyTransitionRecord[]>;
}

const columns = (blob: string, int: string) => `
      CREATE TABLE policies (
        version TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        policy_sha256 TEXT NOT NULL,
        state TEXT NOT NULL,
        state_reason TEXT NOT NULL,
        label TEXT,
        manifest_json TEXT NOT NULL,
        lineage_json TEXT NOT NULL,
        eval_json TEXT,
        total_bytes ${int} NOT NULL,
        bundle ${blob} NOT NULL,
        created_at_ms ${int} NOT NULL,
        updated_at_ms ${int} NOT NULL
      );
      CREATE INDEX policies_state ON policies (state, created_at_ms);`;

export const POLICY_MIGRATION = {
  version: 5,
  name: 'policy registry',
  sqlite: `${columns('BLOB', 'INTEGER')}
      CREATE TABLE policy_transitions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        version TEXT NOT NULL REFERENCES policies (version),
        at_ms INTEGER NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE INDEX policy_transitions_version ON policy_transitions (version, seq);`,
  postgres: `${columns('BYTEA', 'BIGINT')}
      CREATE TABLE policy_transitions (
        seq BIGSERIAL PRIMARY KEY,
        version TEXT NOT NULL REFERENCES policies (version),
        at_ms BIGINT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE INDEX policy_transitions_version ON policy_transitions (version, seq);`,
} as const;

type Row = Record<string, unknown>;

/** Every column but the bundle bytes. */
const META = `version, sha256, policy_sha256, state, state_reason, label, manifest_json, lineage_json, eval_json,
  total_bytes, created_at_ms, updated_at_ms`;

const INSERT = `INSERT INTO policies (${META}, bundle)
  VALUES (%1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13) ON CONFLICT (version) DO NOTHING`;
const INSERT_TRANSITION =
  'INSERT INTO policy_transitions (version, at_ms, from_state, to_state, reason) VALUES (%1, %2, %3, %4, %5)';
const MOVE = 'UPDATE policies SET state = %1, state_reason = %2, updated_at_ms = %3 WHERE version = %4 AND state = %5';

const sqliteSql = (sql: string) => sql.replace(/%\d+/g, '?');
const postgresSql = (sql: string) => sql.replace(/%(\d+)/g, (_m, n) => `$${n}`);

const toPolicy = (r: Row): PolicyRecord => ({
  version: String(r.version),
  sha256: String(r.sha256),
  policySha256: String(r.policy_sha256),
  state: String(r.state),
  stateReason: String(r.state_reason),
  label: r.label === null || r.label === undefined ? null : String(r.label),
  manifest: JSON.parse(String(r.manifest_json)),
  lineage: JSON.parse(String(r.lineage_json)),
  evalReport: r.eval_json === null || r.eval_json === undefined ? null : JSON.parse(String(r.eval_json)),
  totalBytes: Number(r.total_bytes),
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

const toTransition = (r: Row): PolicyTransitionRecord => ({
  version: String(r.version),
  atMs: Number(r.at_ms),
  fromState: r.from_state === null || r.from_state === undefined ? null : String(r.from_state),
  toState: String(r.to_state),
  reason: String(r.reason),
});

const insertValues = (p: PolicyRecord, bundle: Uint8Array) => [
  p.version,
  p.sha256,
  p.policySha256,
  p.state,
  p.stateReason,
  p.label,
  JSON.stringify(p.manifest ?? null),
  JSON.stringify(p.lineage ?? {}),
  p.evalReport === null || p.evalReport === undefined ? null : JSON.stringify(p.evalReport),
  p.totalBytes,
  p.createdAtMs,
  p.updatedAtMs,
  Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength),
];

const limitOf = (q: PolicyQuery) => Math.max(1, Math.min(1000, Math.floor(q.limit ?? 200)));

export function sqlitePolicyStore(db: Database.Database): PolicyStore {
  return {
    async insertPolicy(p, bundle) {
      return db.transaction(() => {
        const r = db.prepare(sqliteSql(INSERT)).run(...insertValues(p, bundle));
        if (r.changes === 0) return false;
        db.prepare(sqliteSql(INSERT_TRANSITION)).run(p.version, p.createdAtMs, null, p.state, p.stateReason);
        return true;
      })();
    },
    async getPolicy(version) {
      const row = db.prepare(`SELECT ${META} FROM policies WHERE version = ?`).get(version) as Row | undefined;
      return row ? toPolicy(row) : null;
    },
    async listPolicies(query = {}) {
      const states = query.states ?? [];
      const where = states.length > 0 ? `WHERE state IN (${states.map(() => '?').join(', ')})` : '';
      const rows = db
        .prepare(`SELECT ${META} FROM policies ${where} ORDER BY created_at_ms DESC, version DESC LIMIT ?`)
        .all(...states, limitOf(query)) as Row[];
      return rows.map(toPolicy);
    },
    async getPolicyBundle(version) {
      const row = db.prepare('SELECT bundle FROM policies WHERE version = ?').get(version) as Row | undefined;
      return row ? Buffer.from(row.bundle as Uint8Array) : null;
    },
    async movePolicy(version, from, to, atMs, reason) {
      return db.transaction(() => {
        const r = db.prepare(sqliteSql(MOVE)).run(to, reason, atMs, version, from);
        if (r.changes === 0) return false;
        db.prepare(sqliteSql(INSERT_TRANSITION)).run(version, atMs, from, to, reason);
        return true;
      })();
    },
    async listPolicyTransitions(version) {
      const rows = db.prepare('SELECT * FROM policy_transitions WHERE version = ? ORDER BY seq').all(version) as Row[];
      return rows.map(toTransition);
    },
  };
}

async function inTransaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const value = await body(client);
    await client.query('COMMIT');
    return value;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export function postgresPolicyStore(pool: pg.Pool): PolicyStore {
  return {
    async insertPolicy(p, bundle) {
      return inTransaction(pool, async (client) => {
        const r = await client.query(postgresSql(INSERT), insertValues(p, bundle));
        if ((r.rowCount ?? 0) === 0) return false;
        await client.query(postgresSql(INSERT_TRANSITION), [p.version, p.createdAtMs, null, p.state, p.stateReason]);
        return true;
      });
    },
    async getPolicy(version) {
      const { rows } = await pool.query(`SELECT ${META} FROM policies WHERE version = $1`, [version]);
      return rows[0] ? toPolicy(rows[0]) : null;
    },
    async listPolicies(query = {}) {
      const states = [...(query.states ?? [])];
      const where = states.length > 0 ? 'WHERE state = ANY($2::text[])' : '';
      const { rows } = await pool.query(
        `SELECT ${META} FROM policies ${where} ORDER BY created_at_ms DESC, version DESC LIMIT $1`,
        states.length > 0 ? [limitOf(query), states] : [limitOf(query)],
      );
      return rows.map(toPolicy);
    },
    async getPolicyBundle(version) {
      const { rows } = await pool.query('SELECT bundle FROM policies WHERE version = $1', [version]);
      return rows[0] ? Buffer.from(rows[0].bundle as Uint8Array) : null;
    },
    async movePolicy(version, from, to, atMs, reason) {
      return inTransaction(pool, async (client) => {
        const r = await client.query(postgresSql(MOVE), [to, reason, atMs, version, from]);
        if ((r.rowCount ?? 0) === 0) return false;
        await client.query(postgresSql(INSERT_TRANSITION), [version, atMs, from, to, reason]);
        return true;
      });
    },
    async listPolicyTransitions(version) {
      const { rows } = await pool.query('SELECT * FROM policy_transitions WHERE version = $1 ORDER BY seq', [version]);
      return rows.map(toTransition);
    },
  };
}
