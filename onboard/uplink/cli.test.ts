/**
 * `aerie onboard --mqtt-url ...` as a child process (run from the TypeScript sources with tsx): it announces itself
 * with a birth, a SIGTERM publishes the death and exits 0, a kill -9 leaves the death to the broker's will, and a
 * second process on the same --data-dir is refused at start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../shared/protocol/index.js';
import { Subscriber, startBroker, type TestBroker, tempDataDir, uniqueId, until } from './test-support.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Child {
  proc: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function onboard(args: string[]): Child {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(CLI)}); try { process.exitCode = await m.main(process.argv.slice(1)); } catch (e) { process.stderr.write(String(e.message) + '\\n'); process.exitCode = 2; }`,
      '--',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AERIE_LOG_LEVEL: 'warn' } },
  );
  const child: Child = {
    proc,
    stdout: [],
    stderr: [],
    exit: new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  proc.stdout?.on('data', (d: Buffer) => child.stdout.push(...d.toString().split('\n').filter(Boolean)));
  proc.stderr?.on('data', (d: Buffer) => child.stderr.push(d.toString()));
  cleanups.push(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return child;
}

async function started(child: Child): Promise<Record<string, unknown>> {
  await until(() => child.stdout.some((l) => l.includes('"started"')), 20_000, 'started line');
  return JSON.parse(child.stdout.find((l) => l.includes('"started"')) as string);
}

describe('aerie onboard with --mqtt-url', () => {
  it('is born, dies cleanly on SIGTERM, and leaves its death to the will when killed', async () => {
    const id = uniqueId('cli');
    const data = tempDataDir();
    cleanups.push(data.cleanup);
    const station = await Subscriber.connect(broker.url, [topics.droneStatus(id)]);
    cleanups.push(async () => {
      await station.publish(topics.droneStatus(id), '', true);
      await station.close();
    });
    const args = async () => [
      '--mavlink',
      `udp://:${await freeUdpPort()}`,
      '--id',
      id,
      '--mqtt-url',
      broker.url,
      '--data-dir',
      data.dir,
      '--telemetry-hz',
      '2',
      '--no-stdin-control',
    ];
    const status = () => station.messages.filter((m) => m.json !== null).map((m) => m.json as Record<string, unknown>);

    const first = onboard(await args());
    const line = await started(first);
    expect(line).toMatchObject({ mqtt: broker.url, id });
    await station.waitFor(
      () => status().some((s) => s.kind === 'birth' && s.sessionId === line.sessionId),
      15_000,
      'birth',
    );

    // A second process on the same data directory is refused while the first runs.
    const second = onboard(await args());
    const refused = await second.exit;
    expect(refused.code).toBe(2);
    expect(second.stderr.join('')).toMatch(/UPLINK_QUEUE_UNAVAILABLE/);

    first.proc.kill('SIGTERM');
    expect((await first.exit).code).toBe(0);
    await station.waitFor(
      () => status().some((s) => s.kind === 'death' && s.sessionId === line.sessionId),
      5000,
      'death',
    );
    expect(status().find((s) => s.kind === 'death')).toMatchObject({ reason: 'shutdown' });

    // Killed outright: the broker publishes the will (the lock the dead process left is taken over on restart).
    const third = onboard(await args());
    const thirdLine = await started(third);
    await station.waitFor(
      () => status().some((s) => s.kind === 'birth' && s.sessionId === thirdLine.sessionId),
      15_000,
      'birth 2',
    );
    third.proc.kill('SIGKILL');
    await station.waitFor(
      () => status().some((s) => s.kind === 'death' && s.sessionId === thirdLine.sessionId),
      20_000,
      'will',
    );
    const will = status().find((s) => s.kind === 'death' && s.sessionId === thirdLine.sessionId);
    expect(will?.reason).toBeUndefined();
    const fourth = onboard(await args());
    expect((await started(fourth)).sessionId).not.toBe(thirdLine.sessionId);
    fourth.proc.kill('SIGTERM');
    expect((await fourth.exit).code).toBe(0);
  }, 60_000);
});
