/**
 * The SITL part of `aerie eval`: full deliveries flown by the REAL onboard runtime (OnboardRuntime: MAVLink link,
 * mission, observation, ONNX policy, safety filter) against the simulated PX4 fleet over UDP, several at once. Each
 * delivery gets its own one-vehicle SitlFleet run in real time at speed F (runRealtime) and a runtime on the same
 * time scale, wind and turbulence from its scenario, and an airspace with a geofence and a no-fly zone. Reported:
 * success (the mission's own outcome: delivered and back on the ground), time to deliver, interventions per safety
 * layer as a share of the policy's ticks, and breaches judged on the vehicle's TRUE position (fleet.status).
 */
import { type PolicyPort, parseControlConfig } from '../../../onboard/control/index.js';
import { OnboardRuntime } from '../../../onboard/runtime.js';
import { DEFAULT_SAFETY_CONFIG, SAFETY_LAYERS, type SafetyLayer } from '../../../onboard/safety/index.js';
import { isAerieError } from '../../../shared/errors.js';
import { componentLogger } from '../../../shared/log/index.js';
import { runRealtime, SitlFleet } from '../../../sitl/index.js';
import type { EnvConfig } from '../env/env-config.js';
import { BREACH_KINDS, type BreachKind } from '../env/env-state.js';
import type { EvaluationSection, SectionReport } from '../evaluate.js';
import { type SitlScenario, sitlScenarios } from './scenarios.js';
import { type BreachTicks, breachesAt, clearancesAt, noBreachTicks } from './truth.js';

export interface SitlEvalOptions {
  /** The task: the training config's env section (distances, altitudes, zones, fence, wind). */
  readonly env: EnvConfig;
  readonly deliveries: number;
  /** Deliveries flown at once (one simulated vehicle and one runtime each). */
  readonly parallel: number;
  readonly seed: number;
  /** Simulated seconds per wall second, for the fleet and the runtime alike. */
  readonly speed: number;
  /** The policy file the runtime loads (default: the evaluated policy's source, when it is a file). */
  readonly policyPath?: string;
  readonly shieldPath?: string | null;
  /** The mission's arrival radius, m (default 2, as `aerie fly`). */
  readonly arrivalRadiusM?: number;
  /** Altitude the parcel is lowered from, m above home (default 10). */
  readonly releaseAltM?: number;
  /** Give a delivery up after this many simulated seconds (default 600). */
  readonly timeoutS?: number;
  /** First UDP port to try (default: a random one above 20000; taken ports are skipped). */
  readonly basePort?: number;
  /** Runtime safety configuration overrides (the onboard defaults otherwise). */
  readonly safety?: Record<string, unknown>;
  /**
   * Widen the runtime's thresholds on its own process's hiccups (stale state, event-loop stall) by the speed factor
   * (default true). They are judged in the runtime's simulated time, where a wall-clock hiccup of the process lasts
   * `speed` times longer: without this, a faster-than-real-time run on a busy machine fails deliveries a real-time
   * vehicle would fly. Everything the vehicle does is still judged at the onboard defaults.
   */
  readonly compensateSpeed?: boolean;
  /**
   * Fly this instead of the ONNX policy (a scripted baseline such as the kickstarting teacher, through the same
   * runtime and filter); the policy file is still loaded, so start-up checks are unchanged.
   */
  readonly policyPort?: () => PolicyPort;
  /** Called as each delivery finishes (progress). */
  readonly onDelivery?: (d: SitlDelivery) => void;
}

export type SitlOutcome = 'delivered' | 'aborted' | 'failed' | 'timeout';

