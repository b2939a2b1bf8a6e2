/**
 * Station start-up for the registry: its release key (generated on first start under the data folder, or given) and
 * the seed: the drones' current default policy, packed and signed, registered as the active baseline.
 */

import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultPolicyPath, defaultShieldPath } from '../../onboard/policy/index.js';
import {
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  readPrivateKeyFile,
  readTrustedKeys,
  signBundle,
  type TrustedKey,
  trustedKey,
  writeReleaseKeys,
} from '../../shared/bundle/index.js';
import { AerieError, isAerieError } from '../../shared/errors.js';
import { packFromFiles } from './policy-pack.js';
import type { PolicyRegistry, PublishResult } from './registry.js';

export interface ReleaseKeys {
  readonly privateKey: KeyObject;
  /** The station's own public key plus any others it was told to trust. */
  readonly trustedKeys: TrustedKey[];
  readonly keyId: string;
}

/**
 * The station's release key at `keyFile` (created with its .pub beside it when `create` and missing), and the keys
 * it trusts: its own, and the .pub files of `trustedKeysDir` when given.
 */
export function stationReleaseKeys(
  keyFile: string,
  options: { create: boolean; trustedKeysDir?: string },
): ReleaseKeys {
  if (!existsSync(keyFile)) {
    if (!options.create) throw new AerieError('FILE_NOT_FOUND', `no release key at ${keyFile}`, { keyFile });
    if (!keyFile.endsWith(PRIVATE_KEY_FILE)) {
      throw new AerieError(
        'BUNDLE_KEY_INVALID',
        `a release key to create must be named ${PRIVATE_KEY_FILE}: ${keyFile}`,
      );
    }
    writeReleaseKeys(dirname(keyFile));
  }
  const privateKey = readPrivateKeyFile(keyFile);
  const own = trustedKey(privateKey, join(dirname(keyFile), PUBLIC_KEY_FILE));
  const others = options.trustedKeysDir ? readTrustedKeys(options.trustedKeysDir) : [];
  return { privateKey, keyId: own.keyId, trustedKeys: [own, ...others.filter((k) => k.keyId !== own.keyId)] };
}

export interface SeedOptions {
  readonly policyPath?: string;
  readonly shieldPath?: string | null;
  readonly privateKey: KeyObject;
  readonly nowMs: number;
}

/**
 * Register the default policy (onboard/policies/default) as the active baseline, with its evaluation report when the
 * eval-report.json beside it evaluated this very model.
 */
export async function seedDefaultBaseline(registry: PolicyRegistry, options: SeedOptions): Promise<PublishResult> {
  const policyPath = options.policyPath ?? defaultPolicyPath();
  const shieldPath = options.shieldPath === undefined ? defaultShieldPath() : options.shieldPath;
  const evalReportPath = join(dirname(policyPath), 'eval-report.json');
  const files = {
    policyPath,
    ...(shieldPath && existsSync(shieldPath) ? { shieldPath } : {}),
    label: 'default',
    createdAtMs: options.nowMs,
  };
  let packed: Awaited<ReturnType<typeof packFromFiles>>;
  try {
    packed = await packFromFiles({ ...files, ...(existsSync(evalReportPath) ? { evalReportPath } : {}) });
  } catch (err) {
    // A report of an earlier model (or an unreadable one) does not keep the baseline out: it flies already.
    if (!isAerieError(err, 'POLICY_EVAL_GATE') && !isAerieError(err, 'CONFIG_INVALID_VALUE')) throw err;
    packed = await packFromFiles(files);
  }
  return registry.seedBaseline(signBundle(packed.bytes, options.privateKey), options.nowMs);
}
