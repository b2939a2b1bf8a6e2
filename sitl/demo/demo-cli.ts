/**
 * `aerie demo` (what `npm start` runs): the whole system on embedded defaults, on one machine. A simulated fleet
 * (aerie sitl) around the depot, one `aerie onboard` process per vehicle flying the default policy over MQTT, the
 * station with its embedded broker (a free port when 1883 is taken, or MQTT_URL) and SQLite (or DATABASE_URL), and a
 * generator of delivery orders posted to the station's API. Ctrl-C stops everything cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addCredential, EMPTY_CREDENTIALS, saveCredentials } from '../../ground-station/broker/credentials.js';
import { parseStationConfig } from '../../ground-station/config.js';
import { type StationHandle, startStation } from '../../ground-station/station.js';
import { argvToRaw, configHelp, declareConfig, parseConfig } from '../../shared/config/index.js';
import { isAerieError } from '../../shared/errors.js';
import { rootLogger } from '../../shared/log/index.js';
import { createRng } from '../../shared/random/index.js';
import { PX4_SITL_HOME, PX4_SITL_PORTS, runRealtime, SitlFleet } from '../index.js';

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
    min: 0,
    max: 3600,
    doc: 'Simulated time between generated orders (0: none; create them from the dashboard).',
  },
  maxDropM: {
    type: 'number',
    default: 200,
    unit: 'm',
    min: 20,
    max: 2000,
    doc: 'Farthest generated drop point from the depot.',
  },
  httpPort: {
    type: 'integer',
    default: 8080,
    min: 0,
    max: 65535,
    doc: 'Port of the dashboard and station API (0: a free one).',
  },
  mqttUrl: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Use this broker instead of the embedded one (default: env MQTT_URL).',
  },
  databaseUrl: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'PostgreSQL for the station instead of SQLite (default: env DATABASE_URL).',
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
      return await SitlFleet.start({ vehicles: drones, seed, homeSpacingM: 12, ports });
    } catch (err) {
      if (!isAerieError(err, 'PORT_IN_USE')) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

interface DemoDrone {
  readonly index: number;
  readonly id: string;
  readonly child: ChildProcess;
}

/** The station on embedded defaults: its broker on 1883, or a free port when 1883 is taken. */
async function startDemoStation(
  cfg: { httpPort: number; mqttUrl?: string; databaseUrl?: string },
  dir: string,
  drones: number,
) {
  let credentials = EMPTY_CREDENTIALS;
  const passwords = new Map<string, string>();
  for (let i = 1; i <= drones; i++) {
    const made = addCredential(credentials, `drone-${i}`, 'drone', Date.now(), { N: 1024, r: 8, p: 1 });
    credentials = made.credentials;
    passwords.set(`drone-${i}`, made.password);
  }
  const credentialsFile = join(dir, 'credentials.json');
  saveCredentials(credentialsFile, credentials);
  const base = {
    credentials: credentialsFile,
    db: join(dir, 'station.db'),
    httpPort: cfg.httpPort,
    ...(cfg.mqttUrl ? { mqttUrl: cfg.mqttUrl } : {}),
    ...(cfg.databaseUrl ? { databaseUrl: cfg.databaseUrl } : {}),
    ...(process.env.AERIE_OPERATOR_TOKEN ? { operatorToken: process.env.AERIE_OPERATOR_TOKEN } : {}),
  };
  let station: StationHandle;
  try {
    station = await startStation(parseStationConfig(base));
  } catch (err) {
    if (!isAerieError(err, 'PORT_IN_USE') || cfg.mqttUrl || !String(err).includes('1883')) throw err;
    process.stdout.write(
      'aerie demo: port 1883 is taken (another broker runs here); the embedded broker takes a free port\n',
    );
    station = await startStation(parseStationConfig({ ...base, mqttPort: 0 }));
  }
  return { station, passwords };
}

