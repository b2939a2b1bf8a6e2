/**
 * What one drone doing one order costs, and whether it can do it at all. Straight-line legs in the fleet's NE frame
 * (the deliveries module routes around airspace; straight lines are the lower bound it refines), energy from a
 * cruise-per-km and hover-per-minute model with a payload penalty, and a battery reserve that must be left on
 * landing back at the depot. Pure: time is passed in.
 */
import { type ConfigOf, declareConfig, parseConfig } from '../../shared/config/index.js';
import { type GeoPoint, geoToNed } from '../../shared/geo/index.js';

export const ASSIGNMENT_CONFIG = declareConfig({
  reserveFraction: {
    type: 'number',
    default: 0.2,
    unit: 'of capacity',
    min: 0,
    max: 0.9,
    doc: 'Battery that must remain on landing back at the depot after the whole trip.',
  },
  batteryCapacityWh: { type: 'number', default: 500, unit: 'Wh', min: 1, max: 100_000, doc: 'Default pack energy.' },
  cruiseWhPerKm: {
    type: 'number',
    default: 12,
    unit: 'Wh/km',
    min: 0,
    max: 10_000,
    doc: 'Default energy per km of level cruise, empty (about 650 W at 15 m/s).',
  },
  hoverWhPerMin: {
    type: 'number',
    default: 12,
    unit: 'Wh/min',
    min: 0,
    max: 10_000,
    doc: 'Default energy per minute of hover, climb or descent (about 720 W).',
  },
  payloadEnergyPerKg: {
    type: 'number',
    default: 0.12,
    unit: '1/kg',
    min: 0,
    max: 10,
    doc: 'Extra fraction of cruise and hover energy per kg carried, on the loaded leg.',
  },
  cruiseSpeedMS: { type: 'number', default: 12, unit: 'm/s', min: 0.5, max: 100, doc: 'Default cruise ground speed.' },
  maxPayloadKg: { type: 'number', default: 2.5, unit: 'kg', min: 0, max: 1000, doc: 'Default payload limit.' },
  takeoffLandingS: {
    type: 'number',
    default: 40,
    unit: 's',
    min: 0,
    max: 3600,
    doc: 'Climb to cruise altitude plus final descent and landing, per trip (hover energy).',
  },
  pickupHandlingS: {
    type: 'number',
    default: 30,
    unit: 's',
    min: 0,
    max: 3600,
    doc: 'Hover/landed time to take the parcel at the pickup (hover energy).',
  },
  dropHandlingS: {
    type: 'number',
    default: 30,
    unit: 's',
    min: 0,
    max: 3600,
    doc: 'Hover time to lower and release the parcel at the drop (hover energy, loaded).',
  },
  priorityBonusS: {
    type: 'number',
    default: 600,
    unit: 's',
    min: 0,
    max: 1e6,
    doc: 'Cost lowered per priority level: an order one level higher wins a contested drone unless it costs this much more.',
  },
  riskScaleS: {
    type: 'number',
    default: 900,
    unit: 's',
    min: 0,
    max: 1e6,
    doc: 'Cost added for riskScore 1 at riskAversion 1 (canary drones steer to low-risk orders).',
  },
  canaryRiskAversion: {
    type: 'number',
    default: 1,
    min: 0,
    max: 100,
    doc: 'riskAversion given to a drone flagged canary that does not set its own.',
  },
});

export type AssignmentConfig = ConfigOf<typeof ASSIGNMENT_CONFIG>;

/** Defaults, frozen. */
export const DEFAULT_ASSIGNMENT_CONFIG: AssignmentConfig = parseConfig(ASSIGNMENT_CONFIG, {});

/** Validate a raw (file/CLI/env) assignment configuration: unknown keys and out-of-range values are refused. */
export function parseAssignmentConfig(raw: Record<string, unknown>): AssignmentConfig {
  return parseConfig(ASSIGNMENT_CONFIG, raw);
}

/** North/east metres in the fleet's shared frame (the airspace origin). */
export interface NeM {
  readonly n: number;
  readonly e: number;
}

/** A drone's energy model; fields left out take the configuration defaults. */
export interface BatteryModel {
  /** Usable pack energy when full, Wh. */
  readonly capacityWh?: number;
  /** Level cruise, empty, Wh per km. */
  readonly cruiseWhPerKm?: number;
  /** Hover, climb and descent, Wh per minute. */
  readonly hoverWhPerMin?: number;
}

/** A drone as the assignment sees it. */
export interface AssignableDrone {
  readonly id: string;
  /** Position in the fleet frame; or `positionGeo` with the round's `fleetOrigin`. */
  readonly positionNeM?: NeM;
  readonly positionGeo?: { readonly latDeg: number; readonly lonDeg: number };
  /** State of charge, 0..1. */
  readonly batteryRemaining: number;
  readonly battery?: BatteryModel;
  /** Cruise ground speed, m/s. */
  readonly cruiseSpeedMS?: number;
  /** Heaviest parcel it may carry, kg. */
  readonly maxPayloadKg?: number;
  /** Idle, healthy and ready for a task. Unavailable drones are left out of the round. */
  readonly available: boolean;
  /** Lost, faulted or offline (the re-plan releases what it carried). */
  readonly failed?: boolean;
  /** Flies a canary policy during a rollout; takes `canaryRiskAversion` unless `riskAversion` is set. */
  readonly canary?: boolean;
  /** >= 0; cost += riskAversion * order.riskScore * riskScaleS. */
  readonly riskAversion?: number;
}

