/**
 * One assignment round: cost every available drone against every open order, solve the rectangular assignment
 * exactly, and say why each order left over was left over. And the re-plan: keep what is already flying, release
 * what a failed drone or a withdrawn order broke, and plan the rest. Pure: the station passes time and state in.
 */
import { AerieError } from '../../shared/errors.js';
import type { GeoPoint } from '../../shared/geo/index.js';
import {
  type AssignableDrone,
  type AssignmentConfig,
  DEFAULT_ASSIGNMENT_CONFIG,
  type DeliveryOrder,
  dronePositionNeM,
  evaluatePair,
  type Infeasibility,
  type NeM,
} from './cost-model.js';
import { solveAssignment } from './lap.js';

export interface RoundInput {
  /** Unix ms now: deadlines are checked against it. */
  readonly nowMs: number;
  /** Parsed configuration (parseAssignmentConfig); defaults when omitted. */
  readonly config?: AssignmentConfig;
  /** The fleet frame's origin, needed only for drones that give positionGeo. */
  readonly fleetOrigin?: GeoPoint;
}

export interface PlannedAssignment {
  readonly droneId: string;
  readonly orderId: string;
  /** Whole trip to landing back at the depot, s. */
  readonly costS: number;
  /** From now to the parcel's release at the drop, s. */
  readonly etaS: number;
  /** Energy for the whole trip, Wh. */
  readonly energyWh: number;
  /** Predicted charge on landing, fraction of capacity (>= reserveFraction). */
  readonly remainingAfter: number;
}

/**
 * Why an order got no drone. `no-free-drone`: some drone could fly it, but the optimum gave every such drone to
 * other orders (higher priority or better matched). The others name the check that the best candidate failed:
 * `payload` (too heavy for every drone), `battery` (no drone that can lift it has the energy plus reserve),
 * `deadline` (no drone with the energy can drop it in time). `invalid`: the order's fields are unusable.
 */
export type UnassignedReason = 'no-drone-available' | 'no-free-drone' | Infeasibility | 'invalid';

export type ExcludedDroneReason = 'unavailable' | 'failed' | 'no-position' | 'invalid';

export interface RoundStats {
  readonly dronesConsidered: number;
  readonly ordersConsidered: number;
  /** Drone-order pairs that passed payload, battery and deadline checks. */
  readonly feasiblePairs: number;
  readonly assigned: number;
  /** Sum of costS over the assignments, s. */
  readonly totalCostS: number;
}

export interface RoundPlan {
  /** Sorted by droneId. */
  readonly assignments: readonly PlannedAssignment[];
  /** Sorted by orderId. */
  readonly unassignedOrders: readonly { readonly orderId: string; readonly reason: UnassignedReason }[];
  /** Drones that took no part in the round, sorted by droneId. */
  readonly excludedDrones: readonly { readonly droneId: string; readonly reason: ExcludedDroneReason }[];
  readonly stats: RoundStats;
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function checkUnique(kind: string, ids: readonly string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new AerieError('ASSIGNMENT_INPUT_INVALID', `duplicate ${kind} id ${JSON.stringify(id)}`);
    seen.add(id);
  }
}

const finiteNe = (p: NeM | undefined): boolean => p !== undefined && Number.isFinite(p.n) && Number.isFinite(p.e);

function orderValid(o: DeliveryOrder): boolean {
  return (
    finiteNe(o.pickupNeM) &&
    finiteNe(o.dropNeM) &&
    Number.isFinite(o.weightKg) &&
    o.weightKg >= 0 &&
    Number.isFinite(o.priority) &&
    (o.deadlineMs === undefined || Number.isFinite(o.deadlineMs)) &&
    (o.riskScore === undefined || (o.riskScore >= 0 && o.riskScore <= 1))
  );
}

