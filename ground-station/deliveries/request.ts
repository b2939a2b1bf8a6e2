/**
 * A delivery request as the HTTP API takes it, validated with zod, and resolved against the configured depots into
 * an order record. A drop point is {latDeg, lonDeg} or {northM, eastM} from the pickup depot.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Result } from '../../shared/errors.js';
import { type GeoPoint, geoToNed, nedToGeo } from '../../shared/geo/index.js';
import type { OrderRecord } from '../storage/index.js';

export interface Depot {
  readonly id: string;
  readonly geo: GeoPoint;
}

/** Parse "main=47.39,8.54,488;north=47.40,8.55,490" into depots; null with the reason when malformed. */
export function parseDepots(text: string): Result<Depot[], string> {
  const depots: Depot[] = [];
  for (const part of text
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const id = eq > 0 ? part.slice(0, eq).trim() : '';
    const nums = (eq > 0 ? part.slice(eq + 1) : '').split(',').map((s) => Number(s.trim()));
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return { ok: false, reason: `depot ${JSON.stringify(part)}: bad id` };
    if (
      nums.length !== 3 ||
      nums.some((x) => !Number.isFinite(x)) ||
      Math.abs(nums[0]) > 90 ||
      Math.abs(nums[1]) > 180
    ) {
      return { ok: false, reason: `depot ${id}: expected ID=lat,lon,altAmsl` };
    }
    if (depots.some((d) => d.id === id)) return { ok: false, reason: `depot ${id} given twice` };
    depots.push({ id, geo: { latDeg: nums[0], lonDeg: nums[1], altAmslM: nums[2] } });
  }
  if (depots.length === 0) return { ok: false, reason: 'at least one depot is needed' };
  return { ok: true, value: depots };
}

const finite = z.number().finite();

export const DELIVERY_REQUEST_SCHEMA = z.strictObject({
  /** A configured depot id; default the first depot. */
  pickupDepot: z.string().min(1).max(64).optional(),
  drop: z.union([
    z.strictObject({ latDeg: finite.min(-90).max(90), lonDeg: finite.min(-180).max(180) }),
    z.strictObject({ northM: finite, eastM: finite }),
  ]),
  weightKg: finite.gt(0).max(100),
  /** 1 (lowest) .. 5 (highest). */
  priority: z.number().int().min(1).max(5).default(3),
  /** Deliver before this time: Unix ms, or an ISO 8601 time in `deadline`. */
  deadlineMs: z.number().int().min(0).optional(),
  deadline: z.iso.datetime({ offset: true }).optional(),
  reference: z.string().max(128).optional(),
});

export type DeliveryRequest = z.input<typeof DELIVERY_REQUEST_SCHEMA>;

export interface RequestIssue {
  readonly path: string;
  readonly message: string;
}

export interface ResolveOptions {
  readonly depots: readonly Depot[];
  /** Drops farther than this from the depot are refused (a swapped lat/lon lands thousands of km away). */
  readonly maxDropDistanceM: number;
  readonly nowMs: number;
  readonly newId?: () => string;
}

export const newOrderId = (): string => `ord_${randomBytes(8).toString('hex')}`;

/** Validate a request body and turn it into a new queued order, or the list of problems (for a 400). */
export function resolveDeliveryRequest(body: unknown, options: ResolveOptions): Result<OrderRecord, RequestIssue[]> {
  const parsed = DELIVERY_REQUEST_SCHEMA.safeParse(body);
  if (!parsed.success) {
    return {
      ok: false,
      reason: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
    };
  }
  const req = parsed.data;
  const issues: RequestIssue[] = [];
  const depot =
    req.pickupDepot === undefined ? options.depots[0] : options.depots.find((d) => d.id === req.pickupDepot);
  if (!depot) {
    issues.push({
      path: 'pickupDepot',
      message: `unknown depot ${JSON.stringify(req.pickupDepot)}; known: ${options.depots.map((d) => d.id).join(', ')}`,
    });
  }
  if (req.deadline !== undefined && req.deadlineMs !== undefined) {
    issues.push({ path: 'deadline', message: 'give deadline or deadlineMs, not both' });
  }
  const deadlineMs = req.deadline !== undefined ? Date.parse(req.deadline) : (req.deadlineMs ?? null);
  if (deadlineMs !== null && deadlineMs <= options.nowMs) {
    issues.push({ path: req.deadline !== undefined ? 'deadline' : 'deadlineMs', message: 'deadline is in the past' });
  }
  if (issues.length > 0 || !depot) return { ok: false, reason: issues };

  let dropGeo: { latDeg: number; lonDeg: number };
  let dropNeM: { northM: number; eastM: number } | null = null;
  if ('northM' in req.drop) {
    dropNeM = { northM: req.drop.northM, eastM: req.drop.eastM };
    const g = nedToGeo(depot.geo, { n: req.drop.northM, e: req.drop.eastM, d: 0 });
    dropGeo = { latDeg: g.latDeg, lonDeg: g.lonDeg };
  } else {
    dropGeo = { latDeg: req.drop.latDeg, lonDeg: req.drop.lonDeg };
  }
  const ned = geoToNed(depot.geo, { ...dropGeo, altAmslM: depot.geo.altAmslM });
  const distanceM = Math.hypot(ned.n, ned.e);
  if (distanceM > options.maxDropDistanceM) {
    return {
      ok: false,
      reason: [
        {
          path: 'drop',
          message: `drop is ${Math.round(distanceM)} m from depot ${depot.id}; the limit is ${options.maxDropDistanceM} m`,
        },
      ],
    };
  }
  return {
    ok: true,
    value: {
      id: (options.newId ?? newOrderId)(),
      status: 'queued',
      pickupDepotId: depot.id,
      pickupGeo: { ...depot.geo },
      dropGeo,
      dropNeM,
      weightKg: req.weightKg,
      priority: req.priority,
      deadlineMs,
      droneId: null,
      commandId: null,
      attempts: 0,
      reason: null,
      reference: req.reference ?? null,
      createdAtMs: options.nowMs,
      updatedAtMs: options.nowMs,
    },
  };
}

/** An order as the API shows it. */
export function orderView(o: OrderRecord): Record<string, unknown> {
  return {
    id: o.id,
    status: o.status,
    pickup: { depot: o.pickupDepotId, ...o.pickupGeo },
    drop: { ...o.dropGeo, ...(o.dropNeM ?? {}) },
    weightKg: o.weightKg,
    priority: o.priority,
    deadlineMs: o.deadlineMs,
    deadline: o.deadlineMs === null ? null : new Date(o.deadlineMs).toISOString(),
    droneId: o.droneId,
    attempts: o.attempts,
    reason: o.reason,
    reference: o.reference,
    createdAtMs: o.createdAtMs,
    updatedAtMs: o.updatedAtMs,
  };
}
