/**
 * `aerie policy keygen|pack|sign|verify|inspect|publish`: release keys and signed policy bundles.
 *
 *   aerie policy keygen --out DIR                    release.key (0600) and release.pub
 *   aerie policy pack --policy P.onnx [--shield S.onnx] [--filter-config F.json] [--px4-params P.json]
 *                     [--eval-report R.json] [--label L] [--seed N] [--dataset D] [--parent V] [--key K] --out B
 *   aerie policy sign B --key release.key [--out B2]
 *   aerie policy verify B --trusted-keys DIR [--autopilot-params P.json]   exit 1 with the code and reason
 *   aerie policy inspect B [--json]
 *   aerie policy publish B --station URL [--token T] (or AERIE_TOKEN)
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  checkPx4Params,
  inspectBundle,
  openBundle,
  readPrivateKeyFile,
  readTrustedKeys,
  signBundle,
  writeReleaseKeys,
} from '../../shared/bundle/index.js';
import { argvToRaw, type ConfigOf, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';
import { packFromFiles } from './policy-pack.js';

export const POLICY_CLI_SCHEMA = declareConfig({
  out: { type: 'string', default: undefined, optional: true, doc: 'keygen: key folder; pack, sign: bundle to write.' },
  policy: { type: 'string', default: undefined, optional: true, doc: 'pack: the policy ONNX (required).' },
  shield: { type: 'string', default: undefined, optional: true, doc: 'pack: the shield (cost critic) ONNX.' },
  filterConfig: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'pack: safety-filter configuration JSON (onboard filter keys).',
  },
  px4Params: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'pack: PX4 parameters JSON the policy expects, {"NAME": value | {"value", "tolerance"}}.',
  },
  evalReport: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'pack: aerie eval --json output (or eval-report.json) of this policy; the station gate needs a SITL one.',
  },
  label: { type: 'string', default: undefined, optional: true, doc: 'pack: a name for people ("nightly-42").' },
  seed: { type: 'integer', default: -1, min: -1, max: 2 ** 31 - 1, doc: 'pack: lineage seed (-1: from config.json).' },
  dataset: { type: 'string', default: undefined, optional: true, doc: 'pack: lineage dataset (experience export).' },
  parent: { type: 'string', default: undefined, optional: true, doc: 'pack: lineage parent policy version.' },
  key: { type: 'string', default: undefined, optional: true, doc: 'sign (and pack): the release.key to sign with.' },
  trustedKeys: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'verify: a folder of trusted .pub keys (or one .pub file).',
  },
  autopilotParams: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: "verify: the autopilot's parameters as JSON {NAME: value}, checked against the bundle's PX4 parameters.",
  },
  station: { type: 'string', default: undefined, optional: true, doc: 'publish: station URL (http://host:8080).' },
  token: { type: 'string', default: undefined, optional: true, doc: 'publish: operator token (default $AERIE_TOKEN).' },
  json: { type: 'boolean', default: false, doc: 'inspect, verify, publish: print one JSON object.' },
  help: { type: 'boolean', default: false, doc: 'Show this help.' },
});

const USAGE = `usage: aerie policy <keygen|pack|sign|verify|inspect|publish> [options]

  keygen --out DIR                      write release.key (0600) and release.pub (never overwrites)
  pack --policy P.onnx --out B [...]    pack an unsigned bundle (signed too with --key)
  sign B --key release.key [--out B2]   sign a bundle (in place without --out)
  verify B --trusted-keys DIR           check signature, hashes and contract (and PX4 parameters with
                                        --autopilot-params P.json); exit 1 with the code and reason
  inspect B [--json]                    print the manifest
  publish B --station URL [--token T]   upload to the station's registry (the evaluation gate applies)
`;

type Options = ConfigOf<typeof POLICY_CLI_SCHEMA>;

function need<T>(value: T | undefined, flag: string, sub: string): T {
  if (value === undefined) throw new AerieError('CLI_USAGE', `aerie policy ${sub} needs --${flag}`);
  return value;
}

function one(positional: string[], sub: string): string {
  if (positional.length !== 1) throw new AerieError('CLI_USAGE', `aerie policy ${sub} takes one BUNDLE file`);
  return positional[0];
}

async function readBundleFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AerieError('FILE_NOT_FOUND', `bundle ${path} does not exist`, { path });
    }
    throw err;
  }
}

/** Write through a temporary file and a rename, so a reader never sees half a bundle. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${process.pid}-${Date.now()}.tmp`);
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

const out = (line: string) => process.stdout.write(`${line}\n`);

async function keygen(opts: Options): Promise<number> {
  const dir = need(opts.out, 'out', 'keygen');
  const pair = writeReleaseKeys(dir);
  out(`key ${pair.keyId}: ${join(dir, 'release.key')} (keep it secret), ${join(dir, 'release.pub')} (give to drones)`);
  return 0;
}

async function pack(opts: Options): Promise<number> {
  const policyPath = need(opts.policy, 'policy', 'pack');
  const target = need(opts.out, 'out', 'pack');
  const packed = await packFromFiles({
    policyPath,
    shieldPath: opts.shield,
    filterConfigPath: opts.filterConfig,
    px4ParamsPath: opts.px4Params,
    evalReportPath: opts.evalReport,
    label: opts.label,
    lineage: {
      ...(opts.seed >= 0 ? { seed: opts.seed } : {}),
      ...(opts.dataset ? { dataset: opts.dataset } : {}),
      ...(opts.parent ? { parent: opts.parent } : {}),
    },
  });
  const bytes = opts.key ? signBundle(packed.bytes, readPrivateKeyFile(opts.key)) : packed.bytes;
  await writeAtomically(target, bytes);
  const info = inspectBundle(bytes);
  if (!info.ok) throw new AerieError(info.code, info.reason);
  out(
    `${target}: ${info.manifest.version}, ${bytes.length} bytes, parts ${info.manifest.parts.map((p) => p.name).join(', ')}` +
      `${info.signed ? `, signed by ${info.manifest.keyId}` : ', unsigned'}` +
      `${packed.evalSummary ? '' : ' (no evaluation report: the station will refuse it)'}`,
  );
  return 0;
}

async function sign(opts: Options, positional: string[]): Promise<number> {
  const path = one(positional, 'sign');
  const key = readPrivateKeyFile(need(opts.key, 'key', 'sign'));
  const signed = signBundle(await readBundleFile(path), key);
  const target = opts.out ?? path;
  await writeAtomically(target, signed);
  const info = inspectBundle(signed);
  out(`${target}: ${info.ok ? info.manifest.version : '?'} signed by ${info.ok ? info.manifest.keyId : '?'}`);
  return 0;
}

async function readAutopilotParams(path: string): Promise<Record<string, number>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, number>;
  } catch (err) {
    throw new AerieError('CONFIG_INVALID_VALUE', `autopilot parameters ${path}: ${(err as Error).message}`, { path });
  }
}

async function verify(opts: Options, positional: string[]): Promise<number> {
  const path = one(positional, 'verify');
  const trustedKeys = readTrustedKeys(need(opts.trustedKeys, 'trusted-keys', 'verify'));
  const r = openBundle(await readBundleFile(path), { trustedKeys });
  const params =
    r.ok && opts.autopilotParams
      ? checkPx4Params(r.bundle.px4Params, await readAutopilotParams(opts.autopilotParams))
      : null;
  const failure = !r.ok ? r : params && !params.ok ? params : null;
  if (failure) {
    if (opts.json) out(JSON.stringify({ ok: false, code: failure.code, reason: failure.reason }));
    process.stderr.write(`aerie policy verify: ${path}: ${failure.code}: ${failure.reason}\n`);
    return 1;
  }
  if (!r.ok) return 1;
  const b = r.bundle;
  if (opts.json) out(JSON.stringify({ ok: true, version: b.version, sha256: b.sha256, keyId: b.keyId }));
  else
    out(`${path}: ok, ${b.version} (contract ${b.manifest.contractVersion}), signed by ${b.keyId}, sha256 ${b.sha256}`);
  return 0;
}

function manifestLines(info: Extract<ReturnType<typeof inspectBundle>, { ok: true }>): string[] {
  const m = info.manifest;
  const lines = [
    `version      ${m.version}${m.label ? ` (${m.label})` : ''}`,
    `file         ${info.totalBytes} bytes, sha256 ${info.sha256}`,
    `signed       ${info.signed ? `by key ${m.keyId}` : 'no'}`,
    `contract     ${m.contractVersion}`,
    `created      ${new Date(m.createdAtMs).toISOString()}`,
    `lineage      ${
      Object.entries(m.lineage)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '(none)'
    }`,
    'parts',
    ...m.parts.map((p) => `  ${p.name.padEnd(12)} ${String(p.bytes).padStart(9)} bytes  sha256 ${p.sha256}`),
    `px4 params   ${
      Object.entries(m.px4Params)
        .map(([k, v]) => `${k}=${v.value}${v.tolerance ? `±${v.tolerance}` : ''}`)
        .join(', ') || '(none)'
    }`,
  ];
  const e = m.evalReport as Record<string, unknown> | undefined;
  if (!e) lines.push('evaluation   (none)');
  else {
    const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(1)} %` : '?');
    lines.push(
      `evaluation   from ${e.summaryFrom}: success ${pct(e.successRate)}, interventions ${pct(e.interventionShare)}, ` +
        `breaches (filter on) ${e.breachesFilterOn}`,
    );
  }
  return lines;
}

async function inspect(opts: Options, positional: string[]): Promise<number> {
  const path = one(positional, 'inspect');
  const info = inspectBundle(await readBundleFile(path));
  if (!info.ok) {
    process.stderr.write(`aerie policy inspect: ${path}: ${info.code}: ${info.reason}\n`);
    return 1;
  }
  if (opts.json) {
    out(
      JSON.stringify({
        signed: info.signed,
        sha256: info.sha256,
        totalBytes: info.totalBytes,
        manifest: info.manifest,
      }),
    );
  } else out(manifestLines(info).join('\n'));
  return 0;
}

async function publish(opts: Options, positional: string[]): Promise<number> {
  const path = one(positional, 'publish');
  const station = need(opts.station, 'station', 'publish').replace(/\/+$/, '');
  const token = opts.token ?? process.env.AERIE_TOKEN;
  if (!token) throw new AerieError('CLI_USAGE', 'aerie policy publish needs --token (or AERIE_TOKEN)');
  const bytes = await readBundleFile(path);
  let res: Response;
  try {
    res = await fetch(`${station}/api/policies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
  } catch (err) {
    throw new AerieError('CLI_USAGE', `cannot reach the station at ${station}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { message: text.slice(0, 500) };
  }
  if (!res.ok) {
    if (opts.json) out(JSON.stringify({ ok: false, status: res.status, ...body }));
    process.stderr.write(
      `aerie policy publish: refused (HTTP ${res.status}): ${body.code ? `${body.code}: ` : ''}${body.message ?? text}\n`,
    );
    return 1;
  }
  if (opts.json) out(JSON.stringify(body));
  else out(`published ${body.version} as ${body.state} on ${station}`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { raw, positional } = argvToRaw(POLICY_CLI_SCHEMA, rest);
  const opts = parseConfig(POLICY_CLI_SCHEMA, raw);
  if (sub === undefined || sub === '--help' || sub === 'help' || opts.help) {
    process.stdout.write(`${USAGE}\noptions:\n${configHelp(POLICY_CLI_SCHEMA)}\n`);
    return sub === undefined ? 2 : 0;
  }
  switch (sub) {
    case 'keygen':
      return keygen(opts);
    case 'pack':
      return pack(opts);
    case 'sign':
      return sign(opts, positional);
    case 'verify':
      return verify(opts, positional);
    case 'inspect':
      return inspect(opts, positional);
    case 'publish':
      return publish(opts, positional);
    default:
      throw new AerieError('CLI_USAGE', `unknown subcommand ${JSON.stringify(sub)}\n\n${USAGE}`);
  }
}
