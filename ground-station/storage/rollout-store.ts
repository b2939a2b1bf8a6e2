/**
 * Rollouts in the station database (migration 6): one row per rollout holding its whole document (plan, state,
 * drones, the step's samples, history) with the columns a query needs beside it, and an append-only log of its state
 * transitions. The document is what a restarted station resumes from. SQL for both dialects lives here; the two
 * stores delegate to it.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';

export interface RolloutRecord {
  readonly id: string;
  readonly candidate: string;
  readonly baseline: string;
  readonly state: string;
  /** The rollout document (JSON-serialisable). */
  readonly document: unknown;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export interface RolloutTransitionRecord {
  readonly rolloutId: string;
  readonly atMs: number;
  readonly fromState: string | null;
  readonly toState: string;
  readonly reason: string;
}

export interface RolloutQuery {
  /** Only rollouts in these states. */
  readonly states?: readonly string[];
  readonly limit?: number;
}

/** What the station store offers for rollouts. */
export interface RolloutStore {
  /** Insert or replace the rollout's row. */
  saveRollout(rollout: RolloutRecord): Promise<void>;
  getRollout(id: string): Promise<RolloutRecord | null>;
  /** Newest first (by creation). */
  listRollouts(query?: RolloutQuery): Promise<RolloutRecord[]>;
  /** Append transitions to the rollout's log. */
  appendRolloutTransitions(transitions: readonly RolloutTransitionRecord[]): Promise<void>;
  /** The rollout's log, oldest first. */
  listRolloutTransitions(rolloutId: string): Promise<RolloutTransitionRecord[]>;
}

export const ROLLOUT_MIGRATION = {
  version: 6,
  name: 'rollouts',
  sqlite: `
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        candidate TEXT NOT NULL,
        baseline TEXT NOT NULL,
        state TEXT NOT NULL,
        document_json TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
      );
      CREATE INDEX rollouts_state ON rollouts (state, created_at_ms);
      CREATE TABLE rollout_transitions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        rollout_id TEXT NOT NULL REFERENCES rollouts (id),
        at_ms INTEGER NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE INDEX rollout_transitions_rollout ON rollout_transitions (rollout_id, seq);`,
  postgres: `
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        candidate TEXT NOT NULL,
        baseline TEXT NOT NULL,
        state TEXT NOT NULL,
        document_json TEXT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        updated_at_ms BIGINT NOT NULL
      );
      CREATE INDEX rollouts_state ON rollouts (state, created_at_ms);
      CREATE TABLE rollout_transitions (
        seq BIGSERIAL PRIMARY KEY,
        rollout_id TEXT NOT NULL REFERENCES rollouts (id),
        at_ms BIGINT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE INDEX rollout_transitions_rollout ON rollout_transitions (rollout_id, seq);`,
} as const;

type Row = Record<string, unknown>;

const UPSERT = `INSERT INTO rollouts (id, candidate, baseline, state, document_json, created_at_ms, updated_at_ms)
  VALUES (%1, %2, %3, %4, %5, %6, %7)
  ON CONFLICT (id) DO UPDATE SET candidate = excluded.candidate, baseline = excluded.baseline, state = excluded.state,
    document_json = excluded.document_json, updated_at_ms = excluded.updated_at_ms`;

const toRollout = (r: Row): RolloutRecord => ({
  id: String(r.id),
  candidate: String(r.candidate),
  baseline: String(r.baseline),
  state: String(r.state),
  document: JSON.parse(String(r.document_json)),
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

const toTransition = (r: Row): RolloutTransitionRecord => ({
  rolloutId: String(r.rollout_id),
  atMs: Number(r.at_ms),
  fromState: r.from_state === null || r.from_state === undefined ? null : String(r.from_state),
  toState: String(r.to_state),
  reason: String(r.reason),
});

const values = (r: RolloutRecord) => [
  r.id,
  r.candidate,
  r.baseline,
  r.state,
  JSON.stringify(r.document ?? null),
  r.createdAtMs,
  r.updatedAtMs,
];

const limitOf = (q: RolloutQuery) => Math.max(1, Math.min(1000, Math.floor(q.limit ?? 100)));

export function sqliteRolloutStore(db: Database.Database): RolloutStore {
  return {
    async saveRollout(r) {
      db.prepare(UPSERT.replace(/%\d/g, '?')).run(...values(r));
    },
    async getRollout(id) {
      const row = db.prepare('SELECT * FROM rollouts WHERE id = ?').get(id) as Row | undefined;
      return row ? toRollout(row) : null;
    },
    async listRollouts(query = {}) {
      const states = query.states ?? [];
      const where = states.length > 0 ? `WHERE state IN (${states.map(() => '?').join(', ')})` : '';
      const rows = db
        .prepare(`SELECT * FROM rollouts ${where} ORDER BY created_at_ms DESC, id DESC LIMIT ?`)
        .all(...states, limitOf(query)) as Row[];
      return rows.map(toRollout);
    },
    async appendRolloutTransitions(ts) {
      const insert = db.prepare(
        'INSERT INTO rollout_transitions (rollout_id, at_ms, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)',
      );
      db.transaction(() => {
        for (const t of ts) insert.run(t.rolloutId, t.atMs, t.fromState, t.toState, t.reason);
      })();
    },
    async listRolloutTransitions(rolloutId) {
      const rows = db
        .prepare('SELECT * FROM rollout_transitions WHERE rollout_id = ? ORDER BY seq')
        .all(rolloutId) as Row[];
      return rows.map(toTransition);
    },
  };
}

export function postgresRolloutStore(pool: pg.Pool): RolloutStore {
  return {
    async saveRollout(r) {
      await pool.query(
        UPSERT.replace(/%(\d)/g, (_m, n) => `$${n}`),
        values(r),
      );
    },
    async getRollout(id) {
      const { rows } = await pool.query('SELECT * FROM rollouts WHERE id = $1', [id]);
      return rows[0] ? toRollout(rows[0]) : null;
    },
    async listRollouts(query = {}) {
      const states = [...(query.states ?? [])];
      const where = states.length > 0 ? 'WHERE state = ANY($2::text[])' : '';
      const { rows } = await pool.query(
        `SELECT * FROM rollouts ${where} ORDER BY created_at_ms DESC, id DESC LIMIT $1`,
        states.length > 0 ? [limitOf(query), states] : [limitOf(query)],
      );
      return rows.map(toRollout);
    },
    async appendRolloutTransitions(ts) {
      if (ts.length === 0) return;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const t of ts) {
          await client.query(
            'INSERT INTO rollout_transitions (rollout_id, at_ms, from_state, to_state, reason) VALUES ($1, $2, $3, $4, $5)',
            [t.rolloutId, t.atMs, t.fromState, t.toState, t.reason],
          );
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async listRolloutTransitions(rolloutId) {
      const { rows } = await pool.query('SELECT * FROM rollout_transitions WHERE rollout_id = $1 ORDER BY seq', [
        rolloutId,
      ]);
      return rows.map(toTransition);
    },
  };
}
