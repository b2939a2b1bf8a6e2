#!/usr/bin/env node
// The `aerie` command: a tiny dispatcher to the compiled sides (dist/, built by `npm install`'s prepare step).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// subcommand -> [module under dist/, one line of meaning]
const COMMANDS = {
  sitl: ['sitl/cli.js', 'Run a fleet of simulated PX4-compatible vehicles over MAVLink/UDP.'],
  onboard: ['onboard/cli.js', 'Run the onboard runtime on a companion computer (policy + safety filter).'],
  fly: ['onboard/fly-cli.js', 'Fly one delivery from where the vehicle stands and print a report.'],
  station: ['ground-station/cli.js', 'Run the ground station (broker, fleet, deliveries, dashboard).'],
  train: ['ground-station/learning/train-cli.js', 'Train a policy with constrained RL.'],
  eval: ['ground-station/learning/eval-cli.js', 'Evaluate a policy in the vectorised env and in SITL.'],
  policy: ['ground-station/rollouts/policy-cli.js', 'Keys and signed policy bundles.'],
  rollout: ['ground-station/rollouts/rollout-cli.js', 'Start and steer policy rollouts.'],
  demo: ['sitl/demo/demo-cli.js', 'The whole system on embedded defaults.'],
};

const available = () => Object.entries(COMMANDS).filter(([, [mod]]) => existsSync(join(root, 'dist', mod)));

function usage() {
  const rows = available().map(([name, [, doc]]) => `  ${name.padEnd(9)} ${doc}`);
  return `usage: aerie <command> [options]   (aerie <command> --help for its options)\n\ncommands:\n${rows.join('\n')}\n`;
}

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(usage());
  process.exit(command === undefined ? 2 : 0);
}
const entry = COMMANDS[command];
if (!entry) {
  process.stderr.write(`CLI_USAGE: unknown command ${JSON.stringify(command)}\n\n${usage()}`);
  process.exit(2);
}
const file = join(root, 'dist', entry[0]);
if (!existsSync(file)) {
  process.stderr.write(`aerie ${command}: ${file} is missing; run \`npm install\` (or \`npm run build\`) first.\n`);
  process.exit(2);
}
const mod = await import(pathToFileURL(file).href);
try {
  process.exitCode = await mod.main(rest);
} catch (err) {
  // Edge errors carry a stable code (docs/errors.md); print it plainly, without a stack.
  const message = err && typeof err === 'object' && 'code' in err ? err.message : (err?.stack ?? String(err));
  process.stderr.write(`aerie ${command}: ${message}\n`);
  process.exitCode = 2;
}
