/**
 * `aerie train`: train a delivery policy with PPO-Lagrangian in the vectorised environment, export it (and its
 * shield) to ONNX with the contract's metadata, evaluate the exported model at the onboard rate, and write the run's
 * files: policy.onnx, shield.onnx, config.json, checkpoint.json, history.json, eval-report.json, training.svg.
 */
import { join } from 'node:path';
import { argvToRaw, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';
import { readCheckpoint } from './checkpoint.js';
import { evaluate, vectorisedSection } from './evaluate.js';
import { readExperienceFile, readJsonFile, writeOutput } from './files.js';
import { trainingPlotSvg } from './plot.js';
import { streamProgress } from './progress.js';
import { evaluationLines, modelMetrics, trainingLines } from './report.js';
import { parseTrainConfig, trainConfigHelp } from './train-config.js';
import { Trainer } from './trainer.js';

export const TRAIN_CLI_SCHEMA = declareConfig({
  config: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Training config JSON { "env": {...}, "train": {...} }.',
  },
  out: { type: 'string', default: '.aerie/train', doc: 'Directory for the run: models, checkpoint, reports, plot.' },
  resume: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: "Continue from this checkpoint ('auto': OUT/checkpoint.json).",
  },
  dataset: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Start from recorded experience (shared/experience file): behaviour cloning and critic warm start.',
  },
  seed: { type: 'integer', default: -1, min: -1, max: 2 ** 31 - 1, doc: 'Override train.seed (-1: keep).' },
  iterations: { type: 'integer', default: 0, min: 0, max: 1_000_000, doc: 'Override train.iterations (0: keep).' },
  evalEpisodes: { type: 'integer', default: -1, min: -1, max: 100_000, doc: 'Override train.finalEvalEpisodes.' },
  json: { type: 'boolean', default: false, doc: 'Print one JSON object (summary and evaluation) on stdout.' },
  help: { type: 'boolean', default: false, doc: 'Show this help.' },
});

const USAGE = `usage: aerie train [--config FILE] [--out DIR] [--resume CHECKPOINT|auto] [--dataset FILE] [--json]\n\n`;

export async function main(argv: string[]): Promise<number> {
  const { raw, positional } = argvToRaw(TRAIN_CLI_SCHEMA, argv);
  if (positional.length > 0) throw new AerieError('CLI_USAGE', `unexpected argument ${positional[0]}`);
  const opts = parseConfig(TRAIN_CLI_SCHEMA, raw);
  if (opts.help) {
    process.stdout.write(`${USAGE}options:\n${configHelp(TRAIN_CLI_SCHEMA)}\n\n${trainConfigHelp()}\n`);
    return 0;
  }
  const file = opts.config ? ((await readJsonFile(opts.config, 'training config')) as Record<string, unknown>) : {};
  const train = { ...((file?.train as Record<string, unknown>) ?? {}) };
  if (opts.seed >= 0) train.seed = opts.seed;
  if (opts.iterations > 0) train.iterations = opts.iterations;
  if (opts.evalEpisodes >= 0) train.finalEvalEpisodes = opts.evalEpisodes;
  const config = parseTrainConfig({ ...file, train });
  const checkpointPath = join(opts.out, 'checkpoint.json');
  const resume = opts.resume ? await readCheckpoint(opts.resume === 'auto' ? checkpointPath : opts.resume) : null;
  const dataset = opts.dataset ? (await readExperienceFile(opts.dataset)).records : null;
  const progress = streamProgress(process.stderr);
  await writeOutput(join(opts.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

  const trainer = await Trainer.create({ config, checkpointPath, progress, resume, dataset });
  try {
    if (resume) progress.message(`resumed from iteration ${resume.iteration} (${resume.envSteps} env steps)`);
    const result = await trainer.run();
    for (const line of trainingLines(result)) progress.message(line);

    const episodes = config.train.finalEvalEpisodes;
    let evaluation = null;
    if (episodes > 0) {
      progress.message(
        `evaluating the exported policy: ${episodes} episodes at 50 Hz through the onboard safety filter`,
      );
      const draft = trainer.exportModels({});
      evaluation = await evaluate({
        policy: draft.policy,
        shield: draft.shield,
        sections: [
          vectorisedSection({
            env: config.env,
            episodes,
            seed: config.train.seed + 1_000_003,
            controlHz: 50,
            safety: 'apply',
            shieldMode: 'advisory',
          }),
        ],
      });
    }
    const section = evaluation?.sections.vectorised ?? null;
    const metrics = modelMetrics(result, section);
    const models = trainer.exportModels(metrics);
    await writeOutput(join(opts.out, 'policy.onnx'), models.policy);
    await writeOutput(join(opts.out, 'shield.onnx'), models.shield);
    await writeOutput(join(opts.out, 'history.json'), `${JSON.stringify(result.history, null, 1)}\n`);
    await writeOutput(join(opts.out, 'training.svg'), trainingPlotSvg(result.history, section));
    const summary = {
      configHash: trainer.configHash,
      stoppedBy: result.stoppedBy,
      iterations: result.iterations,
      envSteps: result.envSteps,
      wallS: result.wallS,
      wallSToTarget: result.wallSToTarget,
      exported:
        result.best && config.train.keepBest ? { iteration: result.best.iteration, ...result.best.validation } : null,
      offline: result.offline,
      teacherStart: result.teacherStart,
      metrics,
      evaluation,
    };
    await writeOutput(join(opts.out, 'eval-report.json'), `${JSON.stringify(summary, null, 2)}\n`);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      const lines = [...trainingLines(result), ...(evaluation ? evaluationLines(evaluation) : [])];
      process.stdout.write(`${lines.join('\n')}\nwrote ${opts.out}/policy.onnx, shield.onnx, training.svg\n`);
    }
    return 0;
  } finally {
    trainer.dispose();
  }
}
