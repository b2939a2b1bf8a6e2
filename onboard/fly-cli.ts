/**
 * `aerie fly --mavlink URL --to NORTH,EAST [--policy FILE] [--alt M] [--json]`: fly one delivery from where the
 * vehicle stands and print a report; exit non-zero when the delivery failed. The bench test before service.
 */

import { argvToRaw, configHelp, declareConfig, parseConfig } from '../shared/config/index.js';
import { AerieError } from '../shared/errors.js';
import { createRuntime, installFailClosedHooks, RUNTIME_FLAGS } from './cli-common.js';
import { FlightRecorder, formatFlightReport } from './flight-report.js';

export const FLY_SCHEMA = declareConfig({
  ...RUNTIME_FLAGS,
  to: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Drop point as NORTH,EAST metres from where the vehicle stands (home).',
  },
  alt: { type: 'number', default: 20, unit: 'm', min: 3, max: 120, doc: 'Cruise altitude above home.' },
  releaseAlt: {
    type: 'number',
    default: 5,
    unit: 'm',
    min: 1,
    max: 50,
    doc: 'Altitude above home at which the parcel is lowered.',
  },
  releaseBy: {
    type: 'enum',
    values: ['hover', 'land'] as const,
    default: 'hover',
    doc: 'Lower the parcel from a hover, or land and disarm.',
  },
  arrivalRadius: {
    type: 'number',
    default: 2,
    unit: 'm',
    min: 0.5,
    max: 20,
    doc: 'Distance at which a waypoint counts as reached.',
  },
  timeout: { type: 'number', default: 900, unit: 's', min: 10, max: 7200, doc: 'Give up (and land) after this long.' },
  json: { type: 'boolean', default: false, doc: 'Print the report as one JSON object.' },
  help: { type: 'boolean', default: false, doc: 'Show this help.' },
});

export function parseNorthEast(text: string): [number, number] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x))) {
    throw new AerieError('CONFIG_INVALID_VALUE', `--to expects NORTH,EAST in metres (got ${JSON.stringify(text)})`);
  }
  return [parts[0], parts[1]];
}

export async function main(argv: string[]): Promise<number> {
  const { raw } = argvToRaw(FLY_SCHEMA, argv);
  const cfg = parseConfig(FLY_SCHEMA, raw);
  if (cfg.help) {
    process.stdout.write(`usage: aerie fly --mavlink URL --to NORTH,EAST [options]\n\n${configHelp(FLY_SCHEMA)}\n`);
    return 0;
  }
  if (!cfg.to) throw new AerieError('CLI_USAGE', '--to NORTH,EAST is required (metres from where the vehicle stands)');
  const drop = parseNorthEast(cfg.to);
  const runtime = await createRuntime(cfg);
  const recorder = new FlightRecorder();
  runtime.onTick((r) => recorder.record(r, runtime.link.state()));
  const stopOnSignal = () => {
    runtime.loop.currentMission?.request('land');
  };
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);
  const unhook = installFailClosedHooks(runtime);
  await runtime.start();
  try {
    if (!(await runtime.waitForAutopilot(15_000))) {
      process.stderr.write(`aerie fly: no autopilot heartbeat on ${cfg.mavlink} within 15 s\n`);
      return 3;
    }
    // --timeout is on the runtime's clock (simulated seconds under --time-scale), like every other duration.
    const timeout = runtime.clock.setTimer(() => runtime.loop.currentMission?.request('land'), cfg.timeout * 1000);
    const result = await runtime.fly({
      dropNeM: drop,
      returnNeM: [0, 0],
      cruiseAltM: cfg.alt,
      releaseAltM: cfg.releaseAlt,
      releaseBy: cfg.releaseBy,
      arrivalRadiusM: cfg.arrivalRadius,
    });
    runtime.clock.clearTimer(timeout);
    const report = recorder.finish(result.outcome, result.reason, runtime.loop.stats.summary());
    process.stdout.write(cfg.json ? `${JSON.stringify(report)}\n` : `${formatFlightReport(report)}\n`);
    return result.outcome === 'delivered' ? 0 : 1;
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    unhook();
    await runtime.stop();
  }
}
