/**
 * `aerie eval POLICY.onnx`: fly N deliveries in the vectorised environment at the onboard rate, through the onboard
 * safety filter (and again with the filter off, for the breaches a raw policy would make), then M full deliveries
 * through the real onboard runtime against the simulated PX4 fleet (SITL) with wind, a geofence and a no-fly zone;
 * report success rate, time to deliver, constraint cost, interventions per safety layer and breaches; optionally plot
 * them (with a learning curve) and print JSON. The headline figures (successRate, interventionShare,
 * breachesFilterOn, breachesFilterOff) are the SITL ones, at the top level of the JSON and in their sections.
 */
import { existsSync } from 'node:fs';
import { argvToRaw, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';
import { parseEnvConfig } from './env/env-config.js';
import { type EvaluationReport, type EvaluationSection, evaluate, vectorisedSection } from './evaluate.js';
import { configBeside, readJsonFile, writeOutput } from './files.js';
import type { IterationRecord } from './history.js';
import { trainingPlotSvg } from './plot.js';
import { evaluationLines, headline } from './report.js';
import { sitlSection } from './sitl-eval/index.js';

export const EVAL_CLI_SCHEMA = declareConfig({
  shield: { type: 'string', default: undefined, optional: true, doc: 'Shield (cost critic) ONNX for the filter.' },
  shieldMode: {
    type: 'enum',
    values: ['off', 'advisory', 'enforce'] as const,
    default: 'advisory',
    doc: "The safety filter's shield layer with --shield.",
  },
  episodes: { type: 'integer', default: 200, min: 1, max: 100_000, doc: 'Vectorised deliveries (all at once).' },
  seed: { type: 'integer', default: 7, min: 0, max: 2 ** 31 - 1, doc: 'Scenario seed (vectorised and SITL).' },
  controlHz: { type: 'number', default: 50, unit: 'Hz', min: 1, max: 500, doc: 'Policy rate (onboard: 50).' },
  safety: {
    type: 'enum',
    values: ['apply', 'probe', 'off'] as const,
    default: 'apply',
    doc: 'apply: onboard safety filter flies; probe: count barrier would-be interventions only; off: raw policy.',
  },
  filterOff: {
    type: 'boolean',
    default: true,
    doc: 'Also fly the vectorised deliveries with the filter off, for the breaches of the raw policy.',
  },
  sitl: {
    type: 'boolean',
    default: true,
    doc: 'Fly full deliveries through the onboard runtime against the simulated PX4 fleet (--no-sitl: skip).',
  },
  sitlDeliveries: { type: 'integer', default: 20, min: 1, max: 10_000, doc: 'SITL deliveries.' },
  sitlParallel: { type: 'integer', default: 10, min: 1, max: 64, doc: 'SITL deliveries flown at once.' },
  speed: {
    type: 'number',
    default: 1,
    unit: 'x',
    min: 0.1,
    max: 50,
    doc:
      'SITL speed: simulated seconds per wall second, for the fleet and the runtime (timeScale). Above 1 the ' +
      'telemetry reaches the loop in bursts and the box layer counts more rate-limit interventions than real time.',
  },
  arrivalRadius: {
    type: 'number',
    default: 2,
    unit: 'm',
    min: 0.5,
    max: 20,
    doc: "The SITL missions' arrival radius (as aerie fly --arrival-radius).",
  },
  releaseAlt: { type: 'number', default: 10, unit: 'm', min: 1, max: 100, doc: 'SITL release altitude above home.' },
  sitlTimeout: { type: 'number', default: 600, unit: 's', min: 30, max: 7200, doc: 'SITL delivery time limit.' },
  basePort: {
    type: 'integer',
    default: 0,
    min: 0,
    max: 65000,
    doc: 'First UDP port for the SITL vehicles (0: a random one above 20000).',
  },
  config: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Training config whose env section sets the task (default: config.json beside the policy, else defaults).',
  },
  history: { type: 'string', default: undefined, optional: true, doc: 'history.json of the run, for the plot.' },
  plot: { type: 'string', default: undefined, optional: true, doc: 'Write the SVG plot here.' },
  out: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: "Write the JSON report here (into a run's eval-report.json: its training summary is kept, evaluation replaced).",
  },
  json: { type: 'boolean', default: false, doc: 'Print one JSON object on stdout.' },
  help: { type: 'boolean', default: false, doc: 'Show this help.' },
});

