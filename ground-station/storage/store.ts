/**
 * The station's one repository interface. Two implementations (SQLite through better-sqlite3, PostgreSQL through pg)
 * pass the same test suite. Every method is async so the two are interchangeable; the SQLite one simply answers at
 * once. Times are passed in; the store never reads a clock.
 */

import type { PolicyStore } from './policy-store.js';
import type {
  CommandRecord,
  CommandResult,
  DroneEventQuery,
  DroneEventRecord,
  DroneRecord,
  ExperienceBatchRecord,
  ExperienceQuery,
  LatestEventSeq,
  OrderEvent,
  OrderPatch,
  OrderQuery,
  OrderRecord,
  OrderStatus,
  StoredDroneEvent,
  StoredExperienceBatch,
} from './records.js';
import type { RolloutStore } from './rollout-store.js';

export interface StationStore extends RolloutStore, PolicyStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data lives (file path, or the URL without its password), for logs. */
  readonly where: string;

  insertOrder(order: OrderRecord): Promise<void>;
  getOrder(id: string): Promise<OrderRecord | null>;
  /** Newest first. */
  listOrders(query?: OrderQuery): Promise<OrderRecord[]>;
  /**
   * Compare-and-set: apply `patch` only if the order's status is one of `from`, and log the transition, atomically.
   * Returns the updated order, or null when it does not exist or was in another status (someone else moved it).
   */
  transitionOrder(
    id: string,
    from: readonly OrderStatus[],
    patch: OrderPatch,
    atMs: number,
  ): Promise<OrderRecord | null>;
  /** Oldest first. */
  orderEvents(id: string): Promise<OrderEvent[]>;
  countOrdersByStatus(): Promise<Record<OrderStatus, number>>;

  saveDrones(drones: readonly DroneRecord[]): Promise<void>;
  listDrones(): Promise<DroneRecord[]>;

  insertCommand(command: CommandRecord): Promise<void>;
  /** Record the first ack of a command; later acks of the same command are ignored (returns null). */
  recordAck(
    commandId: string,
    result: CommandResult,
    reason: string | null,
    atMs: number,
  ): Promise<CommandRecord | null>;
  getCommand(commandId: string): Promise<CommandRecord | null>;

  /**
   * Run `fn` holding the assignment lock of this database, so that stations sharing it plan and hand out one at a
   * time; `acquired: false` (and `fn` not run) when another station holds it now. PostgreSQL: an advisory lock of
   * the schema. SQLite: one station per file, nothing to share; `fn` simply runs.
   */
  withAssignmentLock<T>(fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }>;

  /** Small named JSON documents (alert engine snapshot, station settings). */
  putState(key: string, value: unknown, atMs: number): Promise<void>;
  getState(key: string): Promise<unknown | undefined>;

  /** Store a batch unless (droneId, sessionId, seq) is already stored. True when stored, false for a duplicate. */
  insertExperienceBatch(batch: ExperienceBatchRecord): Promise<boolean>;
  /** Arrival order. */
  listExperienceBatches(query?: ExperienceQuery): Promise<StoredExperienceBatch[]>;
  experienceStats(): Promise<{ batches: number; records: number }>;

  /** Store a drone event unless (droneId, sessionId, seq) is already stored. True when stored, false for a repeat. */
  insertDroneEvent(event: DroneEventRecord): Promise<boolean>;
  /** One drone's events (optionally one session's), oldest first. */
  listDroneEvents(query: DroneEventQuery): Promise<StoredDroneEvent[]>;
  /**
   * The highest stored event seq per (drone, session) among events received at or after `sinceMs`, least recently
   * received session first: a restarted station takes replayed events at or below it as repeats.
   */
  latestEventSeqs(sinceMs: number): Promise<LatestEventSeq[]>;

  /** Migrations applied, oldest first (for diagnostics and tests). */
  appliedMigrations(): Promise<{ version: number; name: string }[]>;
  close(): Promise<void>;
}

export const DEFAULT_ORDER_LIMIT = 100;
export const MAX_ORDER_LIMIT = 1000;
export const DEFAULT_EXPERIENCE_PAGE = 200;
export const DEFAULT_EVENT_PAGE = 200;
export const MAX_EVENT_PAGE = 1000;

export function clampLimit(limit: number | undefined, dflt: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return dflt;
  return Math.max(1, Math.min(max, Math.floor(limit)));
}
