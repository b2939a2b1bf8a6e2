/**
 * /api/policies on a station started in-process (SQLite, and PostgreSQL when DATABASE_URL is set): the seeded
 * baseline, uploads through the evaluation gate, bundle downloads with a drone's MQTT login, and `aerie policy
 * publish` against it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { packBundle, readPrivateKeyFile, signBundle } from '../../shared/bundle/index.js';
import { main as policyCli } from '../rollouts/policy-cli.js';
import { packFromFiles } from '../rollouts/policy-pack.js';
import { summariseEvalReport } from '../rollouts/registry-gate.js';
import { type EvalFigures, PASSING, policyFolder } from '../rollouts/test-support.js';
import { startTestStation, type TestStation } from '../test-support.js';

describe('policy registry API', () => {
  let t: TestStation;
  let droneId: string;
  beforeAll(async () => {
    t = await startTestStation({ droneIds: ['d1'], postgres: true });
    droneId = `${t.prefix}d1`;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function bundleFile(figures: EvalFigures | null, sign = true): Promise<{ path: string; bytes: Buffer }> {
    const folder = policyFolder(figures);
    const packed = await packFromFiles({
      policyPath: folder.policyPath,
      ...(figures ? { evalReportPath: join(folder.dir, 'eval-report.json') } : {}),
    });
    const bytes = sign
      ? signBundle(packed.bytes, readPrivateKeyFile(join(t.dir, 'keys', 'release.key')))
      : packed.bytes;
    const path = join(folder.dir, 'policy.aerie-bundle');
    writeFileSync(path, bytes);
    return { path, bytes };
  }

  const upload = (bytes: Buffer, token: string | null = 'test-token', type = 'application/octet-stream') =>
    fetch(`${t.station.httpUrl}/api/policies`, {
      method: 'POST',
      headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: bytes,
    });

  it('lists the default policy, seeded as the active baseline', async () => {
    const list = (await (await t.api('/api/policies')).json()) as { version: string; state: string; label: string }[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ state: 'active', label: 'default' });
    expect(list[0].version).toMatch(/^sha256:[0-9a-f]{16}$/);
    const active = (await (await t.api('/api/policies?state=active')).json()) as unknown[];
    expect(active).toHaveLength(1);
    expect((await t.api('/api/policies?state=flying')).status).toBe(400);
  });

  it('takes a signed, evaluated candidate once; refuses unsigned, failing and non-binary uploads with the reason', async () => {
    const good = await bundleFile(PASSING);
    expect((await upload(good.bytes, null)).status).toBe(401);
    const created = await upload(good.bytes);
    expect(created.status).toBe(201);
    const body = (await created.json()) as { version: string; state: string; created: boolean };
    expect(body).toMatchObject({ state: 'candidate', created: true });
    const again = await upload(good.bytes);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ version: body.version, created: false });

    const unsigned = await upload((await bundleFile(PASSING, false)).bytes);
    expect(unsigned.status).toBe(422);
    expect(await unsigned.json()).toMatchObject({ error: 'refused', code: 'BUNDLE_UNSIGNED' });

    const failing = await upload(
      (await bundleFile({ successRate: 0.6, interventionShare: 0.02, breachesFilterOn: 0 })).bytes,
    );
    expect(failing.status).toBe(422);
    const reason = (await failing.json()) as { code: string; message: string };
    expect(reason.code).toBe('POLICY_EVAL_GATE');
    expect(reason.message).toContain('success 60.0 % < 95.0 %');

    expect((await upload(Buffer.from('{"bundle":1}'), 'test-token', 'application/json')).status).toBe(415);

    const detail = await t.api(`/api/policies/${encodeURIComponent(body.version)}`);
    expect(detail.status).toBe(200);
    expect(((await detail.json()) as { history: { to: string }[] }).history.map((h) => h.to)).toEqual(['candidate']);
    expect((await t.api('/api/policies/sha256:ffffffffffffffff')).status).toBe(404);
    expect((await t.api('/api/policies/..%2Fetc')).status).toBe(400);
  });

  it('takes a bundle larger than the JSON body limit (a big model)', async () => {
    const folder = policyFolder(PASSING);
    const summary = summariseEvalReport(JSON.parse(readFileSync(join(folder.dir, 'eval-report.json'), 'utf8')));
    if (!summary.ok) throw new Error(summary.reason);
    const big = packBundle({
      policy: folder.policy,
      shield: randomBytes(3 * 1024 * 1024),
      evalReport: summary.value as unknown as Record<string, unknown>,
    });
    const bytes = signBundle(big, readPrivateKeyFile(join(t.dir, 'keys', 'release.key')));
    const res = await upload(bytes);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ totalBytes: bytes.length });
  });

  it("serves a bundle to a drone's MQTT login or the operator token, and to nobody else", async () => {
    const { bytes } = await bundleFile(PASSING);
    const version = ((await (await upload(bytes)).json()) as { version: string }).version;
    const url = `${t.station.httpUrl}/api/policies/${encodeURIComponent(version)}/bundle`;
    const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    expect((await fetch(url, { headers: { authorization: basic(droneId, 'wrong') } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: basic('nobody', 'x') } })).status).toBe(401);

    const asDrone = await fetch(url, { headers: { authorization: basic(droneId, t.passwords[droneId]) } });
    expect(asDrone.status).toBe(200);
    const got = Buffer.from(await asDrone.arrayBuffer());
    expect(got.equals(bytes)).toBe(true);
    const { createHash } = await import('node:crypto');
    expect(asDrone.headers.get('x-aerie-sha256')).toBe(createHash('sha256').update(bytes).digest('hex'));

    const asOperator = await fetch(url, { headers: { authorization: 'Bearer test-token' } });
    expect(asOperator.status).toBe(200);
    // The basic login opens only the bundle download, not the rest of the API.
    const other = await fetch(`${t.station.httpUrl}/api/policies`, {
      headers: { authorization: basic(droneId, t.passwords[droneId]) },
    });
    expect(other.status).toBe(401);
  });

  it('aerie policy publish uploads to the station and exits 1 with the gate reason', async () => {
    const quiet = () => {
      let text = '';
      const keep = (s: unknown) => {
        text += String(s);
        return true;
      };
      const o = vi.spyOn(process.stdout, 'write').mockImplementation(keep);
      const e = vi.spyOn(process.stderr, 'write').mockImplementation(keep);
      return {
        text: () => text,
        restore: () => {
          o.mockRestore();
          e.mockRestore();
        },
      };
    };
    const good = await bundleFile(PASSING);
    let out = quiet();
    const ok = await policyCli(['publish', good.path, '--station', t.station.httpUrl, '--token', 'test-token']).finally(
      out.restore,
    );
    expect(ok).toBe(0);
    expect(out.text()).toMatch(/published sha256:[0-9a-f]{16} as candidate/);

    const bad = await bundleFile({ successRate: 0.97, interventionShare: 0.2, breachesFilterOn: 0 });
    out = quiet();
    const refused = await policyCli([
      'publish',
      bad.path,
      '--station',
      t.station.httpUrl,
      '--token',
      'test-token',
    ]).finally(out.restore);
    expect(refused).toBe(1);
    expect(out.text()).toMatch(/refused \(HTTP 422\): POLICY_EVAL_GATE: .*interventions 20\.0 % of ticks > 5\.0 %/);
  });
});
