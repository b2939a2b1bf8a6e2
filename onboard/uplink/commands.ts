/**
 * Commands from the station applied through the runtime port, each answered with an ack result: accepted, rejected
 * (refused as asked: busy, no home, malformed...), failed (applying it threw) or unsupported.
 */
import type { Airspace, GeoPoint } from '../../shared/geo/index.js';
import { geoToNed } from '../../shared/geo/index.js';
import type { AckResult, AssignDelivery, Command, CommandKind } from '../../shared/protocol/index.js';
import type { MissionPlan } from '../mission/index.js';
import { airspaceToHomeFrame } from './fleet.js';
import type { UplinkRuntimePort } from './ports.js';

/** What every drone accepts (the birth lists it); drones with onboard rollouts add POLICY_COMMANDS. */
export const SUPPORTED_COMMANDS: readonly CommandKind[] = [
  'assign-delivery',
  'abort',
  'return',
  'land',
  'emergency-stop',
  'set-airspace',
];

/**
 * A pickup farther than this from home is a leg this drone does not fly yet (m). Drones wait on pads around their
 * depot and are loaded there, so the depot may be a few pads away from a drone's own home.
 */
export const PICKUP_AT_HOME_TOLERANCE_M = 50;
/** dropNeM and dropGeo given together must agree within this (m). */
export const DROP_AGREEMENT_M = 10;

/** Answered by onboard/rollout when the runtime has a policy folder (--policy-dir). */
export const POLICY_COMMANDS: readonly CommandKind[] = [
  'install-policy',
  'activate-policy',
  'shadow-policy',
  'revert-policy',
];

/** The commands this drone answers. */
export function supportedCommands(port: UplinkRuntimePort): CommandKind[] {
  return port.rollout ? [...SUPPORTED_COMMANDS, ...POLICY_COMMANDS] : [...SUPPORTED_COMMANDS];
}

export interface CommandAnswer {
  readonly result: AckResult;
  readonly reason?: string;
}

export interface CommandContext {
  readonly port: UplinkRuntimePort;
  home(): GeoPoint | null;
  /** The task the uplink flies now; set on an accepted assignment. */
  setTask(taskId: string): void;
}

const accepted: CommandAnswer = { result: 'accepted' };
const rejected = (reason: string): CommandAnswer => ({ result: 'rejected', reason });

function inProgress(port: UplinkRuntimePort): { phase: string } | null {
  const mission = port.mission();
  return mission && mission.outcome === null && mission.phase !== 'idle' && mission.phase !== 'done' ? mission : null;
}

function assign(cmd: AssignDelivery, ctx: CommandContext): CommandAnswer {
  const { port } = ctx;
  if (!port.autopilotLink().up) return rejected('the autopilot link is down');
  const busy = inProgress(port);
  if (busy) return rejected(`busy: a delivery is in progress (phase ${busy.phase})`);
  if (cmd.pickupNeM && Math.hypot(cmd.pickupNeM[0], cmd.pickupNeM[1]) > PICKUP_AT_HOME_TOLERANCE_M) {
    return { result: 'unsupported', reason: 'pickup away from home is not flown yet: load the parcel at home' };
  }
  const home = ctx.home();
  let dropNeM: readonly [number, number];
  if (cmd.dropGeo && !cmd.dropNeM && !home)
    return rejected('home position unknown: cannot place dropGeo; send dropNeM');
  const fromGeo = (g: { latDeg: number; lonDeg: number }, h: GeoPoint): [number, number] => {
    const ned = geoToNed(h, { latDeg: g.latDeg, lonDeg: g.lonDeg, altAmslM: h.altAmslM });
    return [ned.n, ned.e];
  };
  if (cmd.dropNeM) {
    dropNeM = cmd.dropNeM;
    if (cmd.dropGeo && home) {
      const g = fromGeo(cmd.dropGeo, home);
      const apartM = Math.hypot(g[0] - dropNeM[0], g[1] - dropNeM[1]);
      if (apartM > DROP_AGREEMENT_M) {
        return rejected(`dropNeM and dropGeo are ${apartM.toFixed(0)} m apart (home frames differ?)`);
      }
    }
  } else {
    dropNeM = fromGeo(cmd.dropGeo as { latDeg: number; lonDeg: number }, home as GeoPoint);
  }
  const plan: MissionPlan = {
    dropNeM,
    returnNeM: [0, 0],
    cruiseAltM: cmd.cruiseAltM,
    releaseAltM: cmd.releaseAltM ?? 5,
    releaseBy: cmd.releaseBy,
    arrivalRadiusM: 2,
  };
  ctx.setTask(cmd.taskId);
  port.fly(plan);
  return accepted;
}

function setAirspace(airspace: Airspace, origin: GeoPoint | undefined, ctx: CommandContext): CommandAnswer {
  let inHomeFrame = Object.freeze(airspace) as Airspace;
  if (origin) {
    const home = ctx.home();
    if (!home) return rejected('home position unknown: cannot convert the airspace from its origin');
    const r = airspaceToHomeFrame(airspace, origin, home);
    if (!r.ok) return rejected(r.reason);
    inHomeFrame = r.value;
  }
  ctx.port.setAirspace(inHomeFrame);
  return accepted;
}

/**
 * Apply one decoded command. Never throws: a throw while applying is answered 'failed'. Policy commands are answered
 * once the rollout has done them (a promise).
 */
export function applyCommand(cmd: Command, ctx: CommandContext): CommandAnswer | Promise<CommandAnswer> {
  try {
    switch (cmd.kind) {
      case 'assign-delivery':
        return assign(cmd, ctx);
      case 'abort':
      case 'return':
      case 'land': {
        const mission = inProgress(ctx.port) ? ctx.port.mission() : null;
        if (!mission) return rejected('no delivery in progress');
        mission.request(cmd.kind, 'operator');
        return accepted;
      }
      case 'emergency-stop':
        ctx.port.triggerEmergencyStop();
        return accepted;
      case 'set-airspace':
        return setAirspace(cmd.airspace as Airspace, cmd.origin, ctx);
      case 'activate-policy':
      case 'install-policy':
      case 'shadow-policy':
      case 'revert-policy': {
        const rollout = ctx.port.rollout;
        if (!rollout)
          return {
            result: 'unsupported',
            reason: 'this drone has no policy slots (start aerie onboard with --policy-dir and --trusted-keys)',
          };
        return rollout.command(cmd).catch((err: unknown) => ({
          result: 'failed' as const,
          reason: err instanceof Error ? err.message : String(err),
        }));
      }
    }
  } catch (err) {
    return { result: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }
}
