/**
 * The onboard runtime assembled: autopilot link, policy (and optional shield) slots, safety filter, control loop
 * and its driver. `aerie onboard` and `aerie fly` build one of these; tests do too.
 */
import { readFileSync } from 'node:fs';
import { AerieError } from '../shared/errors.js';
import { type Airspace, EMPTY_AIRSPACE, parseAirspace } from '../shared/geo/index.js';
import { componentLogger, type Logger } from '../shared/log/index.js';
import type { Transport } from '../shared/mavlink/index.js';
import {
  type ControlConfig,
  ControlLoop,
  LoopDriver,
  type PolicyPort,
  parseControlConfig,
  type TickReport,
} from './control/index.js';
import { AutopilotLink, type Clock, type LinkConfig, parseLinkConfig, scaledClock } from './link/index.js';
import { DeliveryMission, type MissionOutcome, type MissionPlan } from './mission/index.js';
import { defaultPolicyPath, PolicySlot, ShieldSlot } from './policy/index.js';
import { parseSafetyConfig, type SafetyConfig, SafetyFilter } from './safety/index.js';

export interface RuntimeOptions {
  readonly link: Record<string, unknown>;
  readonly control?: Record<string, unknown>;
  readonly safety?: Record<string, unknown>;
  /** ONNX policy file; default: the shipped default policy. */
  readonly policyPath?: string;
  /** Optional ONNX shield (cost critic). */
  readonly shieldPath?: string;
  readonly airspace?: Airspace;
  /**
   * Simulation only: the runtime's clock runs this many times faster than the wall clock, to fly a simulator run
   * with --speed F in its own time. 1 (the default) on real vehicles.
   */
  readonly timeScale?: number;
  /** The autopilot's byte transport; default: made from link.mavlink (tests and benchmarks inject one). */
  readonly transport?: Transport;
  /**
   * Tests only: the runtime's clock (default: the wall clock scaled by timeScale; when given, timeScale is ignored).
   * A ManualClock stepped together with a lockstep simulator makes the whole runtime, loop timer included, run on
   * simulated time.
   */
  readonly clock?: Clock;
  /**
   * Tests only: what the loop asks for actions instead of the ONNX policy slot (an adversary, a scripted policy).
   * The slot still loads the policy file, so start-up checks are unchanged.
   */
  readonly policyPort?: PolicyPort;
  /** Called after every tick (reports, recorders, uplink). */
  readonly onTick?: (report: TickReport) => void;
}

/** Read an airspace JSON file (see shared/geo/airspace-schema.ts). */
export function readAirspaceFile(path: string): Airspace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AerieError('FILE_NOT_FOUND', `airspace file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AerieError('CONFIG_INVALID_VALUE', `airspace file ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseAirspace(json, path);
}

export class OnboardRuntime {
  readonly link: AutopilotLink;
  readonly policy: PolicySlot;
  readonly shield: ShieldSlot | null;
  readonly filter: SafetyFilter;
  readonly loop: ControlLoop;
  readonly driver: LoopDriver;
  readonly linkConfig: LinkConfig;
  readonly controlConfig: ControlConfig;
  readonly safetyConfig: SafetyConfig;
  readonly timeScale: number;
  /** The runtime's time: the wall clock, or simulated time under timeScale. */
  readonly clock: Clock;
  private readonly log: Logger;
  private readonly tickListeners: ((r: TickReport) => void)[] = [];
  private failedClosed = false;

