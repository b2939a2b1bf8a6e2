/**
 * `aerie station`: run the ground station (embedded broker or --mqtt-url, HTTP API, assignment, monitoring) until
 * SIGINT/SIGTERM; and its helpers: add-drone / add-operator (credentials, password printed once), mosquitto-config
 * (the equivalent Mosquitto password and ACL files), export-experience (the stored experience as a dataset file).
 */
import type { Readable } from 'node:stream';
import { argvToRaw, type ConfigSchema, configHelp, declareConfig, parseConfig } from '../shared/config/index.js';
import { AerieError, isAerieError } from '../shared/errors.js';
import { componentLogger, rootLogger } from '../shared/log/index.js';
import {
  addCredential,
  type BrokerRole,
  DropCounters,
  loadCredentials,
  saveCredentials,
  writeMosquittoConfig,
} from './broker/index.js';
import { STATION_CONFIG, type StationConfig } from './config.js';
import { ExperienceStore } from './experience/index.js';
import { type StationHandle, startStation } from './station.js';
import { openStore } from './storage/index.js';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly stdin?: Readable | null;
  /** Stops a running station like SIGINT (tests). */
  readonly signal?: AbortSignal;
  /** Called once the station is up (tests). */
  readonly onStarted?: (station: StationHandle) => void;
  /** Environment to read AERIE_OPERATOR_TOKEN, AERIE_MQTT_PASSWORD and DATABASE_URL from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const DEFAULT_IO: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

export const USAGE = `Usage: aerie station [options]                  run the ground station
       aerie station add-drone ID [--credentials FILE]
       aerie station add-operator NAME [--credentials FILE]
       aerie station mosquitto-config --out DIR [--credentials FILE] [--mqtt-port N]
       aerie station export-experience --out FILE [--db FILE | --database-url URL] [--drone ID] [--policy-version V]

The station runs an embedded MQTT broker (aedes, MQTT 3.1.1) on --mqtt-port with a login per drone and operator
and a per-drone ACL, or uses the broker at --mqtt-url (e.g. Mosquitto). Its JSON API listens on --http-port; every
/api call needs "Authorization: Bearer <operator token>". GET /metrics serves Prometheus text.
Environment: AERIE_OPERATOR_TOKEN, AERIE_MQTT_PASSWORD and DATABASE_URL stand in for the matching flags.

Options:
`;

const pick = (keys: readonly (keyof typeof STATION_CONFIG)[]): ConfigSchema =>
  Object.fromEntries(keys.map((k) => [k, STATION_CONFIG[k]]));

const CREDENTIALS_CLI = declareConfig({ credentials: STATION_CONFIG.credentials });
const MOSQUITTO_CLI = declareConfig({
  credentials: STATION_CONFIG.credentials,
  out: { type: 'string', default: '', doc: 'Directory to write passwords, acl and aerie-mosquitto.conf into.' },
  mqttPort: { ...STATION_CONFIG.mqttPort, default: 1883, doc: 'Listener port written into aerie-mosquitto.conf.' },
});
const EXPORT_CLI = declareConfig({
  ...(pick(['db', 'databaseUrl', 'databaseSchema']) as Pick<
    typeof STATION_CONFIG,
    'db' | 'databaseUrl' | 'databaseSchema'
  >),
  out: { type: 'string', default: '', doc: 'Dataset file to write (shared/experience format).' },
  drone: { type: 'string', default: undefined, optional: true, doc: 'Only this drone.' },
  policyVersion: { type: 'string', default: undefined, optional: true, doc: 'Only this policy version.' },
});

function parse<S extends ConfigSchema>(schema: S, argv: readonly string[], maxPositional: number) {
  const { raw, positional } = argvToRaw(schema, argv);
  if (positional.length > maxPositional) {
    throw new AerieError('CLI_USAGE', `unexpected argument(s): ${positional.slice(maxPositional).join(' ')}`);
  }
  return { config: parseConfig(schema, raw), positional };
}

export async function main(argv: string[], io: CliIo = DEFAULT_IO): Promise<number> {
  const [sub, ...rest] = argv;
  const help = argv.includes('--help') || argv.includes('-h');
  try {
    switch (sub) {
      case 'add-drone':
      case 'add-operator':
        if (help)
          return printHelp(
            io,
            `aerie station ${sub} ${sub === 'add-drone' ? 'ID' : 'NAME'} [options]\n`,
            CREDENTIALS_CLI,
          );
        return addUser(rest, sub === 'add-drone' ? 'drone' : 'operator', io);
      case 'mosquitto-config':
        if (help) return printHelp(io, 'aerie station mosquitto-config --out DIR [options]\n', MOSQUITTO_CLI);
        return mosquittoConfig(rest, io);
      case 'export-experience':
        if (help) return printHelp(io, 'aerie station export-experience --out FILE [options]\n', EXPORT_CLI);
        return await exportExperience(rest, io);
      default:
        if (help) {
          io.stdout.write(`${USAGE}${configHelp(STATION_CONFIG)}\n  --help\n      Print this help.\n`);
          return 0;
        }
        return await run(sub === 'run' ? rest : argv, io);
    }
  } catch (err) {
    const usage = isAerieError(err, 'CLI_USAGE') || isAerieError(err, 'CONFIG_UNKNOWN_KEY');
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    if (usage) io.stderr.write('Run "aerie station --help" for the options.\n');
    return isAerieError(err, 'PORT_IN_USE') ? 3 : 2;
  }
}

function printHelp(io: CliIo, usage: string, schema: ConfigSchema): number {
  io.stdout.write(`Usage: ${usage}\nOptions:\n${configHelp(schema)}\n`);
  return 0;
}

function addUser(argv: readonly string[], role: BrokerRole, io: CliIo): number {
  const { config, positional } = parse(CREDENTIALS_CLI, argv, 1);
  const name = positional[0];
  if (name === undefined)
    throw new AerieError('CLI_USAGE', `add-${role} needs the ${role === 'drone' ? 'drone id' : 'operator name'}`);
  const file = config.credentials as string;
  const { credentials, password } = addCredential(loadCredentials(file), name, role, Date.now());
  saveCredentials(file, credentials);
  io.stdout.write(
    `${role} ${name} added to ${file}\npassword: ${password}\n` +
      `(shown once; the ${role === 'drone' ? "drone's --mqtt-password" : 'MQTT password of this operator'}. ` +
      'Run mosquitto-config again if the drones use Mosquitto.)\n',
  );
  return 0;
}

function mosquittoConfig(argv: readonly string[], io: CliIo): number {
  const { config } = parse(MOSQUITTO_CLI, argv, 0);
  if (!config.out) throw new AerieError('CLI_USAGE', 'mosquitto-config needs --out DIR');
  const credentials = loadCredentials(config.credentials as string);
  const paths = writeMosquittoConfig(credentials, config.out as string, config.mqttPort as number);
  const n = Object.keys(credentials.users).length;
  io.stdout.write(
    `wrote ${paths.passwords} (${n} user${n === 1 ? '' : 's'}, PBKDF2-SHA512 $7$ hashes as mosquitto_passwd writes them)\n` +
      `wrote ${paths.acl}\nwrote ${paths.conf}\n` +
      `Start Mosquitto with: mosquitto -c ${paths.conf}   (or include its lines in your mosquitto.conf)\n` +
      'Then run the station with --mqtt-url mqtt://HOST:PORT --mqtt-username <operator> --mqtt-password <its password>.\n',
  );
  return 0;
}

async function exportExperience(argv: readonly string[], io: CliIo): Promise<number> {
  const { config } = parse(EXPORT_CLI, argv, 0);
  if (!config.out) throw new AerieError('CLI_USAGE', 'export-experience needs --out FILE');
  const env = io.env ?? process.env;
  const databaseUrl = (config.databaseUrl as string | undefined) ?? env.DATABASE_URL;
  const store = await openStore({
    dbFile: config.db as string,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(config.databaseSchema ? { databaseSchema: config.databaseSchema as string } : {}),
  });
  try {
    const experience = new ExperienceStore(store, new DropCounters(), componentLogger('experience'));
    const filter = {
      ...(config.drone ? { droneId: config.drone as string } : {}),
      ...(config.policyVersion ? { policyVersion: config.policyVersion as string } : {}),
    };
    const written = await experience.exportToFile(config.out as string, filter);
    const stats = await store.experienceStats();
    io.stdout.write(
      `wrote ${config.out}: ${written.batches} batches, ${written.bytes} bytes (the store holds ${stats.records} records in ${stats.batches} batches)\n`,
    );
  } finally {
    await store.close();
  }
  return 0;
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { raw, positional } = argvToRaw(STATION_CONFIG, argv);
  if (positional.length > 0)
    throw new AerieError('CLI_USAGE', `unknown subcommand or argument: ${positional.join(' ')}`);
  const env = io.env ?? process.env;
  // The environment stands in for flags that were not given (secrets stay out of the process list).
  if (raw.operatorToken === undefined && env.AERIE_OPERATOR_TOKEN) raw.operatorToken = env.AERIE_OPERATOR_TOKEN;
  if (raw.mqttPassword === undefined && env.AERIE_MQTT_PASSWORD) raw.mqttPassword = env.AERIE_MQTT_PASSWORD;
  if (raw.databaseUrl === undefined && env.DATABASE_URL) raw.databaseUrl = env.DATABASE_URL;
  const config: StationConfig = parseConfig(STATION_CONFIG, raw);
  rootLogger.level = config.logLevel;

  const station = await startStation(config);
  io.stdout.write(
    `aerie station: http ${station.httpUrl}, mqtt ${station.mqttUrl} (${config.mqttUrl ? 'external' : 'embedded'}), ` +
      `storage ${station.store.kind} ${station.store.where}\n`,
  );
  if (station.operatorTokenGenerated) {
    io.stdout.write(
      `operator token: ${station.operatorToken}\n` +
        '(generated for this run; pass --operator-token or set AERIE_OPERATOR_TOKEN to keep one)\n',
    );
  }
  let stop: (why: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  io.signal?.addEventListener('abort', () => stop('abort'), { once: true });
  if (io.signal?.aborted) stop('abort');
  io.onStarted?.(station);
  const why = await stopped;
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  await station.close();
  io.stdout.write(`aerie station: stopped (${why})\n`);
  return 0;
}
