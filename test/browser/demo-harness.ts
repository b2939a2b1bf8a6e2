/**
 * The whole system for the browser tests: `aerie demo` (simulated fleet, one onboard process per drone, station with
 * its embedded broker and SQLite) as a child process on free ports. Always on the embedded broker - a fleet estop
 * sent on a shared broker would reach every other test's drones - and without generated orders, so the tests'
 * orders are the only ones.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type AerieChild, compiledSources, REPO_ROOT, spawnAerie } from '../support/onboard-cli.js';

export interface DemoSystem {
  readonly url: string;
  readonly token: string;
  readonly child: AerieChild;
  api<T = Record<string, unknown>>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  stop(): Promise<void>;
}

/** Throw when dist/ is older than the sources the demo runs (the child runs the compiled `aerie`). */
export function requireFreshDemoBuild(): void {
  const stale = compiledSources(REPO_ROOT, ['sitl/demo/demo-cli.ts', 'onboard/cli.ts']).filter((rel) => {
    const out = join(REPO_ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
    return !existsSync(out) || statSync(out).mtimeMs < statSync(join(REPO_ROOT, rel)).mtimeMs;
  });
  if (stale.length > 0) {
    throw new Error(
      `dist/ is older than the sources (${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', ...' : ''}): ` +
        'the browser tests run the compiled `aerie demo`; run `npm run build` first (`npm test` does it)',
    );
  }
}

export async function startDemo(options: { drones: number; speed: number }): Promise<DemoSystem> {
  requireFreshDemoBuild();
  const token = `browser-${randomBytes(9).toString('base64url')}`;
  const child = spawnAerie(
    ['demo', '--drones', String(options.drones), '--speed', String(options.speed), '--http-port', '0'].concat([
      '--order-every-s',
      '0',
    ]),
    { AERIE_OPERATOR_TOKEN: token, MQTT_URL: '', DATABASE_URL: '', AERIE_LOG_LEVEL: 'warn' },
  );
  const line = await Promise.race([
    child.nextLine((l) => l.includes('dashboard:')),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000)),
  ]);
  const m = line ? /(http:\/\/\S+?)\/?\s*$/.exec(line) : null;
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(
      `aerie demo did not print its dashboard URL:\n${child.stdoutLines.join('\n')}\n${child.stderrTail()}`,
    );
  }
  const url = m[1];
  const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    url,
    token,
    child,
    api,
    async stop() {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

/** Poll `cond` until true (every 250 ms) or throw `what` after timeoutMs. */
export async function eventually(cond: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
