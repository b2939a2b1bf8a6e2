/**
 * The compiled `aerie` command as a child process, for scenarios that kill, crash or stall the onboard runtime for
 * real: a check that dist/ is built from the current sources (the child runs dist/, not the TypeScript), and a
 * spawn helper that keeps the child's stdout lines, the tail of its stderr and its exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const AERIE_BIN = join(REPO_ROOT, 'bin', 'aerie.js');

/** The entry points the child processes run (compiled into dist/). */
const ENTRIES = ['onboard/fly-cli.ts', 'onboard/cli.ts'];
const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g;

/** Every source file the entries import, directly or not (relative imports only: packages are not built). */
export function compiledSources(root = REPO_ROOT, entries: readonly string[] = ENTRIES): string[] {
  const seen = new Set<string>();
  const queue = entries.map((e) => join(root, e));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(RELATIVE_IMPORT)) {
      const base = join(dirname(file), m[1]);
      const candidate = [`${base}.ts`, join(base, 'index.ts')].find((c) => existsSync(c));
      if (candidate) queue.push(candidate);
    }
  }
  return [...seen].map((f) => relative(root, f)).sort();
}

/** Sources the child runs whose compiled file in dist/ is missing or older than the source. Empty when current. */
export function staleBuildFiles(root = REPO_ROOT): string[] {
  const stale: string[] = [];
  for (const rel of compiledSources(root)) {
    const out = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(root, rel)).mtimeMs) stale.push(rel);
  }
  return stale;
}

/** Throw a clear message when the child would run stale code (npm test builds first; vitest alone does not). */
export function requireFreshBuild(): void {
  const stale = staleBuildFiles();
  if (stale.length === 0) return;
  const shown = stale.slice(0, 5).join(', ') + (stale.length > 5 ? ` and ${stale.length - 5} more` : '');
  throw new Error(
    `dist/ is older than the sources (${shown}): these scenarios run the compiled \`aerie\` in child processes; ` +
      'run `npm run build` first (`npm test` does it for you)',
  );
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface AerieChild {
  readonly process: ChildProcess;
  /** Whole stdout lines so far. */
  readonly stdoutLines: string[];
  /** The last ~200 kB of stderr (logs), for failure messages. */
  stderrTail(): string;
  /** Resolves once the process has exited (and its stdout has ended). */
  readonly exited: Promise<ExitStatus>;
  /** The exit status once known, else null. */
  exitStatus(): ExitStatus | null;
  /** Resolves with the first stdout line that `predicate` accepts (or null when the process exits first). */
  nextLine(predicate: (line: string) => boolean): Promise<string | null>;
  /** Send a signal if still running. */
  kill(signal?: NodeJS.Signals): void;
}

const STDERR_KEEP = 200_000;

/** Run `node bin/aerie.js ...args` with the repository as working directory. Logs at info go to its stderr. */
export function spawnAerie(args: readonly string[], env: Readonly<Record<string, string>> = {}): AerieChild {
  const child = spawn(process.execPath, [AERIE_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, AERIE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const lineWaiters: { predicate: (line: string) => boolean; resolve: (line: string | null) => void }[] = [];
  let partial = '';
  let stderr = '';
  let status: ExitStatus | null = null;
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    partial += chunk;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (let i = lineWaiters.length - 1; i >= 0; i--) {
        if (lineWaiters[i].predicate(line)) {
          lineWaiters[i].resolve(line);
          lineWaiters.splice(i, 1);
        }
      }
      nl = partial.indexOf('\n');
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('close', (code, signal) => {
      if (partial) lines.push(partial);
      partial = '';
      status = { code, signal };
      for (const w of lineWaiters.splice(0)) w.resolve(null);
      resolve(status);
    });
  });
  return {
    process: child,
    stdoutLines: lines,
    stderrTail: () => stderr.slice(-STDERR_KEEP),
    exited,
    exitStatus: () => status,
    nextLine(predicate) {
      const seen = lines.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      if (status !== null) return Promise.resolve(null);
      return new Promise((resolve) => lineWaiters.push({ predicate, resolve }));
    },
    kill(signal = 'SIGTERM') {
      if (status === null && child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
