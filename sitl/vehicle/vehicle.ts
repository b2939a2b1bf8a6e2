/**
 * One simulated vehicle: its dynamics (a one-vehicle MultirotorFleet, so PARAM_SET limits stay per vehicle; the
 * model guarantees vehicle i of a fleet evolves as a one-vehicle fleet with indexOffset i), its PX4 emulation, its
 * parameters and the link shells bound to it. The fleet drives it with simulated time.
 */
import { type MultirotorFleet, type MultirotorParams, withParams } from '../../shared/dynamics/index.js';
import type { GeoPoint } from '../../shared/geo/index.js';
import { degToRad } from '../../shared/geo/index.js';
import { Commander, type VehicleSense } from './commander.js';
import type { VehicleLinkShell } from './link-shell.js';
import { customModeOf } from './modes.js';
import { type ParamName, ParamStore } from './params.js';
import { currentMode, type TelemetrySource } from './telemetry.js';

export interface SimVehicleOptions {
  readonly index: number;
  readonly sysid: number;
  readonly home: GeoPoint;
  readonly body: MultirotorFleet;
  readonly estimatorReadyS: number;
  readonly params?: Partial<Record<ParamName, number>>;
  /** Simulated time now, s (the fleet's clock). */
  readonly clock: () => number;
}

/** Which PX4 parameters drive which dynamics limits. */
function dynamicsLimits(params: ParamStore, base: MultirotorParams): MultirotorParams {
  return withParams({
    ...base,
    maxHorizontalSpeedMS: params.get('MPC_XY_VEL_MAX'),
    maxClimbSpeedMS: params.get('MPC_Z_VEL_MAX_UP'),
    maxDescentSpeedMS: params.get('MPC_Z_VEL_MAX_DN'),
    maxHorizontalAccelMS2: params.get('MPC_ACC_HOR'),
    maxVerticalAccelMS2: Math.max(params.get('MPC_ACC_UP_MAX'), params.get('MPC_ACC_DOWN_MAX')),
    maxYawRateRadS: Math.max(0.01, degToRad(params.get('MPC_YAWRAUTO_MAX'))),
  });
}

const LIMIT_PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'MPC_XY_VEL_MAX',
  'MPC_Z_VEL_MAX_UP',
  'MPC_Z_VEL_MAX_DN',
  'MPC_ACC_HOR',
  'MPC_ACC_UP_MAX',
  'MPC_ACC_DOWN_MAX',
  'MPC_YAWRAUTO_MAX',
]);

export class SimVehicle implements TelemetrySource {
  readonly index: number;
  readonly sysid: number;
  readonly home: GeoPoint;
  readonly body: MultirotorFleet;
  readonly params: ParamStore;
  readonly commander: Commander;
  readonly shells: VehicleLinkShell[] = [];
  gpsOk = true;
  /** A dead vehicle stops answering and streaming; its motors stop and it falls. */
  dead = false;
  private readonly clock: () => number;
  private lastNavMode = -1;
  private lastIntendedMode = -1;

  constructor(o: SimVehicleOptions) {
    this.index = o.index;
    this.sysid = o.sysid;
    this.home = o.home;
    this.body = o.body;
    this.clock = o.clock;
    this.params = new ParamStore({ MAV_SYS_ID: o.sysid, ...o.params });
    this.commander = new Commander({ params: this.params, estimatorReadyS: o.estimatorReadyS });
    this.commander.homeAltitudeAmslM = o.home.altAmslM;
    this.body.params = dynamicsLimits(this.params, this.body.params);
    // PARAM_SET of a limit reaches the dynamics at once, as PX4's position controller picks it up.
    this.params.onChange((name) => {
      if (LIMIT_PARAMS.has(name)) this.body.params = dynamicsLimits(this.params, this.body.params);
    });
  }

  get timeS(): number {
    return this.clock();
  }

  private sense(): VehicleSense {
    const b = this.body;
    return {
      positionNedM: b.positionNedM,
      velocityNedMS: b.velocityNedMS,
      yawRad: b.yawRad[0],
      landed: b.landed[0] === 1,
      batteryRemaining: b.batteryRemaining[0],
      batteryFailed: b.batteryFailed[0] === 1,
      gpsOk: this.gpsOk,
    };
  }

  /** Control for the tick starting at `nowS`, then the dynamics over `dtS`. */
  step(nowS: number, dtS: number): void {
    const b = this.body;
    if (this.dead) {
      b.motorsOn[0] = 0;
    } else {
      const out = this.commander.update(nowS, dtS, this.sense());
      b.velocitySetpointNedMS[0] = out.velocityNedMS[0];
      b.velocitySetpointNedMS[1] = out.velocityNedMS[1];
      b.velocitySetpointNedMS[2] = out.velocityNedMS[2];
      b.yawSetpointRad[0] = out.yawRad;
      b.motorsOn[0] = out.motorsOn ? 1 : 0;
    }
    b.step(dtS);
  }

  /** After a step: the streams due at `nowS` on every link, and CURRENT_MODE at once on a mode change. */
  emit(nowS: number): void {
    if (this.dead) return;
    const c = this.commander;
    const nav = customModeOf(c.navState);
    const intended = customModeOf(c.userMode);
    const modeChanged = this.lastNavMode !== -1 && (nav !== this.lastNavMode || intended !== this.lastIntendedMode);
    this.lastNavMode = nav;
    this.lastIntendedMode = intended;
    for (const shell of this.shells) {
      // CURRENT_MODE exists to tell a mode change sooner than the 1 Hz HEARTBEAT: send it on the change too.
      if (modeChanged) shell.send(currentMode(this));
      shell.sendDue(nowS);
    }
  }
}
