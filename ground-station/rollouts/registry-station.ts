/**
 * The policy registry and bundle distribution as the station runs them: its release key (keys/release.key beside
 * the database unless --release-key), the trusted keys, the evaluation gate from the station configuration, the seeded
 * baseline, the HTTP port for /api/policies and the MQTT sender for installs.
 */
import { dirname, join, resolve } from 'node:path';
import type { Result } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import type { BundleChunk, Command, CommandAck, DroneEvent } from '../../shared/protocol/index.js';
import type { CredentialChecker } from '../broker/index.js';
import type { StationConfig } from '../config.js';
import type { StationStore } from '../storage/index.js';
import type { PolicyPort } from '../web/policy-routes.js';
import { BundleSender } from './bundle-distribution.js';
import { PolicyRegistry } from './registry.js';
import { seedDefaultBaseline, stationReleaseKeys } from './registry-seed.js';

/** What the station's MQTT link offers the sender (absent while the link is not up yet). */
export interface BundleLinkLike {
  sendCommand(droneId: string, command: Command): Promise<Result<void, string>>;
  sendBundleChunk(droneId: string, chunk: BundleChunk): Promise<Result<void, string>>;
}

export interface StationPolicies {
  readonly registry: PolicyRegistry;
  readonly bundles: BundleSender;
  /** For the web server (WebDeps.policies). */
  readonly port: PolicyPort;
  readonly keyId: string;
  /** For the rollout manager (stationRolloutDrones install): ok once install-policy is out; the verdict is an event. */
  install(droneId: string, version: string, nowMs: number): Promise<Result<void, string>>;
  /** Feed these from the station's ingest handlers. */
  onPolicyEvent(e: DroneEvent): void;
  onAck(droneId: string, ack: CommandAck): void;
  close(): void;
}

export interface StationPoliciesOptions {
  readonly config: StationConfig;
  readonly store: StationStore;
  readonly checker: CredentialChecker;
  readonly link: () => BundleLinkLike | null;
  readonly clock: () => number;
  readonly logger: Logger;
}

export async function startStationPolicies(options: StationPoliciesOptions): Promise<StationPolicies> {
  const { config, store, checker, clock, logger } = options;
  const keyFile = config.releaseKey ?? join(dirname(resolve(config.db)), 'keys', 'release.key');
  const keys = stationReleaseKeys(keyFile, {
    create: config.releaseKey === undefined,
    ...(config.trustedKeys ? { trustedKeysDir: config.trustedKeys } : {}),
  });
  const registry = new PolicyRegistry({
    store,
    trustedKeys: keys.trustedKeys,
    gate: {
      gateMinSuccessRate: config.gateMinSuccessRate,
      gateMaxInterventionShare: config.gateMaxInterventionShare,
      gateMaxBreaches: config.gateMaxBreaches,
      gateMinSitlDeliveries: config.gateMinSitlDeliveries,
    },
    logger,
  });
  if (config.seedPolicy) {
    const seeded = await seedDefaultBaseline(registry, { privateKey: keys.privateKey, nowMs: clock() });
    if (seeded.ok)
      logger.info({ version: seeded.policy.version, created: seeded.created }, 'baseline policy registered');
    else logger.warn({ code: seeded.code, reason: seeded.reason }, 'baseline policy not registered');
  }
  const notUp = { ok: false as const, reason: 'MQTT link not up' };
  const bundles = new BundleSender({
    ports: {
      sendCommand: (droneId, command) => options.link()?.sendCommand(droneId, command) ?? Promise.resolve(notUp),
      sendChunk: (droneId, chunk) => options.link()?.sendBundleChunk(droneId, chunk) ?? Promise.resolve(notUp),
    },
    source: (version) => registry.bundle(version),
    ...(config.publicUrl ? { publicBaseUrl: config.publicUrl } : {}),
    clock,
    logger,
  });
  logger.info({ keyId: keys.keyId, keyFile, trusted: keys.trustedKeys.length }, 'policy registry ready');
  return {
    registry,
    bundles,
    keyId: keys.keyId,
    port: {
      list: (q) => registry.list(q),
      get: (v) => registry.get(v),
      publish: (bytes, nowMs, by) => registry.publish(bytes, nowMs, by),
      bundle: (v) => registry.bundle(v),
      checkBrokerLogin: async (username, password) => (await checker.check(username, password)) !== null,
    },
    async install(droneId, version) {
      const { started, outcome } = await bundles.startInstall(droneId, version, {
        via: config.publicUrl ? 'http' : 'mqtt',
      });
      void outcome.then((o) =>
        logger[o.result === 'installed' ? 'info' : 'warn']({ ...o }, `policy install on ${droneId}: ${o.result}`),
      );
      return started;
    },
    onPolicyEvent: (e) => bundles.handleEvent(e.id, e),
    onAck: (droneId, ack) => bundles.handleAck(droneId, ack),
    close: () => bundles.close(),
  };
}
