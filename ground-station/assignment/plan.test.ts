import { describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { createRng } from '../../shared/random/index.js';
import {
  type AssignableDrone,
  DEFAULT_ASSIGNMENT_CONFIG as CFG,
  type DeliveryOrder,
  evaluatePair,
  parseAssignmentConfig,
} from './cost-model.js';
import { planRound, replanRound } from './plan.js';

const NOW = 1_700_000_000_000;
const drone = (id: string, n: number, e: number, over: Partial<AssignableDrone> = {}): AssignableDrone => ({
  id,
  positionNeM: { n, e },
  batteryRemaining: 1,
  available: true,
  ...over,
});
// A parcel picked up at (n, e) and dropped 1 km north of it.
const order = (id: string, n: number, e: number, over: Partial<DeliveryOrder> = {}): DeliveryOrder => ({
  id,
  pickupNeM: { n, e },
  dropNeM: { n: n + 1000, e },
  weightKg: 1,
  priority: 3,
  ...over,
});
const pairs = (plan: { assignments: readonly { droneId: string; orderId: string }[] }) =>
  plan.assignments.map((a) => `${a.droneId}->${a.orderId}`);

describe('planRound', () => {
  it('finds the optimum of the round (brute force over small random fleets)', () => {
    const rng = createRng(21);
    for (let t = 0; t < 60; t++) {
      const drones = Array.from({ length: 1 + rng.int(4) }, (_, k) =>
        drone(`d${k}`, rng.next() * 6000 - 3000, rng.next() * 6000 - 3000, {
          batteryRemaining: 0.3 + rng.next() * 0.7,
          canary: rng.next() < 0.3,
        }),
      );
      const orders = Array.from({ length: 1 + rng.int(5) }, (_, k) =>
        order(`o${k}`, rng.next() * 6000 - 3000, rng.next() * 6000 - 3000, {
          priority: 1 + rng.int(5),
          riskScore: rng.next(),
          weightKg: rng.next() * 3,
        }),
      );
      const plan = planRound(drones, orders, { nowMs: NOW });
      // Exhaustive: most assignments, then least summed score.
      let best = { count: 0, score: 0 };
      const used = new Set<number>();
      const visit = (i: number, count: number, score: number): void => {
        if (i === orders.length) {
          if (count > best.count || (count === best.count && score < best.score)) best = { count, score };
          return;
        }
        visit(i + 1, count, score);
        drones.forEach((d, j) => {
          if (used.has(j)) return;
          const ev = evaluatePair(d, d.positionNeM!, orders[i], NOW, CFG);
          if (!ev.feasible) return;
          used.add(j);
          visit(i + 1, count + 1, score + ev.score);
          used.delete(j);
        });
      };
      visit(0, 0, 0);
      const byId = new Map(drones.map((d) => [d.id, d]));
      const orderById = new Map(orders.map((o) => [o.id, o]));
      let score = 0;
      for (const a of plan.assignments) {
        const d = byId.get(a.droneId)!;
        const ev = evaluatePair(d, d.positionNeM!, orderById.get(a.orderId)!, NOW, CFG);
        expect(ev.feasible).toBe(true);
        if (ev.feasible) score += ev.score;
      }
      expect(plan.assignments.length).toBe(best.count);
      expect(score).toBeCloseTo(best.score, 6);
    }
  });

  it('never assigns an infeasible pair: a near drone without the energy loses to a far one with it', () => {
    const drones = [drone('near', 0, 0, { batteryRemaining: 0.25 }), drone('far', 0, -4000)];
    const plan = planRound(drones, [order('o1', 0, 100)], { nowMs: NOW });
    expect(pairs(plan)).toEqual(['far->o1']);
    expect(plan.assignments[0].remainingAfter).toBeGreaterThanOrEqual(CFG.reserveFraction);
    const alone = planRound([drones[0]], [order('o1', 0, 100)], { nowMs: NOW });
    expect(alone.assignments).toEqual([]);
    expect(alone.unassignedOrders).toEqual([{ orderId: 'o1', reason: 'battery' }]);
  });

  it('says why each order was left over', () => {
    const drones = [drone('d1', 0, 0)];
    const orders = [
      order('heavy', 0, 100, { weightKg: 10 }),
      order('far', 0, 60_000),
      order('late', 0, 200, { deadlineMs: NOW + 10_000 }),
      order('broken', Number.NaN, 0),
      order('a', 0, 300),
      order('b', 0, 400),
    ];
    const plan = planRound(drones, orders, { nowMs: NOW });
    expect(pairs(plan)).toEqual(['d1->a']);
    expect(plan.unassignedOrders).toEqual([
      { orderId: 'b', reason: 'no-free-drone' },
      { orderId: 'broken', reason: 'invalid' },
      { orderId: 'far', reason: 'battery' },
      { orderId: 'heavy', reason: 'payload' },
      { orderId: 'late', reason: 'deadline' },
    ]);
    expect(planRound([], [order('x', 0, 0)], { nowMs: NOW }).unassignedOrders).toEqual([
      { orderId: 'x', reason: 'no-drone-available' },
    ]);
    expect(plan.stats).toMatchObject({ dronesConsidered: 1, ordersConsidered: 5, feasiblePairs: 2, assigned: 1 });
  });

  it('leaves out unavailable, failed, unplaceable and malformed drones, and says so', () => {
    const drones = [
      drone('busy', 0, 0, { available: false }),
      drone('lost', 0, 0, { failed: true }),
      drone('nowhere', 0, 0, { positionNeM: undefined, positionGeo: { latDeg: 47, lonDeg: 8 } }),
      drone('bad', 0, 0, { batteryRemaining: 1.5 }),
      drone('ok', 0, 0),
    ];
    const plan = planRound(drones, [order('o1', 0, 100), order('o2', 0, 200)], { nowMs: NOW });
    expect(plan.assignments.map((a) => a.droneId)).toEqual(['ok']);
    expect(plan.excludedDrones).toEqual([
      { droneId: 'bad', reason: 'invalid' },
      { droneId: 'busy', reason: 'unavailable' },
      { droneId: 'lost', reason: 'failed' },
      { droneId: 'nowhere', reason: 'no-position' },
    ]);
  });

  it('gives a contested drone to the higher-priority order, and only because of priority', () => {
    const drones = [drone('d1', 0, 0)];
    const orders = [order('low', 0, 500, { priority: 1 }), order('high', 0, 900, { priority: 4 })];
    expect(pairs(planRound(drones, orders, { nowMs: NOW }))).toEqual(['d1->high']);
    const flat = parseAssignmentConfig({ priorityBonusS: 0 });
    expect(pairs(planRound(drones, orders, { nowMs: NOW, config: flat }))).toEqual(['d1->low']);
    // With more orders than drones, the lowest priority is the one left over even when it is the nearest.
    const three = [
      order('p1', 0, 100, { priority: 1 }),
      order('p3', 0, 900, { priority: 3 }),
      order('p5', 0, 1500, { priority: 5 }),
    ];
    const plan = planRound([drone('d1', 0, 0), drone('d2', 0, 50)], three, { nowMs: NOW });
    expect(plan.assignments.map((a) => a.orderId).sort()).toEqual(['p3', 'p5']);
    expect(plan.unassignedOrders).toEqual([{ orderId: 'p1', reason: 'no-free-drone' }]);
  });

  it('steers a canary drone to the lower-risk order', () => {
    const orders = [order('risky', 0, 50, { riskScore: 0.9 }), order('safe', 0, 250, { riskScore: 0.1 })];
    const regular = [drone('c', 0, 0), drone('n', 0, 300)];
    expect(pairs(planRound(regular, orders, { nowMs: NOW }))).toEqual(['c->risky', 'n->safe']);
    const canary = [drone('c', 0, 0, { canary: true }), drone('n', 0, 300)];
    expect(pairs(planRound(canary, orders, { nowMs: NOW }))).toEqual(['c->safe', 'n->risky']);
    // riskAversion 0 on a canary turns the steering off.
    const off = [drone('c', 0, 0, { canary: true, riskAversion: 0 }), drone('n', 0, 300)];
    expect(pairs(planRound(off, orders, { nowMs: NOW }))).toEqual(['c->risky', 'n->safe']);
  });

  it('is deterministic and independent of input order, in both rectangular shapes', () => {
    const rng = createRng(22);
    const drones = Array.from({ length: 30 }, (_, k) => drone(`d${k}`, rng.next() * 4000, rng.next() * 4000));
    const orders = Array.from({ length: 40 }, (_, k) =>
      order(`o${k}`, rng.next() * 4000, rng.next() * 4000, { priority: 1 + rng.int(5) }),
    );
    const shuffle = <T>(xs: readonly T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    };
    const a = planRound(drones, orders, { nowMs: NOW });
    expect(planRound(shuffle(drones), shuffle(orders), { nowMs: NOW })).toEqual(a);
    expect(a.assignments.length).toBe(30);
    expect(a.unassignedOrders.length).toBe(10);
    const wide = planRound(drones, orders.slice(0, 20), { nowMs: NOW });
    expect(wide.assignments.length).toBe(20);
    expect(new Set(wide.assignments.map((x) => x.droneId)).size).toBe(20);
  });

  it('refuses duplicate ids', () => {
    try {
      planRound([drone('d', 0, 0), drone('d', 1, 1)], [], { nowMs: NOW });
      expect.unreachable();
    } catch (err) {
      expect(isAerieError(err, 'ASSIGNMENT_INPUT_INVALID')).toBe(true);
    }
    expect(() => planRound([], [order('o', 0, 0), order('o', 0, 0)], { nowMs: NOW })).toThrow(/duplicate order/);
  });
});

describe('replanRound', () => {
  const fleet = [drone('d1', 0, 0), drone('d2', 0, 1000), drone('d3', 0, 2000)];
  const orders = [order('o1', 0, 100), order('o2', 0, 1100), order('o3', 0, 2100)];
  const committed = planRound(fleet, orders, { nowMs: NOW }).assignments.map((a) => ({
    droneId: a.droneId,
    orderId: a.orderId,
  }));

  it('keeps healthy in-flight pairs and gives a failed drone’s order to a free drone', () => {
    expect(committed).toEqual([
      { droneId: 'd1', orderId: 'o1' },
      { droneId: 'd2', orderId: 'o2' },
      { droneId: 'd3', orderId: 'o3' },
    ]);
    const now = [
      drone('d1', 0, 50, { available: false }),
      drone('d2', 0, 1050, { available: false, failed: true }),
      drone('d3', 0, 2050, { available: false }),
      drone('spare', 0, 1500),
    ];
    const r = replanRound(now, orders, { nowMs: NOW, committed });
    expect(r.kept).toEqual([committed[0], committed[2]]);
    expect(r.released).toEqual([{ droneId: 'd2', orderId: 'o2', reason: 'drone-failed' }]);
    expect(pairs(r)).toEqual(['spare->o2']);
    expect(r.stranded).toEqual([]);
  });

  it('treats a vanished drone as failed and does not re-assign a parcel that was on board', () => {
    const withParcel = committed.map((c) => (c.droneId === 'd2' ? { ...c, pickedUp: true } : c));
    const now = [
      drone('d1', 0, 50, { available: false }),
      drone('d3', 0, 2050, { available: false }),
      drone('spare', 0, 1500),
    ];
    const r = replanRound(now, orders, { nowMs: NOW, committed: withParcel });
    expect(r.stranded).toEqual([{ droneId: 'd2', orderId: 'o2', pickedUp: true }]);
    expect(r.assignments).toEqual([]);
    expect(r.unassignedOrders).toEqual([]);
  });

  it('frees the drone of a withdrawn order and plans new orders without touching kept pairs', () => {
    // A new urgent order right next to d1: d1 is flying o1 and stays on it; the freed d3 takes the new order.
    const now = [
      drone('d1', 0, 50, { available: false }),
      drone('d2', 0, 1050, { available: false }),
      drone('d3', 0, 2050, { available: true }),
    ];
    const changed = [orders[0], orders[1], order('o4', 0, 60, { priority: 5 })];
    const r = replanRound(now, changed, { nowMs: NOW, committed });
    expect(r.kept).toEqual([committed[0], committed[1]]);
    expect(r.released).toEqual([{ droneId: 'd3', orderId: 'o3', reason: 'order-withdrawn' }]);
    expect(pairs(r)).toEqual(['d3->o4']);
  });

  it('refuses a drone or order committed twice', () => {
    const twice = [...committed, { droneId: 'd1', orderId: 'o9' }];
    expect(() => replanRound(fleet, orders, { nowMs: NOW, committed: twice })).toThrow(/duplicate committed drone/);
  });
});