  private constructor(options: RuntimeOptions, policy: PolicySlot, shield: ShieldSlot | null) {
    this.log = componentLogger('onboard');
    this.linkConfig = parseLinkConfig(options.link);
    this.controlConfig = parseControlConfig(options.control ?? {});
    this.safetyConfig = parseSafetyConfig(options.safety ?? {});
    this.timeScale = options.clock ? 1 : (options.timeScale ?? 1);
    this.clock = options.clock ?? scaledClock(this.timeScale);
    this.link = new AutopilotLink({ config: this.linkConfig, clock: this.clock, transport: options.transport });
    this.policy = policy;
    this.shield = shield;
    this.filter = new SafetyFilter(this.safetyConfig);
    this.loop = new ControlLoop(
      this.link,
      options.policyPort ?? policy,
      this.filter,
      this.controlConfig,
      shield,
      () => this.clock.nowMs() * 1000,
    );
    this.loop.setAirspace(options.airspace ?? EMPTY_AIRSPACE);
    if (options.onTick) this.tickListeners.push(options.onTick);
    this.driver = new LoopDriver(
      this.loop,
      this.controlConfig.rateHz,
      (r) => {
        for (const l of this.tickListeners) l(r);
      },
      this.clock,
      this.timeScale,
    );
  }

  /** Load the policy (and shield) first: a model that does not validate stops start-up with its reason. */
  static async create(options: RuntimeOptions): Promise<OnboardRuntime> {
    // Validate every configuration section before touching files or sockets.
    parseLinkConfig(options.link);
    parseControlConfig(options.control ?? {});
    parseSafetyConfig(options.safety ?? {});
    const policy = new PolicySlot();
    const path = options.policyPath ?? defaultPolicyPath();
    const swapped = await policy.swap(path);
    if (!swapped.ok) throw new AerieError(swapped.code, swapped.message);
    let shield: ShieldSlot | null = null;
    if (options.shieldPath) {
      shield = new ShieldSlot();
      const s = await shield.swap(options.shieldPath);
      if (!s.ok) throw new AerieError(s.code, s.message);
    }
    return new OnboardRuntime(options, policy, shield);
  }

  /** Called after every tick; returns an unsubscribe (the uplink detaches on stop). */
  onTick(listener: (r: TickReport) => void): () => void {
    this.tickListeners.push(listener);
    return () => {
      const i = this.tickListeners.indexOf(listener);
      if (i >= 0) this.tickListeners.splice(i, 1);
    };
  }

  async start(): Promise<void> {
    await this.link.start();
    this.driver.start();
    this.log.info({ mavlink: this.linkConfig.mavlink, rateHz: this.controlConfig.rateHz }, 'onboard runtime started');
  }

  /** Wait until the autopilot's heartbeat is seen. */
  waitForAutopilot(timeoutMs: number): Promise<boolean> {
    if (this.link.isUp) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = this.link.onLinkUp(() => {
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  /** Fly one delivery; resolves with its outcome. */
  fly(plan: MissionPlan): Promise<{ outcome: MissionOutcome; reason: string; mission: DeliveryMission }> {
    const mission = new DeliveryMission(plan);
    this.loop.setMission(mission, this.clock.nowMs());
    return new Promise((resolve) => {
      const check = (r: TickReport) => {
        for (const e of r.events) {
          if (e.kind === 'outcome' && e.outcome) {
            const i = this.tickListeners.indexOf(check);
            if (i >= 0) this.tickListeners.splice(i, 1);
            resolve({ outcome: e.outcome, reason: mission.reason, mission });
          }
        }
      };
      this.tickListeners.push(check);
    });
  }

  /**
   * Fail closed: stop streaming setpoints at once (PX4's offboard-loss failsafe takes over) and ask for a return
   * while the link allows. Used on crashes and fatal errors; safe to call twice.
   */
  async failClosed(reason: string, waitMs = 1000): Promise<void> {
    if (this.failedClosed) return;
    this.failedClosed = true;
    this.driver.stop();
    this.log.error({ reason }, 'failing closed: setpoint stream stopped, asking the autopilot to return');
    if (this.link.isUp && this.link.state().armed) {
      await Promise.race([this.link.returnToLaunch(), new Promise((r) => setTimeout(r, waitMs))]);
    }
  }

  async stop(): Promise<void> {
    this.driver.stop();
    await this.link.stop();
  }
}
