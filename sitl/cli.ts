/**
 * `aerie sitl`: start N simulated PX4 vehicles in one process, print one line per vehicle with its ports and system
 * id, run until SIGINT/SIGTERM, and close the sockets. Faults come from a --fault schedule and from JSON lines on
 * stdin; a malformed line is reported on stderr and ignored.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { argvToRaw, configHelp, parseConfig } from '../shared/config/index.js';
import { AerieError, isAerieError } from '../shared/errors.js';
import { parseGeoPoint } from '../shared/geo/index.js';
import { componentLogger, rootLogger } from '../shared/log/index.js';
import { SITL_CONFIG } from './config.js';
import { FAULT_KINDS, parseFaultLine, parseFaultSchedule } from './faults.js';
import { SitlFleet } from './fleet.js';
import { runRealtime } from './runner.js';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly stdin: Readable | null;
  /** Stops the run like SIGINT (tests). */
  readonly signal?: AbortSignal;
  /** Called once the fleet is up, with it (tests). */
  readonly onStarted?: (fleet: SitlFleet) => void;
}

export const USAGE = `Usage: aerie sitl [options]

Simulated PX4 v1.15 multicopters speaking MAVLink 2 over UDP. Vehicle i listens on --onboard-port + i and streams
to --companion-port + i (onboard link), listens on --gcs-port + i and streams to --gcs-remote-port (GCS link),
system id 1+i, component 1.

Faults (--fault schedule or JSON lines on stdin): ${FAULT_KINDS.join(', ')}.
  JSON line: {"vehicle":0,"fault":"gust","northMS":8}   {"vehicle":"all","fault":"packet-loss","percent":20}
  Optional "atS" schedules it in simulated time; "durationS" ends link faults and GPS loss after that long.

Options:
`;

const DEFAULT_IO: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

export async function main(argv: string[], io: CliIo = DEFAULT_IO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${USAGE}${configHelp(SITL_CONFIG)}\n  --help\n      Print this help.\n`);
    return 0;
  }
  let config: ReturnType<typeof parseConfig<typeof SITL_CONFIG>>;
  try {
    const { raw, positional } = argvToRaw(SITL_CONFIG, argv);
    if (positional.length > 0) throw new AerieError('CLI_USAGE', `unexpected argument(s): ${positional.join(' ')}`);
    config = parseConfig(SITL_CONFIG, raw);
  } catch (err) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\nRun "aerie sitl --help" for the options.\n`);
    return 2;
  }
  const home = parseGeoPoint(config.home);
  const schedule =
    config.fault === undefined ? { ok: true as const, value: [] } : parseFaultSchedule(config.fault, config.vehicles);
  if (home === null || !schedule.ok) {
    const why =
      home === null
        ? `--home: expected lat,lon,alt (got ${JSON.stringify(config.home)})`
        : `--fault: ${schedule.ok ? '' : schedule.reason}`;
    io.stderr.write(
      `${new AerieError(home === null ? 'CONFIG_INVALID_VALUE' : 'SITL_SCENARIO_INVALID', why).message}\n`,
    );
    return 2;
  }
  rootLogger.level = config.logLevel;
  const log = componentLogger('sitl');

  let fleet: SitlFleet;
  try {
    fleet = await SitlFleet.start({
      vehicles: config.vehicles,
      seed: config.seed,
      home,
      homeSpacingM: config.homeSpacing,
      bindHost: config.bindHost,
      remoteHost: config.remoteHost,
      ports: {
        onboardListenBase: config.onboardPort,
        onboardRemoteBase: config.companionPort,
        gcsListenBase: config.gcsPort,
        gcsRemotePort: config.gcsRemotePort,
      },
      gcsLink: config.gcsLink,
      estimatorReadyS: config.estimatorReady,
      tickS: config.tick,
      logger: log,
    });
  } catch (err) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return isAerieError(err, 'PORT_IN_USE') ? 3 : 1;
  }
  for (const f of schedule.value) fleet.scheduleFault(f.atS, f.vehicle, f.fault);

  for (const e of fleet.endpoints) {
    const gcs = e.gcs
      ? `gcs udp ${config.bindHost}:${e.gcs.listenPort} -> ${config.remoteHost}:${e.gcs.remotePort}`
      : 'gcs off';
    io.stdout.write(
      `vehicle ${e.index}: sysid ${e.sysid} compid 1, onboard udp ${config.bindHost}:${e.onboard.listenPort} -> ${config.remoteHost}:${e.onboard.remotePort}, ${gcs}\n`,
    );
  }

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  io.signal?.addEventListener('abort', onSignal, { once: true });
  const lines = io.stdin && config.stdin ? readControlLines(io.stdin, fleet, io) : null;
  io.onStarted?.(fleet);
  try {
    await runRealtime(fleet, {
      speed: config.flatOut ? 1e9 : config.speed,
      signal: stop.signal,
      statusEveryS: config.statusEvery,
      onStatus: (f) => log.debug({ timeS: f.timeS, vehicles: f.statuses().map(brief) }, 'status'),
      ...(config.flatOut ? { periodMs: 0 } : {}),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    lines?.close();
    await fleet.close();
  }
  log.info({ timeS: fleet.timeS }, 'stopped');
  return 0;
}

function brief(s: ReturnType<SitlFleet['status']>): Record<string, unknown> {
  return {
    i: s.index,
    mode: s.mode,
    armed: s.armed,
    altM: Number(s.altitudeM.toFixed(2)),
    battery: Number(s.batteryRemaining.toFixed(3)),
  };
}

/** JSON fault lines from `input`; bad lines are reported on stderr and ignored. */
function readControlLines(input: Readable, fleet: SitlFleet, io: CliIo): { close(): void } {
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  rl.on('line', (line) => {
    n++;
    if (line.trim() === '') return;
    const parsed = parseFaultLine(line, fleet.count);
    if (!parsed.ok) {
      io.stderr.write(`SITL_SCENARIO_INVALID: control line ${n} ignored: ${parsed.reason}\n`);
      return;
    }
    const { vehicle, fault, atS } = parsed.value;
    if (atS !== undefined) fleet.scheduleFault(atS, vehicle, fault);
    else fleet.injectFault(vehicle, fault);
  });
  // Closing stdin (EOF) is normal: the simulation keeps running until a signal.
  rl.on('error', () => undefined);
  return { close: () => rl.close() };
}