/** Sections beyond the built-in ones (others may plug in here). */
export const extraSections: EvaluationSection[] = [];

export async function main(argv: string[]): Promise<number> {
  const { raw, positional } = argvToRaw(EVAL_CLI_SCHEMA, argv);
  const opts = parseConfig(EVAL_CLI_SCHEMA, raw);
  if (opts.help) {
    process.stdout.write(`usage: aerie eval POLICY.onnx [options]\n\noptions:\n${configHelp(EVAL_CLI_SCHEMA)}\n`);
    return 0;
  }
  if (positional.length !== 1) throw new AerieError('CLI_USAGE', 'aerie eval takes one POLICY.onnx');
  const policyPath = positional[0];
  const configPath = opts.config ?? configBeside(policyPath);
  const file = configPath ? ((await readJsonFile(configPath, 'training config')) as Record<string, unknown>) : {};
  const env = parseEnvConfig((file.env as Record<string, unknown>) ?? {});
  const vectorised = { env, episodes: opts.episodes, seed: opts.seed, controlHz: opts.controlHz };
  const sections: EvaluationSection[] = [
    vectorisedSection({ ...vectorised, safety: opts.safety, shieldMode: opts.shieldMode }),
  ];
  if (opts.filterOff && opts.safety !== 'off') {
    sections.push(vectorisedSection({ ...vectorised, name: 'vectorised-filter-off', safety: 'off' }));
  }
  if (opts.sitl) {
    let done = 0;
    sections.push(
      sitlSection({
        env,
        deliveries: opts.sitlDeliveries,
        parallel: opts.sitlParallel,
        seed: opts.seed,
        speed: opts.speed,
        policyPath,
        shieldPath: opts.shield ?? null,
        arrivalRadiusM: opts.arrivalRadius,
        releaseAltM: opts.releaseAlt,
        timeoutS: opts.sitlTimeout,
        basePort: opts.basePort > 0 ? opts.basePort : undefined,
        onDelivery: (d) => {
          done++;
          const any = d.anyInterventionTicks / Math.max(d.policyTicks, 1);
          process.stderr.write(
            `sitl ${done}/${opts.sitlDeliveries}: delivery ${d.index} (${d.distanceM.toFixed(0)} m, wind ` +
              `${d.windMS.toFixed(1)} m/s) ${d.outcome}${d.reason ? ` (${d.reason})` : ''}, ` +
              `interventions ${(100 * any).toFixed(1)}% of ${d.policyTicks} policy ticks\n`,
          );
        },
      }),
    );
  }
  sections.push(...extraSections);
  const report = await evaluate({ policy: policyPath, shield: opts.shield ?? null, sections });
  const full: EvaluationReport & ReturnType<typeof headline> = { ...headline(report), ...report };
  if (opts.out) await writeOutput(opts.out, `${JSON.stringify(await besideTraining(opts.out, full), null, 2)}\n`);
  if (opts.plot) {
    const history = opts.history ? ((await readJsonFile(opts.history, 'history')) as IterationRecord[]) : null;
    await writeOutput(opts.plot, trainingPlotSvg(history, Object.values(report.sections)));
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(full)}\n`);
  else process.stdout.write(`${evaluationLines(report).join('\n')}\n`);
  return 0;
}

/**
 * What to write to `path`: the report, or, when `path` is the eval-report.json `aerie train` wrote, that training
 * summary with its evaluation replaced by this one and the headline figures on top, so a policy's folder keeps one
 * report of how it was trained and how it flies.
 */
async function besideTraining(path: string, report: object): Promise<object> {
  if (!existsSync(path)) return report;
  let previous: unknown;
  try {
    previous = await readJsonFile(path, 'report');
  } catch {
    return report;
  }
  if (previous === null || typeof previous !== 'object' || !('configHash' in previous && 'stoppedBy' in previous)) {
    return report;
  }
  const { successRate, interventionShare, interventionShareByLayer, breachesFilterOn, breachesFilterOff, summaryFrom } =
    report as Record<string, unknown>;
  return {
    ...previous,
    summaryFrom,
    successRate,
    interventionShare,
    interventionShareByLayer,
    breachesFilterOn,
    breachesFilterOff,
    evaluation: report,
  };
}
