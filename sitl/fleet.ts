/**
 * A fleet of simulated PX4 vehicles in one process. Vehicle i binds the ports PX4 SITL instance i binds (onboard
 * link: listen 14580+i, send to 14540+i; GCS link: listen 18570+i, send to 14550), system id 1+i, component 1, a
 * MavlinkLink with its own sequence per port. Time is simulated and advanced only by the caller: stepLockstep(dtS)
 * runs whole control ticks with no timers (tests), runner.ts drives it against the wall clock or flat out.
 */
import { DEFAULT_MULTIROTOR, MultirotorFleet, type MultirotorParams, withParams } from '../shared/dynamics/index.js';
import { AerieError, fail, ok, type Result } from '../shared/errors.js';
import { type GeoPoint, nedToGeo } from '../shared/geo/index.js';
import { componentLogger, type Logger } from '../shared/log/index.js';
import { MavlinkLink, type Transport, UdpTransport } from '../shared/mavlink/index.js';
import { createRng, type Rng } from '../shared/random/index.js';
import { applyFault } from './fault-apply.js';
import { type Fault, FaultyTransport, type LinkSelector, NullTransport, type VehicleTarget } from './faults.js';
import {
  type LinkBinding,
  type VehicleCounters,
  type VehicleStatus,
  vehicleCounters,
  vehicleStatus,
} from './fleet-report.js';
import { type CommanderEvent, type ParamName, SimVehicle, VehicleLinkShell } from './vehicle/index.js';

export type { VehicleCounters, VehicleStatus } from './fleet-report.js';

export interface SitlPorts {
  /** Vehicle i listens for its companion on onboardListenBase + i (PX4: 14580). */
  readonly onboardListenBase: number;
  /** ...and streams to remoteHost:onboardRemoteBase + i until the companion speaks (PX4: 14540). */
  readonly onboardRemoteBase: number;
  /** Vehicle i's GCS link listens on gcsListenBase + i (PX4: 18570). */
  readonly gcsListenBase: number;
  /** Every vehicle's GCS link sends to remoteHost:gcsRemotePort (PX4: 14550). */
  readonly gcsRemotePort: number;
}

export const PX4_SITL_PORTS: SitlPorts = {
  onboardListenBase: 14580,
  onboardRemoteBase: 14540,
  gcsListenBase: 18570,
  gcsRemotePort: 14550,
};

/** PX4 SITL's default home (Zurich), degrees and metres AMSL. */
export const PX4_SITL_HOME: GeoPoint = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };

export interface SitlFleetOptions {
  readonly vehicles: number;
  readonly seed?: number;
  /** Home of vehicle 0; vehicle i's home is homeSpacingM * i metres east of it. */
  readonly home?: GeoPoint;
  readonly homeSpacingM?: number;
  /** 'udp' binds real sockets; 'none' runs companion-less (benchmarks, pure tests). */
  readonly network?: 'udp' | 'none';
  readonly bindHost?: string;
  readonly remoteHost?: string;
  readonly ports?: Partial<SitlPorts>;
  /** Open the GCS link too (default true). */
  readonly gcsLink?: boolean;
  /** Simulated seconds after start before the estimator is ready and arming is allowed (default 5). */
  readonly estimatorReadyS?: number;
  /** Control tick, simulated seconds (default 0.01). */
  readonly tickS?: number;
  readonly dynamics?: Partial<MultirotorParams>;
  readonly params?: Partial<Record<ParamName, number>>;
  readonly logger?: Logger;
}

export interface VehicleEndpoint {
  readonly index: number;
  readonly sysid: number;
  readonly onboard: { readonly listenPort: number; readonly remotePort: number };
  readonly gcs: { readonly listenPort: number; readonly remotePort: number } | null;
  /** The URL a companion uses to talk to this vehicle (shared/mavlink transport syntax). */
  readonly companionUrl: string;
}

interface Pending {
  readonly atS: number;
  readonly run: () => void;
}