export interface SitlDelivery {
  readonly index: number;
  readonly distanceM: number;
  readonly windMS: number;
  readonly zones: number;
  readonly outcome: SitlOutcome;
  readonly reason: string;
  /** Mission start to the parcel's release, simulated s (null when not released). */
  readonly timeToDeliverS: number | null;
  /** The outbound cruise leg (the policy's), simulated s. */
  readonly cruiseOutS: number | null;
  readonly flightS: number;
  /** Control ticks on the cruise legs, where the policy flies. */
  readonly policyTicks: number;
  /** Policy ticks on which each safety layer changed the setpoint. */
  readonly interventionTicks: Readonly<Record<SafetyLayer, number>>;
  /** Policy ticks on which the sanity, box, barrier or shield layer changed it (the loop's interventionShare). */
  readonly anyInterventionTicks: number;
  /** Ticks armed in the air, and those with each breach kind on the true position. */
  readonly airborneTicks: number;
  readonly breachTicks: BreachTicks;
  /** The control loop's own count (runtime.loop.stats.summary()): its policy ticks and intervention share. */
  readonly loop: {
    readonly policyTicks: number;
    readonly interventionShare: number;
    readonly policyFaults: number;
    readonly stalls: number;
    readonly monitorTransitions: readonly string[];
  };
  /** Least horizontal clearance of the true position from the no-fly zone and inside the fence, m. */
  readonly minZoneClearanceM: number;
  readonly minFenceMarginM: number;
}

export interface SitlReport extends SectionReport {
  readonly speed: number;
  readonly parallel: number;
  readonly outcomes: Readonly<Record<SitlOutcome, number>>;
  readonly policyTicks: number;
  /** Share of policy ticks with any intervention (sanity, box, barrier or shield), as the control loop counts it. */
  readonly interventionShareAny: number;
  /** The same share as the control loops count it (runtime.loop.stats.summary()), over all deliveries. */
  readonly loopInterventionShare: number;
  /** Deliveries with any breach on the true position, with the onboard safety filter on. */
  readonly breachesFilterOn: number;
  readonly deliveries: readonly SitlDelivery[];
}

const AIRBORNE = new Set(['takeoff', 'cruise-out', 'descend', 'release', 'climb', 'cruise-back', 'landing']);
const CRUISE = new Set(['cruise-out', 'cruise-back']);
const ANY_LAYERS: readonly SafetyLayer[] = ['sanity', 'box', 'barrier', 'shield'];
const PORT_TRIES = 12;

export function sitlSection(options: SitlEvalOptions): EvaluationSection {
  return {
    name: 'sitl',
    async run(ctx) {
      const policyPath = options.policyPath ?? ctx.policy.info.source;
      const scenarios = sitlScenarios(options.env, options.deliveries, options.seed);
      const results: SitlDelivery[] = [];
      const queue = [...scenarios];
      let nextPort = options.basePort ?? 20000 + 40 * Math.floor(Math.random() * 900);
      const takePorts = (): number => {
        const base = nextPort;
        nextPort = nextPort + 2 >= 65000 ? 20000 : nextPort + 2;
        return base;
      };
      const worker = async (): Promise<void> => {
        for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
          const d = await flyDelivery(s, options, policyPath, takePorts);
          results.push(d);
          options.onDelivery?.(d);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, scenarios.length)) }, worker));
      results.sort((a, b) => a.index - b.index);
      return summarise(options, results);
    },
  };
}

/** One delivery: a fresh one-vehicle fleet and runtime on free ports, flown to its outcome or the time limit. */
async function flyDelivery(
  s: SitlScenario,
  options: SitlEvalOptions,
  policyPath: string,
  takePorts: () => number,
): Promise<SitlDelivery> {
  const quiet = componentLogger('sitl-eval').child({ delivery: s.index }, { level: 'warn' });
  for (let attempt = 0; ; attempt++) {
    const base = takePorts();
    let fleet: SitlFleet | null = null;
    let runtime: OnboardRuntime | null = null;
    const abort = new AbortController();
    let running: Promise<void> | null = null;
    try {
      fleet = await SitlFleet.start({
        vehicles: 1,
        seed: options.seed * 7919 + s.index,
        network: 'udp',
        gcsLink: false,
        ports: { onboardListenBase: base, onboardRemoteBase: base + 1 },
        estimatorReadyS: 2,
        logger: quiet,
      });
      fleet.injectFault(0, { kind: 'wind', northMS: s.wind.northMS, eastMS: s.wind.eastMS, downMS: 0, ...gust(s) });
      running = runRealtime(fleet, { speed: options.speed, signal: abort.signal });
      runtime = await OnboardRuntime.create({
        link: { mavlink: fleet.endpoints[0].companionUrl },
        policyPath,
        shieldPath: options.shieldPath ?? undefined,
        ...runtimeConfig(options),
        policyPort: options.policyPort?.(),
        timeScale: options.speed,
        airspace: s.airspace,
      });
      await runtime.start();
      return await flyOn(s, options, fleet, runtime);
    } catch (err) {
      if (!isAerieError(err, 'PORT_IN_USE') || attempt + 1 >= PORT_TRIES) throw err;
    } finally {
      await runtime?.stop();
      abort.abort();
      await running;
      await fleet?.close();
    }
  }
}