function droneValid(d: AssignableDrone): boolean {
  const positive = (x: number | undefined): boolean => x === undefined || (Number.isFinite(x) && x > 0);
  return (
    Number.isFinite(d.batteryRemaining) &&
    d.batteryRemaining >= 0 &&
    d.batteryRemaining <= 1 &&
    positive(d.cruiseSpeedMS) &&
    positive(d.battery?.capacityWh) &&
    (d.maxPayloadKg === undefined || d.maxPayloadKg >= 0) &&
    (d.riskAversion === undefined || (Number.isFinite(d.riskAversion) && d.riskAversion >= 0))
  );
}

// How far a pair got through the checks; an order's reason is the furthest any drone reached.
const REACH: Record<Infeasibility, number> = { payload: 0, battery: 1, deadline: 2 };

/**
 * Plan one round. Drones with `available: false` or `failed: true` are left out; each order gets at most one drone
 * and each drone at most one order; an infeasible pair is never assigned. The solver maximises the number of
 * assignments first, then minimises the summed score (trip time + risk - priority bonus).
 * Throws ASSIGNMENT_INPUT_INVALID on duplicate ids; a malformed single drone or order is reported, not thrown.
 */
export function planRound(
  drones: readonly AssignableDrone[],
  orders: readonly DeliveryOrder[],
  round: RoundInput,
): RoundPlan {
  const config = round.config ?? DEFAULT_ASSIGNMENT_CONFIG;
  checkUnique(
    'drone',
    drones.map((d) => d.id),
  );
  checkUnique(
    'order',
    orders.map((o) => o.id),
  );

  // Sorted by id so the answer does not depend on the order the station listed things in.
  const excludedDrones: { droneId: string; reason: ExcludedDroneReason }[] = [];
  const usable: { drone: AssignableDrone; positionNeM: NeM }[] = [];
  for (const drone of [...drones].sort(byId)) {
    if (drone.failed) excludedDrones.push({ droneId: drone.id, reason: 'failed' });
    else if (!drone.available) excludedDrones.push({ droneId: drone.id, reason: 'unavailable' });
    else if (!droneValid(drone)) excludedDrones.push({ droneId: drone.id, reason: 'invalid' });
    else {
      const positionNeM = dronePositionNeM(drone, round.fleetOrigin);
      if (positionNeM === null) excludedDrones.push({ droneId: drone.id, reason: 'no-position' });
      else usable.push({ drone, positionNeM });
    }
  }
  const unassignedOrders: { orderId: string; reason: UnassignedReason }[] = [];
  const open: DeliveryOrder[] = [];
  for (const order of [...orders].sort(byId)) {
    if (orderValid(order)) open.push(order);
    else unassignedOrders.push({ orderId: order.id, reason: 'invalid' });
  }

  const rows = open.length;
  const cols = usable.length;
  const score = new Float64Array(rows * cols);
  const reach = new Int8Array(rows).fill(-1); // -1 none, 0..2 REACH, 3 feasible with someone
  let feasiblePairs = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const { drone, positionNeM } = usable[j];
      const ev = evaluatePair(drone, positionNeM, open[i], round.nowMs, config);
      if (ev.feasible) {
        score[i * cols + j] = ev.score;
        feasiblePairs++;
        reach[i] = 3;
      } else {
        score[i * cols + j] = Number.POSITIVE_INFINITY;
        reach[i] = Math.max(reach[i], REACH[ev.reason]);
      }
    }
  }

  const solution = solveAssignment(score, rows, cols);
  const assignments: PlannedAssignment[] = [];
  let totalCostS = 0;
  for (let i = 0; i < rows; i++) {
    const j = solution.rowToCol[i];
    if (j < 0) {
      const r = reach[i];
      const reason: UnassignedReason =
        r === 3
          ? 'no-free-drone'
          : r === 2
            ? 'deadline'
            : r === 1
              ? 'battery'
              : r === 0
                ? 'payload'
                : 'no-drone-available';
      unassignedOrders.push({ orderId: open[i].id, reason });
      continue;
    }
    // Evaluated again rather than kept from above: a million kept objects cost more than a thousand re-evaluations.
    const ev = evaluatePair(usable[j].drone, usable[j].positionNeM, open[i], round.nowMs, config);
    // The solver never picks a forbidden pair; this guards the invariant the rest of the station relies on.
    if (!ev.feasible) throw new AerieError('ASSIGNMENT_INPUT_INVALID', 'solver assigned an infeasible pair (internal)');
    assignments.push({
      droneId: usable[j].drone.id,
      orderId: open[i].id,
      costS: ev.tripS,
      etaS: ev.etaS,
      energyWh: ev.energyWh,
      remainingAfter: ev.remainingAfter,
    });
    totalCostS += ev.tripS;
  }
  assignments.sort((a, b) => (a.droneId < b.droneId ? -1 : a.droneId > b.droneId ? 1 : 0));
  unassignedOrders.sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  return {
    assignments,
    unassignedOrders,
    excludedDrones,
    stats: { dronesConsidered: cols, ordersConsidered: rows, feasiblePairs, assigned: assignments.length, totalCostS },
  };
}

