/**
 * The registry and bundle distribution as the station runs them, on its own broker: a candidate published over the
 * API is installed on a drone through the station's link (install-policy, chunks, the drone's policy events back
 * through the station's ingest), and a drone that does not trust the station's key refuses it with the reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReleaseKeyPair, readPrivateKeyFile, signBundle } from '../../shared/bundle/index.js';
import { startTestStation, type TestStation } from '../test-support.js';
import { packFromFiles } from './policy-pack.js';
import { droneDouble, PASSING, policyFolder } from './test-support.js';

// A shared Mosquitto has no logins for these drones: the station's embedded broker carries the test.
describe('station policy installs', () => {
  let t: TestStation;
  beforeAll(async () => {
    t = await startTestStation({ droneIds: ['d1', 'd2'], embeddedBroker: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('installs a published candidate on a drone over the station link, and reports a refusal', async () => {
    const folder = policyFolder(PASSING);
    const packed = await packFromFiles({
      policyPath: folder.policyPath,
      shieldPath: folder.shieldPath,
      evalReportPath: join(folder.dir, 'eval-report.json'),
    });
    const bytes = signBundle(packed.bytes, readPrivateKeyFile(join(t.dir, 'keys', 'release.key')));
    const published = await t.station.policies.registry.publish(bytes, Date.now());
    if (!published.ok) throw new Error(published.reason);
    const version = published.policy.version;

    const stationPub = readFileSync(join(t.dir, 'keys', 'release.pub'), 'utf8');
    const d1 = `${t.prefix}d1`;
    const d2 = `${t.prefix}d2`;
    const good = await droneDouble(t.station.mqttUrl, d1, t.passwords[d1], stationPub, { lose: [0] });
    const wary = await droneDouble(t.station.mqttUrl, d2, t.passwords[d2], generateReleaseKeyPair().publicKeyPem);
    try {
      const [r1, r2] = await Promise.all([
        t.station.policies.bundles.installOnDrone(d1, version),
        t.station.policies.bundles.installOnDrone(d2, version),
      ]);
      // One chunk (a small bundle), lost once and resent after the drone's report.
      expect(r1).toEqual({ result: 'installed', droneId: d1, version, chunksSent: 2 });
      expect(good.received).toEqual([0, 0]);
      expect(r2).toMatchObject({ result: 'refused', code: 'BUNDLE_UNTRUSTED_KEY' });
      // The rollout manager's entry point: ok once install-policy is out.
      expect(await t.station.policies.install(d1, version, Date.now())).toEqual({ ok: true, value: undefined });
      expect(await t.station.policies.install(d1, 'sha256:ffffffffffffffff', Date.now())).toMatchObject({ ok: false });
    } finally {
      await good.client.endAsync(true);
      await wary.client.endAsync(true);
    }
  });
});