export class SitlFleet {
  readonly vehicles: SimVehicle[] = [];
  readonly endpoints: VehicleEndpoint[] = [];
  readonly tickS: number;
  private readonly bindings: LinkBinding[][] = [];
  private readonly pending: Pending[] = [];
  private readonly loggers: Logger[] = [];
  private time = 0;
  private closed = false;

  private constructor(
    private readonly options: SitlFleetOptions,
    private readonly rng: Rng,
  ) {
    this.tickS = options.tickS ?? 0.01;
  }

  /** Build the fleet and bind its sockets. A taken port rejects with PORT_IN_USE naming it (nothing stays bound). */
  static async start(options: SitlFleetOptions): Promise<SitlFleet> {
    if (!Number.isInteger(options.vehicles) || options.vehicles < 1) {
      throw new AerieError('CONFIG_INVALID_VALUE', `vehicles must be an integer >= 1 (got ${options.vehicles})`);
    }
    const seed = options.seed ?? 1;
    const fleet = new SitlFleet(options, createRng(seed));
    fleet.build(seed);
    try {
      for (const list of fleet.bindings) for (const b of list) await b.transport.open();
    } catch (err) {
      await fleet.close();
      throw err;
    }
    return fleet;
  }

  private build(seed: number): void {
    const o = this.options;
    const ports = { ...PX4_SITL_PORTS, ...o.ports };
    const home = o.home ?? PX4_SITL_HOME;
    const dynamics = withParams({ ...DEFAULT_MULTIROTOR, ...o.dynamics });
    const bindHost = o.bindHost ?? '127.0.0.1';
    const remoteHost = o.remoteHost ?? '127.0.0.1';
    const gcs = o.gcsLink ?? true;
    for (let i = 0; i < o.vehicles; i++) {
      const sysid = 1 + i;
      const body = new MultirotorFleet(1, dynamics, seed, { indexOffset: i });
      const vehicle = new SimVehicle({
        index: i,
        sysid,
        home: nedToGeo(home, { n: 0, e: (o.homeSpacingM ?? 0) * i, d: 0 }),
        body,
        estimatorReadyS: o.estimatorReadyS ?? 5,
        params: o.params,
        clock: () => this.time,
      });
      const list: LinkBinding[] = [];
      const bind = (kind: 'onboard' | 'gcs', listenPort: number, remotePort: number): void => {
        const inner: Transport =
          o.network === 'none'
            ? new NullTransport()
            : new UdpTransport({ kind: 'udp', bindHost, bindPort: listenPort, remoteHost, remotePort });
        const transport = new FaultyTransport(inner, this.rng.fork(i * 2 + (kind === 'gcs' ? 1 : 0)));
        const link = new MavlinkLink(transport, { sysid, compid: 1 });
        const shell = new VehicleLinkShell(link, kind === 'onboard' ? 'onboard' : 'normal', vehicle);
        vehicle.shells.push(shell);
        list.push({ kind, transport, shell });
      };
      bind('onboard', ports.onboardListenBase + i, ports.onboardRemoteBase + i);
      if (gcs) bind('gcs', ports.gcsListenBase + i, ports.gcsRemotePort);
      this.vehicles.push(vehicle);
      this.bindings.push(list);
      this.loggers.push((o.logger ?? componentLogger('sitl')).child({ vehicle: i, sysid }));
      this.endpoints.push({
        index: i,
        sysid,
        onboard: { listenPort: ports.onboardListenBase + i, remotePort: ports.onboardRemoteBase + i },
        gcs: gcs ? { listenPort: ports.gcsListenBase + i, remotePort: ports.gcsRemotePort } : null,
        companionUrl: `udp://:${ports.onboardRemoteBase + i}@${remoteHost}:${ports.onboardListenBase + i}`,
      });
    }
  }

  /** Simulated seconds since start. */
  get timeS(): number {
    return this.time;
  }

  get count(): number {
    return this.vehicles.length;
  }

