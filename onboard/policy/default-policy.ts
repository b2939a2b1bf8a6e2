/**
 * The shipped default policy: the PPO-Lagrangian delivery policy trained by `aerie train` (ground-station/learning)
 * from the committed onboard/policies/default/config.json, at onboard/policies/default/policy.onnx, with its shield
 * (cost critic) beside it. The runtime flies it when no other policy is given.
 *
 * The hand-written go-to-goal controller from shared/policy stays available as a simple, predictable model for tests
 * and tools: in memory (`loadGoToGoalPolicy`) and as the generated file onboard/policies/go-to-goal.onnx
 * (`writeGoToGoalPolicyFile`, run by its unit test and by `node dist/onboard/policy/write-default-policy.js`).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGoToGoalModel, GO_TO_GOAL_NAME } from '../../shared/policy/index.js';
import { type LoadOptions, loadPolicy } from './load.js';
import type { PolicyRunner } from './runner.js';

/** The default policy's place in the package. */
export const DEFAULT_POLICY_RELATIVE_PATH = join('onboard', 'policies', 'default', 'policy.onnx');
/** Its shield (cost critic), trained from the same rollouts. */
export const DEFAULT_SHIELD_RELATIVE_PATH = join('onboard', 'policies', 'default', 'shield.onnx');
/** The generated go-to-goal model's place in the package. */
export const GO_TO_GOAL_RELATIVE_PATH = join('onboard', 'policies', `${GO_TO_GOAL_NAME}.onnx`);

/** The package root: the nearest folder above this file with a package.json (works from sources and from dist/). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export function defaultPolicyPath(): string {
  return resolve(packageRoot(), DEFAULT_POLICY_RELATIVE_PATH);
}

export function defaultShieldPath(): string {
  return resolve(packageRoot(), DEFAULT_SHIELD_RELATIVE_PATH);
}

export function goToGoalPolicyPath(): string {
  return resolve(packageRoot(), GO_TO_GOAL_RELATIVE_PATH);
}

/** Load the shipped default policy from its file. */
export function loadDefaultPolicy(options: LoadOptions = {}): Promise<PolicyRunner> {
  return loadPolicy(defaultPolicyPath(), options);
}

/** Write the go-to-goal model to `path` unless an identical file is there. Atomic (write then rename). */
export async function writeGoToGoalPolicyFile(
  path: string = goToGoalPolicyPath(),
): Promise<{ path: string; written: boolean }> {
  const bytes = buildGoToGoalModel();
  const existing = await readFile(path).catch(() => null);
  if (existing !== null && Buffer.compare(existing, bytes) === 0) return { path, written: false };
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return { path, written: true };
}

/** Load the go-to-goal policy from memory (no file needed). */
export function loadGoToGoalPolicy(options: LoadOptions = {}): Promise<PolicyRunner> {
  return loadPolicy(buildGoToGoalModel(), { label: `builtin:${GO_TO_GOAL_NAME}`, ...options });
}
