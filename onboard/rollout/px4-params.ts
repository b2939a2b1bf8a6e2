/**
 * The autopilot's actual parameters, read one by one with PARAM_REQUEST_READ (by name, index -1) and answered with
 * PARAM_VALUE, as PX4 does (shared/bundle checkPx4Params compares them with what a bundle expects). INT32 parameters travel bytewise in the float field
 * (PX4 and QGroundControl do so), REAL32 as themselves.
 */
import { common, type MavlinkLink } from '../../shared/mavlink/index.js';
import type { MavlinkSource } from '../link/index.js';

const MAV_PARAM_TYPE_INT32 = 6;
const scratch = new DataView(new ArrayBuffer(4));

/** The value a PARAM_VALUE carries, decoded by its type. */
export function paramValueOf(wireValue: number, mavType: number): number {
  if (mavType !== MAV_PARAM_TYPE_INT32) return wireValue;
  scratch.setFloat32(0, wireValue, true);
  return scratch.getInt32(0, true);
}

export interface ParamReadOptions {
  /** Per parameter, before a new request (ms). */
  readonly timeoutMs?: number;
  /** Requests per parameter before it counts as absent. */
  readonly attempts?: number;
}

/** The parameter's value, or null when the autopilot did not answer (PX4 stays silent about unknown names). */
export type ParamReadings = Readonly<Record<string, number | null>>;

/**
 * Read `names` from the autopilot at `target` over `mavlink`. Sequential, so a slow serial link is not flooded;
 * each unanswered request is retried. Never throws: a parameter nobody answers reads as null.
 */
export async function readPx4Params(
  mavlink: Pick<MavlinkLink, 'send' | 'on'>,
  target: MavlinkSource,
  names: readonly string[],
  options: ParamReadOptions = {},
): Promise<ParamReadings> {
  const timeoutMs = options.timeoutMs ?? 500;
  const attempts = options.attempts ?? 3;
  const got = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const off = mavlink.on<common.ParamValue>(common.ParamValue, (m, frame) => {
    if (frame.sysid !== target.sysid) return;
    const name = m.paramId.replace(/\0.*$/s, '');
    got.set(name, paramValueOf(m.paramValue, m.paramType));
    waiting.get(name)?.();
  });
  try {
    for (const name of names) {
      for (let i = 0; i < attempts && !got.has(name); i++) {
        const answered = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          waiting.set(name, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        const req = new common.ParamRequestRead();
        req.targetSystem = target.sysid;
        req.targetComponent = target.compid;
        req.paramId = name;
        req.paramIndex = -1;
        try {
          mavlink.send(req);
        } catch {
          // A closed link answers nothing: the parameter reads as absent.
        }
        await answered;
        waiting.delete(name);
      }
    }
  } finally {
    off();
  }
  const out: Record<string, number | null> = {};
  for (const name of names) out[name] = got.get(name) ?? null;
  return out;
}
