/**
 * Drivers of a fleet's simulated time: against the wall clock at a speed factor (1 = real time), or flat out for
 * benchmarks. Tests use SitlFleet.stepLockstep directly and own no timers at all.
 */
import { performance } from 'node:perf_hooks';
import { MAV_CMD } from '../shared/mavlink/index.js';
import { SitlFleet, type SitlFleetOptions } from './fleet.js';

export interface RealtimeOptions {
  /** Simulated seconds per wall second (default 1). */
  readonly speed?: number;
  /** Stops the loop; the promise resolves once it has. */
  readonly signal?: AbortSignal;
  /** Called every `statusEveryS` simulated seconds (periodic status; the CLI logs it at debug level). */
  readonly onStatus?: (fleet: SitlFleet) => void;
  readonly statusEveryS?: number;
  /** Wall milliseconds between loop turns (default 5): sockets are served between turns. */
  readonly periodMs?: number;
}

/** How far behind the wall clock the loop may fall before it stops trying to catch up, s of wall time. */
const MAX_LAG_WALL_S = 0.25;
/** Longest a turn may step before it yields to the sockets, ms of wall time. */
const TURN_BUDGET_MS = 20;

/**
 * Run until the signal aborts: each turn steps the fleet up to where the wall clock (times the speed) says it
 * should be. If the machine cannot keep up, simulated time slows down rather than bursting.
 */
export function runRealtime(fleet: SitlFleet, options: RealtimeOptions = {}): Promise<void> {
  const speed = options.speed ?? 1;
  const periodMs = options.periodMs ?? 5;
  const statusEveryS = options.statusEveryS ?? 10;
  return new Promise((resolve) => {
    let anchorWall = performance.now();
    let anchorSim = fleet.timeS;
    let nextStatusS = fleet.timeS + statusEveryS;
    let timer: NodeJS.Timeout | null = null;
    const stop = (): void => {
      if (timer) clearTimeout(timer);
      timer = null;
      resolve();
    };
    if (options.signal?.aborted) return stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    const turn = (): void => {
      timer = null;
      if (options.signal?.aborted) return;
      const wall = performance.now();
      let target = anchorSim + ((wall - anchorWall) / 1000) * speed;
      if (target - fleet.timeS > MAX_LAG_WALL_S * speed) {
        // Too far behind: re-anchor so the simulation runs slower instead of jumping.
        anchorWall = wall;
        anchorSim = fleet.timeS;
        target = fleet.timeS + fleet.tickS;
      }
      const budgetEnd = wall + TURN_BUDGET_MS;
      while (fleet.timeS + fleet.tickS <= target + 1e-9) {
        fleet.stepLockstep(fleet.tickS);
        if (performance.now() > budgetEnd) {
          // Out of wall time for this turn: serve the sockets, and let simulated time slip rather than burst.
          anchorWall = performance.now();
          anchorSim = fleet.timeS;
          break;
        }
      }
      if (options.onStatus && fleet.timeS >= nextStatusS) {
        nextStatusS = fleet.timeS + statusEveryS;
        options.onStatus(fleet);
      }
      timer = setTimeout(turn, periodMs);
    };
    timer = setTimeout(turn, 0);
  });
}

export interface FlatOutResult {
  readonly vehicles: number;
  /** Wall-clock seconds the run took. */
  readonly wallS: number;
  /** Simulated seconds run. */
  readonly simS: number;
  /** simS / wallS: how many times faster than real time. */
  readonly realtimeFactor: number;
  /** Messages the fleet encoded and sent (to null transports). */
  readonly messagesOut: number;
}

/**
 * Run `vehicles` companion-less vehicles (streams on, sent to null transports) for `simSeconds` as fast as the
 * machine allows: what `sitl.realtime_factor.N` measures. The estimator is ready at once and each vehicle takes off
 * and hovers, so commander, navigator, dynamics and telemetry all do their flight work.
 */
export async function runFlatOut(
  vehicles: number,
  simSeconds: number,
  options: Partial<SitlFleetOptions> = {},
): Promise<FlatOutResult> {
  const fleet = await SitlFleet.start({ estimatorReadyS: 0, ...options, vehicles, network: 'none' });
  try {
    for (const v of fleet.vehicles) {
      v.commander.handleCommand(MAV_CMD.NAV_TAKEOFF, [], 0);
      v.commander.handleCommand(MAV_CMD.COMPONENT_ARM_DISARM, [1], 0);
    }
    const start = performance.now();
    fleet.stepLockstep(simSeconds);
    const wallS = (performance.now() - start) / 1000;
    let messagesOut = 0;
    for (let i = 0; i < fleet.count; i++) messagesOut += fleet.counters(i).framesOut;
    return { vehicles, wallS, simS: fleet.timeS, realtimeFactor: fleet.timeS / wallS, messagesOut };
  } finally {
    await fleet.close();
  }
}