/** The runtime's safety and control configuration for this run (see compensateSpeed). */
function runtimeConfig(options: SitlEvalOptions): {
  safety: Record<string, unknown>;
  control: Record<string, unknown>;
} {
  const k = options.compensateSpeed === false ? 1 : Math.max(1, options.speed);
  const d = DEFAULT_SAFETY_CONFIG;
  return {
    safety: { stateStaleMs: d.stateStaleMs * k, stateLostLandMs: d.stateLostLandMs * k, ...options.safety },
    control: { stallThresholdMs: Math.min(5000, parseControlConfig({}).stallThresholdMs * k) },
  };
}

function gust(s: SitlScenario): { gustStdMS: number } {
  return { gustStdMS: s.wind.gustStdMS };
}

async function flyOn(
  s: SitlScenario,
  options: SitlEvalOptions,
  fleet: SitlFleet,
  rt: OnboardRuntime,
): Promise<SitlDelivery> {
  const interventionTicks = Object.fromEntries(SAFETY_LAYERS.map((l) => [l, 0])) as Record<SafetyLayer, number>;
  const breachTicks = noBreachTicks();
  let policyTicks = 0;
  let anyTicks = 0;
  let airborneTicks = 0;
  let releasedMs: number | null = null;
  const phaseStartMs: Record<string, number> = {};
  const phaseEndMs: Record<string, number> = {};
  let phase = '';
  let minZoneClearanceM = Number.POSITIVE_INFINITY;
  let minFenceMarginM = Number.POSITIVE_INFINITY;
  const off = rt.onTick((r) => {
    const nowMs = r.timeUs / 1000;
    if (r.phase !== phase) {
      if (phase) phaseEndMs[phase] = nowMs;
      phase = r.phase;
      phaseStartMs[phase] ??= nowMs;
    }
    for (const e of r.events) if (e.kind === 'released') releasedMs ??= e.timeMs;
    if (CRUISE.has(r.phase)) {
      policyTicks++;
      for (const layer of SAFETY_LAYERS) if (r.decision.layers[layer]) interventionTicks[layer]++;
      if (ANY_LAYERS.some((l) => r.decision.layers[l])) anyTicks++;
    }
    const st = fleet.status(0);
    if (st.armed && AIRBORNE.has(r.phase)) {
      airborneTicks++;
      const p = { n: st.positionNedM[0], e: st.positionNedM[1], d: st.positionNedM[2] };
      for (const kind of breachesAt(p, s.airspace, CRUISE.has(r.phase))) breachTicks[kind]++;
      const c = clearancesAt(p, s.airspace);
      minZoneClearanceM = Math.min(minZoneClearanceM, c.zoneM);
      minFenceMarginM = Math.min(minFenceMarginM, c.fenceM);
    }
  });
  const timeoutS = options.timeoutS ?? 600;
  let timer: NodeJS.Timeout | null = null;
  try {
    if (!(await rt.waitForAutopilot(30_000))) throw new Error(`delivery ${s.index}: the simulated vehicle never spoke`);
    const startMs = rt.clock.nowMs();
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), (timeoutS * 1000) / options.speed);
    });
    const flown = await Promise.race([
      rt.fly({
        dropNeM: s.dropNeM,
        returnNeM: [0, 0],
        cruiseAltM: s.cruiseAltM,
        releaseAltM: options.releaseAltM ?? 10,
        releaseBy: 'hover',
        arrivalRadiusM: options.arrivalRadiusM ?? 2,
      }),
      timedOut,
    ]);
    const endMs = rt.clock.nowMs();
    const summary = rt.loop.stats.summary();
    const out = phaseStartMs['cruise-out'];
    const released: number | null = releasedMs;
    return {
      index: s.index,
      distanceM: s.distanceM,
      windMS: Math.hypot(s.wind.northMS, s.wind.eastMS),
      zones: s.airspace.noFlyZones.length,
      outcome: flown ? flown.outcome : 'timeout',
      reason: flown ? flown.reason : `not done after ${timeoutS} s (phase ${phase})`,
      timeToDeliverS: released === null ? null : (released - startMs) / 1000,
      cruiseOutS: out === undefined ? null : ((phaseEndMs['cruise-out'] ?? endMs) - out) / 1000,
      flightS: (endMs - startMs) / 1000,
      policyTicks,
      interventionTicks,
      anyInterventionTicks: anyTicks,
      airborneTicks,
      breachTicks,
      loop: {
        policyTicks: summary.policyTicks,
        interventionShare: summary.interventionShare,
        policyFaults: summary.policyFaults,
        stalls: summary.stalls,
        monitorTransitions: summary.monitorTransitions,
      },
      minZoneClearanceM,
      minFenceMarginM,
    };
  } finally {
    if (timer) clearTimeout(timer);
    off();
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function summarise(options: SitlEvalOptions, ds: readonly SitlDelivery[]): SitlReport {
  const n = ds.length;
  const outcomes: Record<SitlOutcome, number> = { delivered: 0, aborted: 0, failed: 0, timeout: 0 };
  for (const d of ds) outcomes[d.outcome]++;
  const policyTicks = ds.reduce((a, d) => a + d.policyTicks, 0);
  const airborneTicks = ds.reduce((a, d) => a + d.airborneTicks, 0);
  const layerTicks = (l: SafetyLayer): number => ds.reduce((a, d) => a + d.interventionTicks[l], 0);
  const share = (x: number, of: number): number => x / Math.max(of, 1);
  const interventionShare = Object.fromEntries(
    SAFETY_LAYERS.map((l) => [l, share(layerTicks(l), policyTicks)]),
  ) as Record<SafetyLayer, number>;
  const kindTicks = (k: BreachKind): number => ds.reduce((a, d) => a + d.breachTicks[k], 0);
  const breached = ds.filter((d) => BREACH_KINDS.some((k) => d.breachTicks[k] > 0)).length;
  const times = ds
    .map((d) => d.timeToDeliverS)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  const flightS = ds.reduce((a, d) => a + d.flightS, 0);
  const cost =
    options.env.breachCost * BREACH_KINDS.reduce((a, k) => a + kindTicks(k), 0) +
    options.env.interventionCost * layerTicks('barrier');
  return {
    section: 'sitl',
    episodes: n,
    speed: options.speed,
    parallel: options.parallel,
    successRate: n ? outcomes.delivered / n : Number.NaN,
    outcomes,
    timeToDeliverS: times.length
      ? { mean: times.reduce((a, b) => a + b, 0) / times.length, p50: quantile(times, 0.5), p95: quantile(times, 0.95) }
      : null,
    cost: {
      perTick: share(cost, policyTicks),
      perEpisode: n ? cost / n : Number.NaN,
      perSecond: cost / Math.max(flightS, 1e-9),
    },
    interventionShare,
    interventionShareAny: share(
      ds.reduce((a, d) => a + d.anyInterventionTicks, 0),
      policyTicks,
    ),
    policyTicks,
    loopInterventionShare: share(
      ds.reduce((a, d) => a + d.loop.interventionShare * d.loop.policyTicks, 0),
      ds.reduce((a, d) => a + d.loop.policyTicks, 0),
    ),
    breaches: {
      episodeShare: n ? breached / n : 0,
      tickShare: Object.fromEntries(BREACH_KINDS.map((k) => [k, share(kindTicks(k), airborneTicks)])) as Record<
        BreachKind,
        number
      >,
    },
    breachesFilterOn: breached,
    deliveries: ds,
  };
}