export async function main(argv: string[]): Promise<number> {
  const cfg = parseConfig(DEMO_SCHEMA, argvToRaw(DEMO_SCHEMA, argv).raw);
  if (cfg.help) {
    process.stdout.write(`usage: aerie demo [options]\n\n${configHelp(DEMO_SCHEMA)}\n`);
    return 0;
  }
  // The demo's own output is the story; component logs only when asked for (AERIE_LOG_LEVEL).
  rootLogger.level = process.env.AERIE_LOG_LEVEL ?? 'warn';
  const dir = mkdtempSync(join(tmpdir(), 'aerie-demo-'));
  const mqttUrl = cfg.mqttUrl ?? process.env.MQTT_URL;
  let started: Awaited<ReturnType<typeof startDemoStation>>;
  try {
    started = await startDemoStation(
      { httpPort: cfg.httpPort, mqttUrl, databaseUrl: cfg.databaseUrl ?? process.env.DATABASE_URL },
      dir,
      cfg.drones,
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    if (isAerieError(err, 'PORT_IN_USE') && String(err).includes(`port ${cfg.httpPort}`)) {
      process.stderr.write(
        `aerie demo: the dashboard's port ${cfg.httpPort} is already taken by another program; ` +
          'start with --http-port N (or --http-port 0 for a free one)\n',
      );
      return 2;
    }
    throw err;
  }
  const { station, passwords } = started;
  const fleet = await startFleet(cfg.drones, cfg.seed);
  const abort = new AbortController();
  const sim = runRealtime(fleet, { speed: cfg.speed, signal: abort.signal });

  const drones: DemoDrone[] = fleet.endpoints.map((e) => {
    const id = `drone-${e.index + 1}`;
    const passwordFile = join(dir, `${id}.password`);
    writeFileSync(passwordFile, passwords.get(id) ?? '', { mode: 0o600 });
    const args = [binPath, 'onboard', '--mavlink', e.companionUrl, '--id', id, '--time-scale', String(cfg.speed)];
    args.push('--mqtt-url', station.mqttUrl, '--data-dir', join(dir, id), '--no-stdin-control');
    if (!mqttUrl) args.push('--mqtt-username', id, '--mqtt-password-file', passwordFile);
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, AERIE_LOG_LEVEL: process.env.AERIE_LOG_LEVEL ?? 'warn' },
    });
    return { index: e.index, id, child };
  });

  process.stdout.write(
    [
      `aerie demo: ${cfg.drones} simulated drones at ${cfg.speed}x around the depot (${PX4_SITL_HOME.latDeg}, ${PX4_SITL_HOME.lonDeg})`,
      `  dashboard:      ${station.httpUrl}/`,
      `  operator login: ${station.operatorToken}${process.env.AERIE_OPERATOR_TOKEN ? ' (from AERIE_OPERATOR_TOKEN)' : ' (set AERIE_OPERATOR_TOKEN to choose it)'}`,
      `  station API:    ${station.httpUrl}/api/fleet (Authorization: Bearer <operator login>)`,
      `  MQTT broker:    ${station.mqttUrl}${mqttUrl ? '' : ' (embedded)'}`,
      `  database:       ${station.store.kind === 'sqlite' ? 'SQLite (temporary)' : 'PostgreSQL'}`,
      cfg.orderEveryS > 0
        ? `  orders:         one every ${cfg.orderEveryS} s (simulated)`
        : '  orders:         none generated',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  // The order generator: random drop points around the depot, posted to the station, which assigns them.
  const rng = createRng(cfg.seed);
  const open = new Map<string, number>();
  const tally = { orders: 0, delivered: 0, failed: 0 };
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${station.httpUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${station.operatorToken}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const order = async () => {
    const bearing = rng.next() * 2 * Math.PI;
    const range = 30 + rng.next() * (cfg.maxDropM - 30);
    const drop = { northM: Math.round(range * Math.cos(bearing)), eastM: Math.round(range * Math.sin(bearing)) };
    const res = await api('/api/deliveries', {
      method: 'POST',
      body: JSON.stringify({ drop, weightKg: Math.round((0.5 + rng.next() * 2) * 10) / 10, priority: 1 + rng.int(5) }),
    });
    if (res.status !== 201) {
      process.stdout.write(`order refused (${res.status}): ${JSON.stringify(res.body)}\n`);
      return;
    }
    tally.orders++;
    open.set(String(res.body.id), tally.orders);
    process.stdout.write(`order ${tally.orders}: drop ${drop.northM} m N, ${drop.eastM} m E\n`);
  };
  const follow = async () => {
    for (const [id, n] of open) {
      const res = await api(`/api/deliveries/${id}`);
      const status = String(res.body.status);
      if (status === 'delivered' || status === 'failed' || status === 'cancelled') {
        open.delete(id);
        if (status === 'delivered') tally.delivered++;
        else tally.failed++;
        const by = (res.body.droneId as string | undefined) ?? '';
        process.stdout.write(
          `order ${n}: ${status}${by ? ` by ${by}` : ''}  [delivered ${tally.delivered}, failed ${tally.failed}]\n`,
        );
      }
    }
  };
  const safely = (f: () => Promise<void>) => () => {
    f().catch((err: unknown) => process.stdout.write(`aerie demo: ${String(err)}\n`));
  };
  const orderTimer = cfg.orderEveryS > 0 ? setInterval(safely(order), (cfg.orderEveryS * 1000) / cfg.speed) : undefined;
  const followTimer = setInterval(safely(follow), 2000);
  const firstOrder = cfg.orderEveryS > 0 ? setTimeout(safely(order), 5000) : undefined;

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (cfg.runForS > 0) setTimeout(resolve, cfg.runForS * 1000);
  });
  process.stdout.write('aerie demo: stopping\n');
  // Drones going offline is the point of stopping; the station need not warn about each one.
  if (process.env.AERIE_LOG_LEVEL === undefined) rootLogger.level = 'error';
  clearInterval(orderTimer);
  clearTimeout(firstOrder);
  clearInterval(followTimer);
  await Promise.all(
    drones.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
  abort.abort();
  await sim;
  await fleet.close();
  await station.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`aerie demo: ${tally.orders} orders, ${tally.delivered} delivered, ${tally.failed} failed\n`);
  return 0;
}
