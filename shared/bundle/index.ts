/**
 * Policy bundles: one signed file carrying a policy (and optionally its shield, safety-filter configuration and the
 * PX4 parameters it expects) under a manifest with each part's SHA-256, signed with an Ed25519 release key. Pure
 * except the key-file helpers (readTrustedKeys, readPrivateKeyFile, writeReleaseKeys). See README.md.
 */
export {
  type BundleErrorCode,
  type BundleRefusal,
  bundleVersionOf,
  checkPx4Params,
  inspectBundle,
  type OpenedBundle,
  type OpenOptions,
  openBundle,
  type PackInput,
  type Px4ParamMismatch,
  packBundle,
  signBundle,
} from './bundle.js';
export { BUNDLE_MAGIC, ED25519_SIGNATURE_BYTES } from './container.js';
export {
  generateReleaseKeyPair,
  keyIdOf,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  parsePrivateKey,
  parsePublicKey,
  type ReleaseKeyPair,
  readPrivateKeyFile,
  readTrustedKeys,
  type TrustedKey,
  trustedKey,
  writeReleaseKeys,
} from './keys.js';
export {
  BUNDLE_FORMAT,
  BUNDLE_LINEAGE_SCHEMA,
  BUNDLE_MANIFEST_SCHEMA,
  BUNDLE_PART_NAMES,
  type BundleLineage,
  type BundleManifest,
  type BundlePart,
  type BundlePartName,
  canonicalJson,
  canonicalManifestBytes,
  MAX_BUNDLE_BYTES,
  PX4_PARAM_NAME,
  PX4_PARAMS_SCHEMA,
  type Px4ParamExpectation,
  type Px4Params,
} from './manifest.js';