/** An open delivery order. */
export interface DeliveryOrder {
  readonly id: string;
  /** Depot where the parcel waits; the drone returns here after the drop. */
  readonly pickupNeM: NeM;
  readonly dropNeM: NeM;
  readonly weightKg: number;
  /** 1 (lowest) .. 5 (highest); other finite values are accepted and scale the same way. */
  readonly priority: number;
  /** Latest Unix ms by which the parcel must be dropped; omitted = no deadline. */
  readonly deadlineMs?: number;
  /** 0..1: how much a misbehaving policy could hurt on this route (dense area, near no-fly zones). */
  readonly riskScore?: number;
}

export type Infeasibility = 'payload' | 'battery' | 'deadline';

/** One drone-order pair, costed. */
export type PairEvaluation =
  | {
      readonly feasible: true;
      /** Whole trip, take-off to landing back at the depot, s. */
      readonly tripS: number;
      /** From now until the parcel is released at the drop, s. */
      readonly etaS: number;
      /** Energy for the whole trip, Wh. */
      readonly energyWh: number;
      /** Energy left on landing, as a fraction of capacity. */
      readonly remainingAfter: number;
      /** What the solver minimises: tripS plus risk, minus priority bonus (s-equivalent, may be negative). */
      readonly score: number;
    }
  | { readonly feasible: false; readonly reason: Infeasibility };

const dist = (a: NeM, b: NeM): number => Math.hypot(a.n - b.n, a.e - b.e);

/** Resolve a drone's position in the fleet frame, or null if it has none usable. */
export function dronePositionNeM(drone: AssignableDrone, fleetOrigin?: GeoPoint): NeM | null {
  const p = drone.positionNeM;
  if (p && Number.isFinite(p.n) && Number.isFinite(p.e)) return p;
  const g = drone.positionGeo;
  if (g && fleetOrigin && Number.isFinite(g.latDeg) && Number.isFinite(g.lonDeg)) {
    const ned = geoToNed(fleetOrigin, { latDeg: g.latDeg, lonDeg: g.lonDeg, altAmslM: fleetOrigin.altAmslM });
    return { n: ned.n, e: ned.e };
  }
  return null;
}

export function effectiveRiskAversion(drone: AssignableDrone, config: AssignmentConfig): number {
  if (drone.riskAversion !== undefined) return drone.riskAversion;
  return drone.canary ? config.canaryRiskAversion : 0;
}

/**
 * Cost and feasibility of `drone` (at `positionNeM`) flying `order`: to the pickup, to the drop, back to the depot.
 * Checked in order payload, battery, deadline; the first that fails is the reason.
 */
export function evaluatePair(
  drone: AssignableDrone,
  positionNeM: NeM,
  order: DeliveryOrder,
  nowMs: number,
  config: AssignmentConfig,
): PairEvaluation {
  const maxPayloadKg = drone.maxPayloadKg ?? config.maxPayloadKg;
  if (order.weightKg > maxPayloadKg) return { feasible: false, reason: 'payload' };

  const speed = drone.cruiseSpeedMS ?? config.cruiseSpeedMS;
  const capacityWh = drone.battery?.capacityWh ?? config.batteryCapacityWh;
  const cruiseWhPerM = (drone.battery?.cruiseWhPerKm ?? config.cruiseWhPerKm) / 1000;
  const hoverWhPerS = (drone.battery?.hoverWhPerMin ?? config.hoverWhPerMin) / 60;
  const loaded = 1 + config.payloadEnergyPerKg * Math.max(0, order.weightKg);

  const toPickupM = dist(positionNeM, order.pickupNeM);
  const deliverM = dist(order.pickupNeM, order.dropNeM);
  const returnM = dist(order.dropNeM, order.pickupNeM);
  const cruiseS = (toPickupM + deliverM + returnM) / speed;
  const tripS = cruiseS + config.takeoffLandingS + config.pickupHandlingS + config.dropHandlingS;
  const energyWh =
    (toPickupM + returnM) * cruiseWhPerM +
    deliverM * cruiseWhPerM * loaded +
    (config.takeoffLandingS + config.pickupHandlingS) * hoverWhPerS +
    config.dropHandlingS * hoverWhPerS * loaded;
  const availableWh = drone.batteryRemaining * capacityWh;
  const remainingAfter = (availableWh - energyWh) / capacityWh;
  if (remainingAfter < config.reserveFraction) return { feasible: false, reason: 'battery' };

  // The parcel is released after the climb, both legs and both handlings (landing comes after the drop).
  const etaS =
    (toPickupM + deliverM) / speed + config.takeoffLandingS / 2 + config.pickupHandlingS + config.dropHandlingS;
  if (order.deadlineMs !== undefined && nowMs + etaS * 1000 > order.deadlineMs) {
    return { feasible: false, reason: 'deadline' };
  }

  const risk = effectiveRiskAversion(drone, config) * (order.riskScore ?? 0) * config.riskScaleS;
  const score = tripS + risk - config.priorityBonusS * order.priority;
  return { feasible: true, tripS, etaS, energyWh, remainingAfter, score };
}
