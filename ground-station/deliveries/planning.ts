/**
 * The station's state as the assignment sees it: drones (who may take an order now, where they are, their charge)
 * and orders (pickup and drop in the fleet frame). Pure.
 */
import { type GeoPoint, geoToNed } from '../../shared/geo/index.js';
import type { AssignableDrone, DeliveryOrder } from '../assignment/index.js';
import type { FleetRegistry } from '../fleet/index.js';
import type { OrderRecord } from '../storage/index.js';

/**
 * Every online drone that accepts deliveries, `available` when it can take one now: on the ground with no task
 * (its own report and ours), a known charge, not sitting out a cooldown, healthy enough (ok or warning; stale,
 * critical and offline drones are not sent anywhere).
 */
export function assignableDrones(
  registry: FleetRegistry,
  unavailable: (droneId: string) => boolean,
  nowMs: number,
  /** Drones flying a rollout's candidate (they get the risk-averse cost). */
  canary: ReadonlySet<string> = new Set(),
): AssignableDrone[] {
  const out: AssignableDrone[] = [];
  for (const d of registry.all()) {
    if (!d.online || !d.capabilities.includes('assign-delivery')) continue;
    const t = d.telemetry;
    const health = registry.health(d, nowMs).level;
    // On the ground: the autopilot's landed state, or disarmed where it reports none (a disarmed multirotor is down).
    const idle = t !== null && t.taskId === null && (t.landed || !t.armed);
    const position = t?.geo ?? d.home;
    out.push({
      id: d.id,
      ...(canary.has(d.id) ? { canary: true } : {}),
      ...(position ? { positionGeo: { latDeg: position.latDeg, lonDeg: position.lonDeg } } : {}),
      batteryRemaining: t?.batteryRemaining ?? 0,
      available:
        idle && t?.batteryRemaining !== null && !unavailable(d.id) && (health === 'ok' || health === 'warning'),
    });
  }
  return out;
}

/** An order in the fleet frame (NE metres from `origin`, the first depot), with its risk score 0..1 when known. */
export function deliveryOrder(o: OrderRecord, origin: GeoPoint, riskScore?: number): DeliveryOrder {
  const pickup = geoToNed(origin, o.pickupGeo);
  const drop = geoToNed(origin, { ...o.dropGeo, altAmslM: origin.altAmslM });
  return {
    id: o.id,
    pickupNeM: { n: pickup.n, e: pickup.e },
    dropNeM: { n: drop.n, e: drop.e },
    weightKg: o.weightKg,
    priority: o.priority,
    ...(o.deadlineMs !== null ? { deadlineMs: o.deadlineMs } : {}),
    ...(riskScore !== undefined ? { riskScore } : {}),
  };
}
