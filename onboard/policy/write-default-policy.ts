/**
 * Script: write onboard/policies/go-to-goal.onnx (or the path given) from its generator (the go-to-goal model for
 * tests and tools; the default policy is the trained onboard/policies/default/policy.onnx).
 * `node dist/onboard/policy/write-default-policy.js [path]`, or `npx tsx onboard/policy/write-default-policy.ts`.
 */
import { writeGoToGoalPolicyFile } from './default-policy.js';

const { path, written } = await writeGoToGoalPolicyFile(process.argv[2]);
console.log(written ? `wrote ${path}` : `${path} is up to date`);