/** An assignment already handed to a drone. */
export interface CommittedAssignment {
  readonly droneId: string;
  readonly orderId: string;
  /** The parcel is on board: if the drone fails, the order cannot go to another drone. */
  readonly pickedUp?: boolean;
}

export interface ReplanInput extends RoundInput {
  /** What drones are flying now. */
  readonly committed: readonly CommittedAssignment[];
}

export interface ReplanResult extends RoundPlan {
  /** Committed assignments left as they are (drone healthy, order still open). */
  readonly kept: readonly CommittedAssignment[];
  /** Committed assignments broken up: the order went back to the pool, or the drone was freed. */
  readonly released: readonly {
    readonly droneId: string;
    readonly orderId: string;
    readonly reason: 'drone-failed' | 'order-withdrawn';
  }[];
  /** Parcels on board a failed drone: not re-assignable, an operator must recover them. */
  readonly stranded: readonly CommittedAssignment[];
}

/**
 * Re-plan after a drone failed or the orders changed. `orders` is every order still open, committed ones included;
 * a committed order missing from it was withdrawn (cancelled or done) and its drone is freed (it takes part in this
 * round if the station already marks it available). A committed drone that is missing from `drones` or `failed`
 * releases its order back to the pool, unless the parcel was on board (stranded). Kept pairs never change: a drone in
 * flight is not re-routed by a new order.
 */
export function replanRound(
  drones: readonly AssignableDrone[],
  orders: readonly DeliveryOrder[],
  input: ReplanInput,
): ReplanResult {
  checkUnique(
    'committed drone',
    input.committed.map((c) => c.droneId),
  );
  checkUnique(
    'committed order',
    input.committed.map((c) => c.orderId),
  );
  const droneById = new Map(drones.map((d) => [d.id, d]));
  const openIds = new Set(orders.map((o) => o.id));

  const kept: CommittedAssignment[] = [];
  const released: { droneId: string; orderId: string; reason: 'drone-failed' | 'order-withdrawn' }[] = [];
  const stranded: CommittedAssignment[] = [];
  const busyDrones = new Set<string>();
  const takenOrders = new Set<string>();
  for (const c of input.committed) {
    const drone = droneById.get(c.droneId);
    const droneFailed = drone === undefined || drone.failed === true;
    if (droneFailed) {
      if (c.pickedUp) {
        stranded.push(c);
        takenOrders.add(c.orderId);
      } else released.push({ droneId: c.droneId, orderId: c.orderId, reason: 'drone-failed' });
    } else if (!openIds.has(c.orderId)) {
      released.push({ droneId: c.droneId, orderId: c.orderId, reason: 'order-withdrawn' });
    } else {
      kept.push(c);
      busyDrones.add(c.droneId);
      takenOrders.add(c.orderId);
    }
  }
  const plan = planRound(
    drones.filter((d) => !busyDrones.has(d.id)),
    orders.filter((o) => !takenOrders.has(o.id)),
    input,
  );
  return { ...plan, kept, released, stranded };
}
