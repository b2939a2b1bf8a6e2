/**
 * Script: write onboard/policies/go-to-goal.onnx (or the path given) from its generator.
 * `node dist/onboard/policy/write-default-policy.js [path]`, or `npx tsx onboard/policy/write-default-policy.ts`.
 */
import { writeDefaultPolicyFile } from './default-policy.js';

const { path, written } = await writeDefaultPolicyFile(process.argv[2]);
console.log(written ? `wrote ${path}` : `${path} is up to date`);
