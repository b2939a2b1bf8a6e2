/**
 * An adversarial policy for the safety-guarantee scenarios: a PolicyPort (what the control loop asks for actions)
 * that is not a model but a test-edge fake with more knowledge than a model has (its own position, the other
 * drones', the airspace), and that uses it to fly at the limits: uniformly random actions, maximal corner actions,
 * full speed at the nearest fence edge, at the ceiling, at the nearest no-fly zone, at the other drone, at the
 * ground. Every action it returns is a valid one in [-1, 1]: the point is that valid actions, chosen badly, must
 * still never take the vehicle out of its airspace.
 */

import type { PolicyPort } from '../../onboard/control/index.js';
import type { PolicyOutcome } from '../../onboard/policy/index.js';
import { type Airspace, type Ned, nearestOnPolygonBoundary } from '../../shared/geo/index.js';
import { seededRandom } from '../../shared/policy/test-models.js';

export const ADVERSARY_STRATEGIES = ['random', 'corner', 'fence', 'ceiling', 'zone', 'neighbour', 'ground'] as const;
export type AdversaryStrategy = (typeof ADVERSARY_STRATEGIES)[number];

/** What the adversary knows, each in the drone's own home frame (NED m, m/s). */
export interface AdversaryView {
  nowMs(): number;
  ownPositionNedM(): Ned;
  /** The other drones' positions. */
  othersNedM(): readonly Ned[];
  readonly airspace: Airspace;
}

/** Full speed towards `target`: horizontal unit action, vertical +-1 unless within a metre. */
function aim(from: Ned, target: Ned, out: Float32Array): void {
  const dn = target.n - from.n;
  const de = target.e - from.e;
  const h = Math.hypot(dn, de);
  out[0] = h > 1e-6 ? dn / h : 0;
  out[1] = h > 1e-6 ? de / h : 0;
  const dd = target.d - from.d;
  out[2] = Math.max(-1, Math.min(1, dd));
}

function centroid(points: readonly { n: number; e: number }[]): { n: number; e: number } {
  let n = 0;
  let e = 0;
  for (const p of points) {
    n += p.n;
    e += p.e;
  }
  return { n: n / points.length, e: e / points.length };
}

export class AdversaryPolicy implements PolicyPort {
  /** Policy ticks flown under each strategy. */
  readonly ticksByStrategy: Record<AdversaryStrategy, number> = {
    random: 0,
    corner: 0,
    fence: 0,
    ceiling: 0,
    zone: 0,
    neighbour: 0,
    ground: 0,
  };
  private readonly random: () => number;
  private strategies: readonly AdversaryStrategy[] = ['random'];
  private current: AdversaryStrategy = 'random';
  private switchAtMs = Number.NEGATIVE_INFINITY;
  private holdUntilMs = Number.NEGATIVE_INFINITY;
  private homeGoal: Ned | null = null;
  private readonly action = new Float32Array(3);

  constructor(
    private readonly view: AdversaryView,
    seed: number,
    /** How long one strategy is kept before the next is drawn (simulated ms). */
    private readonly switchEveryMs: readonly [number, number] = [3000, 6000],
  ) {
    this.random = seededRandom(seed);
  }

  /** Fly these strategies from now on (one drawn at random every few seconds). */
  attack(strategies: readonly AdversaryStrategy[]): void {
    this.strategies = strategies;
    this.homeGoal = null;
    this.switchAtMs = Number.NEGATIVE_INFINITY;
  }

  /** Stop attacking: fly straight at `goal` (own frame), as a sane policy would, so the episode can end. */
  goHome(goal: Ned): void {
    this.homeGoal = goal;
  }

  get strategy(): AdversaryStrategy | 'home' {
    return this.homeGoal ? 'home' : this.current;
  }

  runWithDeadline(_observation: ArrayLike<number>, _deadlineMs: number): Promise<PolicyOutcome> {
    const action = this.act();
    return Promise.resolve({ ok: true, action, latencyUs: 0 });
  }

  private act(): Float32Array {
    const a = this.action;
    const now = this.view.nowMs();
    const own = this.view.ownPositionNedM();
    if (this.homeGoal) {
      aim(own, this.homeGoal, a);
      a[0] *= 0.6;
      a[1] *= 0.6;
      return a.slice();
    }
    if (now >= this.switchAtMs) {
      this.current = this.strategies[Math.floor(this.random() * this.strategies.length)];
      const [lo, hi] = this.switchEveryMs;
      this.switchAtMs = now + lo + this.random() * (hi - lo);
      this.holdUntilMs = Number.NEGATIVE_INFINITY;
    }
    this.ticksByStrategy[this.current]++;
    const r = () => this.random() * 2 - 1;
    switch (this.current) {
      case 'random':
        a[0] = r();
        a[1] = r();
        a[2] = r();
        break;
      case 'corner':
        // A maximal action on every axis, held for a while (then another corner).
        if (now >= this.holdUntilMs) {
          a[0] = this.random() < 0.5 ? -1 : 1;
          a[1] = this.random() < 0.5 ? -1 : 1;
          a[2] = this.random() < 0.5 ? -1 : 1;
          this.holdUntilMs = now + 500 + this.random() * 1500;
        }
        break;
      case 'fence': {
        const fence = this.view.airspace.geofence;
        if (!fence) break;
        // Past the nearest edge point, 20 m outside.
        const near = nearestOnPolygonBoundary(own, fence.polygonNeM).point;
        const dn = near.n - own.n;
        const de = near.e - own.e;
        const h = Math.hypot(dn, de) || 1;
        aim(own, { n: near.n + (20 * dn) / h, e: near.e + (20 * de) / h, d: own.d }, a);
        break;
      }
      case 'ceiling': {
        const fence = this.view.airspace.geofence;
        a[0] = r() * 0.3;
        a[1] = r() * 0.3;
        a[2] = fence ? -1 : 0;
        break;
      }
      case 'zone': {
        let best: { n: number; e: number } | null = null;
        let bestD = Number.POSITIVE_INFINITY;
        for (const z of this.view.airspace.noFlyZones) {
          const c = z.kind === 'cylinder' ? z.centerNeM : centroid(z.polygonNeM);
          const d = Math.hypot(c.n - own.n, c.e - own.e);
          if (d < bestD) {
            bestD = d;
            best = c;
          }
        }
        if (best) aim(own, { n: best.n, e: best.e, d: own.d }, a);
        break;
      }
      case 'neighbour': {
        const others = this.view.othersNedM();
        let best: Ned | null = null;
        let bestD = Number.POSITIVE_INFINITY;
        for (const o of others) {
          const d = Math.hypot(o.n - own.n, o.e - own.e, o.d - own.d);
          if (d < bestD) {
            bestD = d;
            best = o;
          }
        }
        if (best) aim(own, best, a);
        break;
      }
      case 'ground':
        a[0] = r() * 0.5;
        a[1] = r() * 0.5;
        a[2] = 1;
        break;
    }
    return a.slice();
  }
}
