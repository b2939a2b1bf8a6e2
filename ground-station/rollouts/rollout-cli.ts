/**
 * `aerie rollout start|status|promote|pause|resume|abort`: steer policy rollouts through the station's JSON API.
 *
 *   aerie rollout start --candidate V [--baseline V] [--mode staged|ab] [--steps 0.1,0.25,0.5,1]
 *                       [--shadow-min-ticks N] [--min-episodes N]
 *   aerie rollout status [ID] [--json]          the newest rollout (or ID) with its analysis; exit 0
 *   aerie rollout promote|pause|resume|abort ID
 * Every subcommand takes --station URL (default http://127.0.0.1:8080) and --token T (default $AERIE_TOKEN).
 * Exit 1 when the station refuses (the reason is printed), 2 on a usage error.
 */
import { argvToRaw, type ConfigOf, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';

export const ROLLOUT_CLI_SCHEMA = declareConfig({
  station: { type: 'string', default: 'http://127.0.0.1:8080', doc: 'The station URL.' },
  token: { type: 'string', default: undefined, optional: true, doc: 'Operator token (default $AERIE_TOKEN).' },
  candidate: { type: 'string', default: undefined, optional: true, doc: 'start: the candidate policy version.' },
  baseline: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'start: the baseline version (default: what most online drones fly).',
  },
  mode: { type: 'enum', values: ['staged', 'ab'] as const, default: 'staged', doc: 'start: staged plan or A/B test.' },
  steps: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'start: shares of the fleet, comma-separated (staged: ending at 1; A/B: one share).',
  },
  shadowMinTicks: {
    type: 'integer',
    default: -1,
    min: -1,
    max: 1e9,
    doc: 'start: shadow ticks before the canary (0 skips shadow; -1: the station default).',
  },
  minEpisodes: {
    type: 'integer',
    default: -1,
    min: -1,
    max: 1e6,
    doc: 'start: episodes per step and side before a statistical decision (-1: the station default).',
  },
  by: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'promote, pause, resume, abort: who (for the history).',
  },
  json: { type: 'boolean', default: false, doc: 'Print the rollout as JSON.' },
  help: { type: 'boolean', default: false, doc: 'Show this help.' },
});

type Options = ConfigOf<typeof ROLLOUT_CLI_SCHEMA>;

const USAGE = `usage: aerie rollout <start|status|promote|pause|resume|abort> [options]

  start --candidate V [--baseline V] [--mode staged|ab] [--steps 0.1,0.25,0.5,1]
        [--shadow-min-ticks N] [--min-episodes N]      start a rollout
  status [ID]                                          the newest rollout (or ID): state, drones, analysis
  promote ID | pause ID | resume ID | abort ID         the operator's actions (abort: back to the baseline)
`;

interface RolloutJson {
  id: string;
  candidate: string;
  baseline: string;
  mode: string;
  state: string;
  stepIndex: number;
  steps: number[];
  share: number;
  drones: Record<string, string>;
  refused?: Record<string, string>;
  analysis: {
    decision: string;
    reasons: string[];
    candidate: Record<string, number | null>;
    baseline: Record<string, number | null>;
    effects: { metric: string; delta: number; ci95: [number, number] }[];
  } | null;
  history: { atMs: number; from: string | null; to: string; reason: string }[];
}

const out = (line: string) => process.stdout.write(`${line}\n`);

