/**
 * `aerie demo` (what `npm start` runs): the whole system on embedded defaults, on one machine. A simulated fleet
 * (aerie sitl) around a depot, one `aerie onboard` process per vehicle flying the default policy, and a generator of
 * delivery orders. Ctrl-C stops everything cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { argvToRaw, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { isAerieError } from '../../shared/errors.js';
import { rootLogger } from '../../shared/log/index.js';
import { createRng } from '../../shared/random/index.js';
import { PX4_SITL_PORTS, runRealtime, SitlFleet } from '../index.js';

export const DEMO_SCHEMA = declareConfig({
  drones: {
    type: 'integer',
    default: 5,
    min: 1,
    max: 50,
    doc: 'How many simulated drones (each with its own onboard process).',
  },
  speed: {
    type: 'number',
    default: 1,
    unit: 'x',
    min: 0.5,
    max: 10,
    doc: 'Simulation speed factor (the onboard runtimes follow it).',
  },
  seed: {
    type: 'integer',
    default: 1,
    min: 0,
    max: 2 ** 31 - 1,
    doc: 'Seed for the simulation and the order generator.',
  },
  orderEveryS: {
    type: 'number',
    default: 20,
    unit: 's',
    min: 1,
    max: 3600,
    doc: 'Mean simulated time between generated orders.',
  },
  maxDropM: {
    type: 'number',
    default: 200,
    unit: 'm',
    min: 20,
    max: 2000,
    doc: 'Farthest generated drop point from the depot.',
  },
  runForS: {
    type: 'number',
    default: 0,
    unit: 's',
    min: 0,
    max: 86_400,
    doc: 'Stop after this many wall seconds (0: until Ctrl-C).',
  },
  help: { type: 'boolean', default: false, doc: 'Show this help.' },
});

const binPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'aerie.js');

async function startFleet(drones: number, seed: number): Promise<SitlFleet> {
  // PX4's own ports first, so QGroundControl finds the vehicles; other ports when a real PX4 SITL holds them.
  const bases = [PX4_SITL_PORTS.onboardListenBase, 24580, 34580, 44580];
  let lastError: unknown;
  for (const base of bases) {
    const ports =
      base === PX4_SITL_PORTS.onboardListenBase
        ? PX4_SITL_PORTS
        : {
            onboardListenBase: base,
            onboardRemoteBase: base - 40,
            gcsListenBase: base + 4000,
            gcsRemotePort: base - 30,
          };
    try {
      return await SitlFleet.start({ vehicles: drones, seed, homeSpacingM: 4, ports });
    } catch (err) {
      if (!isAerieError(err, 'PORT_IN_USE')) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

export async function main(argv: string[]): Promise<number> {
  const cfg = parseConfig(DEMO_SCHEMA, argvToRaw(DEMO_SCHEMA, argv).raw);
  if (cfg.help) {
    process.stdout.write(`usage: aerie demo [options]\n\n${configHelp(DEMO_SCHEMA)}\n`);
    return 0;
  }
  // The demo's own output is the story; component logs only when asked for (AERIE_LOG_LEVEL).
  rootLogger.level = process.env.AERIE_LOG_LEVEL ?? 'warn';
  const fleet = await startFleet(cfg.drones, cfg.seed);
  const abort = new AbortController();
  const sim = runRealtime(fleet, { speed: cfg.speed, signal: abort.signal });
  process.stdout.write(`aerie demo: ${cfg.drones} simulated drones at ${cfg.speed}x around the depot\n`);

  const idle = new Set<number>();
  const delivered = { ok: 0, failed: 0 };
  const children: ChildProcess[] = fleet.endpoints.map((e) => {
    const child = spawn(
      process.execPath,
      [
        binPath,
        'onboard',
        '--mavlink',
        e.companionUrl,
        '--id',
        `drone-${e.index + 1}`,
        '--time-scale',
        String(cfg.speed),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, AERIE_LOG_LEVEL: process.env.AERIE_LOG_LEVEL ?? 'warn' },
      },
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let ev: { kind?: string; outcome?: string; phase?: string; detail?: string };
      try {
        ev = JSON.parse(line);
      } catch {
        return;
      }
      if (ev.kind === 'autopilot-up') idle.add(e.index);
      if (ev.kind === 'mission-outcome') {
        if (ev.outcome === 'delivered') delivered.ok++;
        else delivered.failed++;
        idle.add(e.index);
        process.stdout.write(
          `drone-${e.index + 1}: ${ev.outcome}${ev.detail ? ` (${ev.detail})` : ''}  [delivered ${delivered.ok}, failed ${delivered.failed}]\n`,
        );
      }
    });
    return child;
  });

  // The order generator: random drop points around the depot, handed to an idle drone.
  const rng = createRng(cfg.seed);
  let orders = 0;
  const generate = () => {
    const free = [...idle];
    if (free.length > 0) {
      const i = free[rng.int(free.length)];
      const bearing = rng.next() * 2 * Math.PI;
      const range = 30 + rng.next() * (cfg.maxDropM - 30);
      const to = [Math.round(range * Math.cos(bearing)), Math.round(range * Math.sin(bearing))];
      idle.delete(i);
      orders++;
      children[i].stdin?.write(`${JSON.stringify({ cmd: 'deliver', to })}\n`);
      process.stdout.write(`order ${orders}: drone-${i + 1} to ${to[0]} m N, ${to[1]} m E\n`);
    }
  };
  const orderTimer = setInterval(generate, (cfg.orderEveryS * 1000) / cfg.speed);
  setTimeout(generate, 3000);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (cfg.runForS > 0) setTimeout(resolve, cfg.runForS * 1000);
  });
  process.stdout.write('aerie demo: stopping\n');
  clearInterval(orderTimer);
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
  abort.abort();
  await sim;
  await fleet.close();
  process.stdout.write(`aerie demo: ${orders} orders, ${delivered.ok} delivered, ${delivered.failed} failed\n`);
  return 0;
}
