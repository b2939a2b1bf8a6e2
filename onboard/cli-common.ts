/**
 * What `aerie onboard` and `aerie fly` share: the runtime's flags, building the runtime from them, and the
 * fail-closed process hooks (a crash stops the stream and asks PX4 to return before the process exits).
 */
import { readFileSync } from 'node:fs';
import { declareConfig } from '../shared/config/index.js';
import { AerieError } from '../shared/errors.js';
import { armProcessFault, parseInjectedFault } from './fault-injection.js';
import { OnboardRuntime, type RuntimeOptions, readAirspaceFile } from './runtime.js';

export const RUNTIME_FLAGS = declareConfig({
  mavlink: {
    type: 'string',
    default: 'udp://:14540',
    doc: 'Autopilot link: udp://:PORT (reply to sender), udp://HOST:PORT or serial:PATH:BAUD.',
  },
  policy: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'ONNX policy file (default: the shipped default policy).',
  },
  shield: { type: 'string', default: undefined, optional: true, doc: 'ONNX safety shield (cost critic), optional.' },
  airspace: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Airspace JSON file: geofence, no-fly zones, altitude floor.',
  },
  signingKey: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'MAVLink 2 signing key file (32 bytes or 64 hex characters).',
  },
  config: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'JSON file with sections "link", "control", "safety" and, for aerie onboard, "uplink" (see docs).',
  },
  timeScale: {
    type: 'number',
    default: 1,
    unit: 'x',
    min: 1,
    max: 20,
    doc: 'Simulation only: run the runtime clock this many times faster than real time, to match aerie sitl --speed.',
  },
});

interface RuntimeFlags {
  readonly mavlink: string;
  readonly policy: string | undefined;
  readonly shield: string | undefined;
  readonly airspace: string | undefined;
  readonly signingKey: string | undefined;
  readonly config: string | undefined;
  readonly timeScale: number;
}

/** The --config file: sections "link", "control", "safety" and, for `aerie onboard`, "uplink". */
export function readSections(path: string): {
  link?: Record<string, unknown>;
  control?: Record<string, unknown>;
  safety?: Record<string, unknown>;
  uplink?: Record<string, unknown>;
} {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AerieError('CONFIG_INVALID_VALUE', `config file ${path}: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AerieError(
      'CONFIG_INVALID_VALUE',
      `config file ${path}: expected an object with link/control/safety sections`,
    );
  }
  const unknown = Object.keys(json).filter((k) => !['link', 'control', 'safety', 'uplink'].includes(k));
  if (unknown.length > 0)
    throw new AerieError(
      'CONFIG_UNKNOWN_KEY',
      `config file ${path}: unknown section(s) ${unknown.join(', ')}; known: link, control, safety, uplink`,
    );
  return json as ReturnType<typeof readSections>;
}

export async function createRuntime(flags: RuntimeFlags, extra: Partial<RuntimeOptions> = {}): Promise<OnboardRuntime> {
  const sections = flags.config ? readSections(flags.config) : {};
  return OnboardRuntime.create({
    link: { ...sections.link, mavlink: flags.mavlink, ...(flags.signingKey ? { signingKey: flags.signingKey } : {}) },
    control: sections.control,
    safety: sections.safety,
    policyPath: flags.policy,
    shieldPath: flags.shield,
    airspace: flags.airspace ? readAirspaceFile(flags.airspace) : undefined,
    timeScale: flags.timeScale,
    ...extra,
  });
}

/**
 * On an uncaught error: stop streaming at once and ask the autopilot to return, then exit. A hard kill needs no
 * hook: the stream stops by itself and PX4's offboard-loss failsafe takes over.
 */
export function installFailClosedHooks(
  runtime: OnboardRuntime,
  exit: (code: number) => void = process.exit,
): () => void {
  const crash = (err: unknown) => {
    process.stderr.write(`aerie onboard: fatal: ${err instanceof Error ? err.message : String(err)}; failing closed\n`);
    void runtime.failClosed(`uncaught: ${String(err)}`).finally(() => exit(70));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  armProcessFault(parseInjectedFault(process.env.AERIE_FAULT_INJECT), runtime.timeScale);
  return () => {
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
  };
}