async function call(
  opts: Options,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = opts.token ?? process.env.AERIE_TOKEN;
  if (!token) throw new AerieError('CLI_USAGE', 'aerie rollout needs --token (or AERIE_TOKEN)');
  const station = opts.station.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${station}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new AerieError('CLI_USAGE', `cannot reach the station at ${station}: ${(err as Error).message}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, body: { message: text.slice(0, 500) } };
  }
}

function refused(sub: string, status: number, body: Record<string, unknown>, json: boolean): number {
  if (json) out(JSON.stringify({ ok: false, status, ...body }));
  process.stderr.write(`aerie rollout ${sub}: refused (HTTP ${status}): ${String(body.message ?? body.error ?? '')}\n`);
  return 1;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)} %`);
const num = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined ? '-' : String(+x.toPrecision(digits));

/** A rollout for people: plan, state, drones, the analysis side by side, effects, the last transitions. */
export function describeRollout(r: RolloutJson): string[] {
  const arms = Object.values(r.drones);
  const count = (a: string) => arms.filter((x) => x === a).length;
  const lines = [
    `${r.id}  ${r.mode}  ${r.candidate} over ${r.baseline}`,
    `state ${r.state}, step ${r.stepIndex + 1}/${r.steps.length} (${r.steps.map((s) => `${Math.round(s * 100)} %`).join(' -> ')}), share ${Math.round(r.share * 100)} %`,
    `drones: ${count('candidate')} candidate, ${count('shadow')} shadow, ${count('baseline')} baseline` +
      (r.refused && Object.keys(r.refused).length > 0 ? `, ${Object.keys(r.refused).length} refused` : ''),
  ];
  const a = r.analysis;
  if (a) {
    lines.push(`decision ${a.decision}: ${a.reasons.join('; ')}`);
    lines.push('                      candidate   baseline');
    const row = (name: string, key: string, f: (x: number | null | undefined) => string) =>
      lines.push(`  ${name.padEnd(20)}${f(a.candidate[key]).padStart(9)}  ${f(a.baseline[key]).padStart(9)}`);
    row('episodes', 'episodes', (x) => num(x, 6));
    row('success rate', 'successRate', pct);
    row('mean return', 'meanReturn', num);
    row('interventions/tick', 'interventionsPerTick', num);
    row('violations', 'violations', (x) => num(x, 6));
    row('policy faults', 'policyFaults', (x) => num(x, 6));
    for (const e of a.effects)
      lines.push(`  effect ${e.metric}: ${num(e.delta)} (95 % CI ${num(e.ci95[0])} .. ${num(e.ci95[1])})`);
  }
  for (const t of r.history.slice(-5)) {
    lines.push(`  ${new Date(t.atMs).toISOString()}  ${t.from ?? '-'} -> ${t.to}: ${t.reason}`);
  }
  return lines;
}

async function start(opts: Options): Promise<number> {
  if (!opts.candidate) throw new AerieError('CLI_USAGE', 'aerie rollout start needs --candidate');
  let steps: number[] | undefined;
  if (opts.steps !== undefined) {
    steps = opts.steps.split(',').map((s) => Number(s.trim()));
    if (steps.some((s) => !Number.isFinite(s)))
      throw new AerieError('CLI_USAGE', `--steps: ${opts.steps} is not a list of numbers`);
  }
  const body = {
    candidate: opts.candidate,
    ...(opts.baseline ? { baseline: opts.baseline } : {}),
    mode: opts.mode,
    ...(steps ? { steps } : {}),
    ...(opts.shadowMinTicks >= 0 ? { shadowMinTicks: opts.shadowMinTicks } : {}),
    ...(opts.minEpisodes >= 1 ? { minEpisodesPerStep: opts.minEpisodes } : {}),
  };
  const res = await call(opts, 'POST', '/api/rollouts', body);
  if (res.status !== 201) return refused('start', res.status, res.body, opts.json);
  const r = res.body as unknown as RolloutJson;
  if (opts.json) out(JSON.stringify(r));
  else out(describeRollout(r).join('\n'));
  return 0;
}

async function status(opts: Options, positional: string[]): Promise<number> {
  if (positional.length > 1) throw new AerieError('CLI_USAGE', 'aerie rollout status takes at most one ID');
  let r: RolloutJson | undefined;
  if (positional[0]) {
    const res = await call(opts, 'GET', `/api/rollouts/${encodeURIComponent(positional[0])}`);
    if (res.status !== 200) return refused('status', res.status, res.body, opts.json);
    r = res.body as unknown as RolloutJson;
  } else {
    const res = await call(opts, 'GET', '/api/rollouts');
    if (res.status !== 200) return refused('status', res.status, res.body, opts.json);
    r = (res.body.rollouts as RolloutJson[] | undefined)?.[0];
    if (!r) {
      if (opts.json) out('null');
      else out('no rollouts');
      return 0;
    }
  }
  if (opts.json) out(JSON.stringify(r));
  else out(describeRollout(r).join('\n'));
  return 0;
}

async function action(
  opts: Options,
  sub: 'promote' | 'pause' | 'resume' | 'abort',
  positional: string[],
): Promise<number> {
  if (positional.length !== 1) throw new AerieError('CLI_USAGE', `aerie rollout ${sub} takes one rollout ID`);
  const res = await call(
    opts,
    'POST',
    `/api/rollouts/${encodeURIComponent(positional[0])}/${sub}`,
    opts.by ? { by: opts.by } : {},
  );
  if (res.status !== 200) return refused(sub, res.status, res.body, opts.json);
  const r = res.body as unknown as RolloutJson;
  if (opts.json) out(JSON.stringify(r));
  else out(`${r.id}: ${r.state} (${r.history.at(-1)?.reason ?? ''})`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { raw, positional } = argvToRaw(ROLLOUT_CLI_SCHEMA, rest);
  const opts = parseConfig(ROLLOUT_CLI_SCHEMA, raw);
  if (sub === undefined || sub === '--help' || sub === 'help' || opts.help) {
    process.stdout.write(`${USAGE}\noptions:\n${configHelp(ROLLOUT_CLI_SCHEMA)}\n`);
    return sub === undefined ? 2 : 0;
  }
  switch (sub) {
    case 'start':
      return start(opts);
    case 'status':
      return status(opts, positional);
    case 'promote':
    case 'pause':
    case 'resume':
    case 'abort':
      return action(opts, sub, positional);
    default:
      throw new AerieError('CLI_USAGE', `unknown subcommand ${JSON.stringify(sub)}\n\n${USAGE}`);
  }
}