  /**
   * Advance simulated time by exactly `dtS` in control ticks (the last one shorter if dtS is not a multiple of the
   * tick). No timers: datagrams that arrived before the call are already handled; replies go out as they are made.
   */
  stepLockstep(dtS: number): void {
    if (!(dtS >= 0) || !Number.isFinite(dtS))
      throw new AerieError('CONFIG_INVALID_VALUE', `stepLockstep: dtS must be >= 0 (got ${dtS})`);
    const end = this.time + dtS;
    while (this.time < end - 1e-9) this.tick(Math.min(this.tickS, end - this.time));
  }

  private tick(dtS: number): void {
    this.runPending();
    const now = this.time;
    for (const v of this.vehicles) v.step(now, dtS);
    // Rounded to the nanosecond so a million ticks do not drift off the tick grid.
    this.time = Math.round((now + dtS) * 1e9) / 1e9;
    for (let i = 0; i < this.vehicles.length; i++) {
      const v = this.vehicles[i];
      v.emit(this.time);
      if (v.commander.events.length > 0) this.logEvents(i, v.commander.events.splice(0));
    }
  }

  private logEvents(i: number, events: CommanderEvent[]): void {
    const log = this.loggers[i];
    for (const e of events) {
      if (e.kind === 'mode') log.info({ atS: e.atS, from: e.from, to: e.to }, 'mode change');
      else if (e.kind === 'armed') log.info({ atS: e.atS }, 'armed');
      else if (e.kind === 'disarmed') log.info({ atS: e.atS, reason: e.reason }, 'disarmed');
      else log.warn({ atS: e.atS, action: e.action, cause: e.cause }, 'failsafe');
    }
  }

  private runPending(): void {
    if (this.pending.length === 0) return;
    const due = this.pending.filter((p) => p.atS <= this.time + 1e-9);
    if (due.length === 0) return;
    const rest = this.pending.filter((p) => p.atS > this.time + 1e-9);
    this.pending.length = 0;
    this.pending.push(...rest);
    for (const p of due) p.run();
  }

  private later(atS: number, run: () => void): void {
    this.pending.push({ atS, run });
    this.pending.sort((a, b) => a.atS - b.atS);
  }

  /** Inject a fault now into one vehicle or all. Returns a reason for a bad index (faults are validated types). */
  injectFault(target: VehicleTarget, fault: Fault): Result<void> {
    const indices = target === 'all' ? this.vehicles.map((_, i) => i) : [target];
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.vehicles.length) {
        return fail(`vehicle must be 0-${this.vehicles.length - 1} (got ${i})`);
      }
    }
    for (const i of indices) this.applyFault(i, fault);
    return ok(undefined);
  }

  /** Inject at simulated time `atS` (now if already past). */
  scheduleFault(atS: number, target: VehicleTarget, fault: Fault): void {
    this.later(atS, () => {
      const r = this.injectFault(target, fault);
      if (!r.ok) this.loggers[0]?.warn({ reason: r.reason }, 'scheduled fault ignored');
    });
  }

  private links(i: number, selector: LinkSelector | undefined): FaultyTransport[] {
    return this.bindings[i].filter((b) => (selector ?? 'all') === 'all' || b.kind === selector).map((b) => b.transport);
  }

  private applyFault(i: number, fault: Fault): void {
    this.loggers[i].info({ atS: this.time, fault }, 'fault injected');
    applyFault(
      {
        vehicle: this.vehicles[i],
        links: (selector) => this.links(i, selector),
        later: (delayS, run) => this.later(this.time + delayS, run),
      },
      fault,
    );
  }

  counters(i: number): VehicleCounters {
    return vehicleCounters(this.bindings[i]);
  }

  status(i: number): VehicleStatus {
    return vehicleStatus(this.vehicles[i], this.time);
  }

  statuses(): VehicleStatus[] {
    return this.vehicles.map((_, i) => this.status(i));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.bindings.flat().map((b) => b.shell.link.close()));
  }
}
