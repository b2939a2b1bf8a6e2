/**
 * What the station keeps in its database, as plain typed records. The repository (StationStore) stores and returns
 * exactly these; the services above it (deliveries, fleet, experience, monitoring) own their meaning.
 * Times are Unix milliseconds, passed in by the caller (the store never reads a clock).
 */

/** An order's life: queued -> assigned -> in-flight -> delivered | failed | cancelled (re-queue goes back to queued). */
export const ORDER_STATUSES = ['queued', 'assigned', 'in-flight', 'delivered', 'failed', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const FINAL_ORDER_STATUSES: readonly OrderStatus[] = ['delivered', 'failed', 'cancelled'];
export const ACTIVE_ORDER_STATUSES: readonly OrderStatus[] = ['assigned', 'in-flight'];

export interface GeoPoint2 {
  readonly latDeg: number;
  readonly lonDeg: number;
}

export interface OrderRecord {
  readonly id: string;
  readonly status: OrderStatus;
  /** The depot the parcel is picked up at (a configured depot id). */
  readonly pickupDepotId: string;
  /** That depot's position when the order was made (degrees, metres AMSL). */
  readonly pickupGeo: { readonly latDeg: number; readonly lonDeg: number; readonly altAmslM: number };
  /** Where the parcel goes (degrees). Always resolved, even when the client gave NE metres. */
  readonly dropGeo: GeoPoint2;
  /** The drop as NE metres from the pickup depot, when the client gave it that way (kept for display). */
  readonly dropNeM: { readonly northM: number; readonly eastM: number } | null;
  /** Parcel mass, kg (> 0). */
  readonly weightKg: number;
  /** 1 (lowest) .. 5 (highest). */
  readonly priority: number;
  /** Deliver before this time (Unix ms), or null for no deadline. */
  readonly deadlineMs: number | null;
  /** The drone that holds it while assigned or in flight, or the last one that held it. */
  readonly droneId: string | null;
  /** The assign-delivery command that carries it to the drone. */
  readonly commandId: string | null;
  /** Times this order was handed to a drone. */
  readonly attempts: number;
  /** Why it was failed, cancelled or re-queued (free text), or null. */
  readonly reason: string | null;
  /** The client's own reference, echoed back. */
  readonly reference: string | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** What a transition may change besides the status. Absent keys are left as they are; null clears. */
export interface OrderPatch {
  readonly status: OrderStatus;
  readonly droneId?: string | null;
  readonly commandId?: string | null;
  readonly reason?: string | null;
  /** Added to `attempts`. */
  readonly attemptsDelta?: number;
}

/** One line of an order's history (written with each transition). */
export interface OrderEvent {
  readonly orderId: string;
  readonly timeMs: number;
  readonly status: OrderStatus;
  readonly droneId: string | null;
  readonly reason: string | null;
}

export interface OrderQuery {
  readonly statuses?: readonly OrderStatus[];
  /** At most this many, newest first (default 100, at most 1000). */
  readonly limit?: number;
  readonly offset?: number;
}

/** A drone as the registry last knew it (persisted on birth, death and a periodic flush). */
export interface DroneRecord {
  readonly id: string;
  readonly online: boolean;
  readonly sessionId: string | null;
  readonly policyVersion: string | null;
  readonly home: { readonly latDeg: number; readonly lonDeg: number; readonly altAmslM: number } | null;
  /** Free-form capabilities from the birth (JSON). */
  readonly capabilities: unknown;
  /** Last telemetry/state summary the registry keeps (JSON). */
  readonly lastState: unknown;
  readonly birthAtMs: number | null;
  readonly lastSeenMs: number | null;
  readonly updatedAtMs: number;
}

export const COMMAND_RESULTS = ['accepted', 'rejected', 'failed', 'unsupported'] as const;
export type CommandResult = (typeof COMMAND_RESULTS)[number];

/** A command the station sent, and its ack once one came. */
export interface CommandRecord {
  readonly commandId: string;
  readonly droneId: string;
  readonly kind: string;
  readonly orderId: string | null;
  readonly payload: unknown;
  readonly sentAtMs: number;
  readonly result: CommandResult | null;
  readonly reason: string | null;
  readonly ackedAtMs: number | null;
}

/** One received experience batch: the drone's records of a stretch of flight, framed as the dataset file frames. */
export interface ExperienceBatchRecord {
  readonly droneId: string;
  /** The drone's session (from its birth) when the batch arrived; '' if it came before any birth. */
  readonly sessionId: string;
  readonly seq: number;
  readonly timeMs: number;
  readonly receivedAtMs: number;
  readonly policyVersion: string;
  readonly recordCount: number;
  /** The records, each framed by encodeExperienceRecord (shared/experience), concatenated. */
  readonly frames: Uint8Array;
}

export interface StoredExperienceBatch extends ExperienceBatchRecord {
  /** Arrival order in this store (a cursor for paging). */
  readonly rowId: number;
}

export interface ExperienceQuery {
  /** Only batches after this rowId (paging cursor; 0 for the start). */
  readonly afterRowId?: number;
  readonly limit?: number;
  readonly droneId?: string;
  readonly policyVersion?: string;
}

/** One drone event (shared/protocol `events` channel) as the station keeps it: once per (drone, session, seq). */
export interface DroneEventRecord {
  readonly droneId: string;
  /** The event's own session (its `sessionId`), else the drone's session when it arrived ('' when unknown). */
  readonly sessionId: string;
  /** 1, 2, ... per drone session: a gap is an event that never arrived. */
  readonly seq: number;
  /** The drone's clock (Unix ms). */
  readonly timeMs: number;
  /** The station's receive time (Unix ms). */
  readonly receivedAtMs: number;
  /** 'mission', 'intervention', 'alert', 'fault', 'policy'. */
  readonly kind: string;
  /** The validated payload as received. */
  readonly payload: unknown;
}

export interface StoredDroneEvent extends DroneEventRecord {
  /** Arrival order in this store (a paging cursor). */
  readonly rowId: number;
}

/** The highest stored event seq of one (drone, session). */
export interface LatestEventSeq {
  readonly droneId: string;
  readonly sessionId: string;
  readonly seq: number;
}

export interface DroneEventQuery {
  readonly droneId: string;
  readonly sessionId?: string;
  /** Only events after this rowId (paging cursor; 0 for the start). */
  readonly afterRowId?: number;
  /** At most this many, oldest first (default 200, at most 1000). */
  readonly limit?: number;
}
