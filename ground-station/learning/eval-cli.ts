/**
 * `aerie eval POLICY.onnx`: fly N deliveries in the vectorised environment at the onboard rate, through the onboard
 * safety filter, with the policy loaded by the onboard loader; report success rate, time to deliver, constraint cost,
 * interventions per safety layer and breaches; optionally plot them (with a learning curve) and print JSON.
 */
import { argvToRaw, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';
import { parseEnvConfig } from './env/env-config.js';
import { type EvaluationSection, evaluate, vectorisedSection } from './evaluate.js';
import { configBeside, readJsonFile, writeOutput } from './files.js';
import type { IterationRecord } from './history.js';
import { trainingPlotSvg } from './plot.js';
import { evaluationLines } from './report.js';

export const EVAL_CLI_SCHEMA = declareConfig({
  shield: { type: 'string', default: undefined, optional: true, doc: 'Shield (cost critic) ONNX for the filter.' },
  shieldMode: {
    type: 'enum',
    values: ['off', 'advisory', 'enforce'] as const,
    default: 'advisory',
    doc: "The safety filter's shield layer with --shield.",
  },
  episodes: { type: 'integer', default: 200, min: 1, max: 100_000, doc: 'Deliveries flown (all at once).' },
  seed: { type: 'integer', default: 7, min: 0, max: 2 ** 31 - 1, doc: 'Scenario seed.' },
  controlHz: { type: 'number', default: 50, unit: 'Hz', min: 1, max: 500, doc: 'Policy rate (onboard: 50).' },
  safety: {
    type: 'enum',
    values: ['apply', 'probe', 'off'] as const,
    default: 'apply',
    doc: 'apply: onboard safety filter flies; probe: count barrier would-be interventions only; off: raw policy.',
  },
  config: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Training config whose env section sets the task (default: config.json beside the policy, else defaults).',
  },
  history: { type: 'string', default: undefined, optional: true, doc: 'history.json of the run, for the plot.' },
  plot: { type: 'string', default: undefined, optional: true, doc: 'Write the SVG plot here.' },
  out: { type: 'string', default: undefined, optional: true, doc: 'Write the JSON report here.' },
  json: { type: 'boolean', default: false, doc: 'Print one JSON object on stdout.' },
  help: { type: 'boolean', default: false, doc: 'Show this help.' },
});

/** Sections beyond the built-in one (the SITL deliveries plug in here). */
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
  const report = await evaluate({
    policy: policyPath,
    shield: opts.shield ?? null,
    sections: [
      vectorisedSection({
        env,
        episodes: opts.episodes,
        seed: opts.seed,
        controlHz: opts.controlHz,
        safety: opts.safety,
        shieldMode: opts.shieldMode,
      }),
      ...extraSections,
    ],
  });
  if (opts.out) await writeOutput(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  if (opts.plot) {
    const history = opts.history ? ((await readJsonFile(opts.history, 'history')) as IterationRecord[]) : null;
    await writeOutput(opts.plot, trainingPlotSvg(history, report.sections.vectorised ?? null));
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${evaluationLines(report).join('\n')}\n`);
  return 0;
}
