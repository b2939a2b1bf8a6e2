/**
 * The shipped default policy: the go-to-goal controller from shared/policy, as a file at
 * onboard/policies/go-to-goal.onnx (for bundles, the registry's seed and operators) and in memory (so a drone
 * always has a policy to fly even if the file is missing).
 *
 * The file is generated, not hand-edited: `writeDefaultPolicyFile` writes it when missing or stale. The unit tests
 * call it, and so does `node dist/onboard/policy/write-default-policy.js` (run after the build).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGoToGoalModel, GO_TO_GOAL_NAME } from '../../shared/policy/index.js';
import { type LoadOptions, loadPolicy } from './load.js';
import type { PolicyRunner } from './runner.js';

/** The default policy's place in the package. */
export const DEFAULT_POLICY_RELATIVE_PATH = join('onboard', 'policies', `${GO_TO_GOAL_NAME}.onnx`);

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

/** Write the go-to-goal model to `path` unless an identical file is there. Atomic (write then rename). */
export async function writeDefaultPolicyFile(
  path: string = defaultPolicyPath(),
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
export function loadDefaultPolicy(options: LoadOptions = {}): Promise<PolicyRunner> {
  return loadPolicy(buildGoToGoalModel(), { label: `builtin:${GO_TO_GOAL_NAME}`, ...options });
}
