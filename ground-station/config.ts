/** `aerie station` configuration, declared once (name, type, default, unit, range, meaning). */
import { type ConfigOf, declareConfig, parseConfig } from '../shared/config/index.js';
import { EVAL_GATE_SCHEMA } from './rollouts/registry-gate.js';

export const STATION_CONFIG = declareConfig({
  mqttUrl: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Use this MQTT broker (e.g. mqtt://127.0.0.1:1883 for Mosquitto) instead of the embedded one.',
  },
  mqttHost: { type: 'string', default: '127.0.0.1', doc: 'Address the embedded broker listens on (0.0.0.0 for all).' },
  mqttPort: {
    type: 'integer',
    default: 1883,
    min: 0,
    max: 65535,
    doc: 'Port of the embedded broker; 0 takes a free one.',
  },
  mqttUsername: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: "The station's login on an external broker (with --mqtt-url).",
  },
  mqttPassword: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Its password (or env AERIE_MQTT_PASSWORD, which keeps it out of the process list).',
  },
  mqttProtocol: {
    type: 'enum',
    values: ['4', '5'],
    default: '4',
    doc: 'MQTT protocol of the station client: 4 (3.1.1; the embedded broker) or 5 (Mosquitto).',
  },
  sharedGroup: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'MQTT 5 shared-subscription group for experience and metrics, when several stations share a broker.',
  },
  stationId: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Stable id of this station: its MQTT session then survives restarts (queued events and acks kept).',
  },
  credentials: {
    type: 'string',
    default: './aerie-credentials.json',
    doc: 'Broker credentials file (drones and operators; scrypt hashes). Made by add-drone / add-operator.',
  },
  allowAnonymous: {
    type: 'boolean',
    default: false,
    doc: 'Development only: let clients into the embedded broker without a password (the ACL still applies).',
  },
  httpHost: { type: 'string', default: '127.0.0.1', doc: 'Address the HTTP API listens on.' },
  httpPort: { type: 'integer', default: 8080, min: 0, max: 65535, doc: 'Port of the HTTP API; 0 takes a free one.' },
  operatorToken: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Bearer token of the HTTP API (or env AERIE_OPERATOR_TOKEN); one is generated and printed if neither.',
  },
  metricsToken: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Bearer token for GET /metrics; without it the Prometheus endpoint is open.',
  },
  db: { type: 'string', default: './aerie-station.db', doc: 'SQLite database file (when no database URL is given).' },
  databaseUrl: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'PostgreSQL URL (or env DATABASE_URL); used instead of SQLite when set.',
  },
  databaseSchema: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'PostgreSQL schema to use (created if missing).',
  },
  depots: {
    type: 'string',
    default: 'main=47.397742,8.545594,488',
    doc: 'Depots as ID=lat,lon,altAmsl;... The first is the default pickup and the fleet frame origin.',
  },
  airspace: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Fleet airspace JSON file (geofence, no-fly zones; NE metres from the first depot) published at start.',
  },
  roundInterval: {
    type: 'number',
    default: 2,
    unit: 's',
    min: 0.05,
    max: 600,
    doc: 'Assignment round period (a round also runs soon after any change).',
  },
  ackTimeout: {
    type: 'number',
    default: 10,
    unit: 's',
    min: 0.1,
    max: 3600,
    doc: 'An assign-delivery with no ack by then goes back to the queue.',
  },
  rejectCooldown: {
    type: 'number',
    default: 30,
    unit: 's',
    min: 0,
    max: 3600,
    doc: 'A drone that rejected or did not answer sits out rounds this long.',
  },
  maxAttempts: {
    type: 'integer',
    default: 3,
    min: 1,
    max: 100,
    doc: 'Hand-outs of one order before it fails instead of going back to the queue.',
  },
  inFlightOfflineGrace: {
    type: 'number',
    default: 60,
    unit: 's',
    min: 0,
    max: 86_400,
    doc: 'How long an in-flight order waits for its offline drone to come back with the task before it fails.',
  },
  cruiseAlt: {
    type: 'number',
    default: 30,
    unit: 'm',
    min: 3,
    max: 120,
    doc: 'Cruise altitude sent with each delivery.',
  },
  releaseBy: {
    type: 'enum',
    values: ['hover', 'land'],
    default: 'hover',
    doc: 'How drones release parcels: lowered from a hover, or after landing.',
  },
  maxDropDistance: {
    type: 'number',
    default: 20_000,
    unit: 'm',
    min: 1,
    max: 1_000_000,
    doc: 'Orders dropping farther than this from their depot are refused.',
  },
  staleAfter: {
    type: 'number',
    default: 5,
    unit: 's',
    min: 0.1,
    max: 3600,
    doc: 'Telemetry older than this marks an online drone stale (not assignable).',
  },
  alertInterval: {
    type: 'number',
    default: 5,
    unit: 's',
    min: 0.05,
    max: 3600,
    doc: 'Alert evaluation period.',
  },
  webhook: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'POST alert transitions to this URL as JSON.',
  },
  trafficRate: {
    type: 'number',
    default: 2,
    unit: 'Hz',
    min: 0,
    max: 10,
    doc: 'Rate of the fleet traffic message (neighbour positions for separation); 0 turns it off.',
  },
  flushInterval: {
    type: 'number',
    default: 10,
    unit: 's',
    min: 0.05,
    max: 3600,
    doc: 'How often fleet state is written to the database (births and deaths are written at once).',
  },
  releaseKey: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Release key (Ed25519 PEM) that signs the seeded baseline; default keys/release.key beside --db, made on first start.',
  },
  trustedKeys: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: "Folder of .pub keys whose bundles the policy registry accepts besides the station's own release key.",
  },
  seedPolicy: {
    type: 'boolean',
    default: true,
    doc: "Register the drones' default policy as the active baseline at start (--no-seed-policy: do not).",
  },
  publicUrl: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'The HTTP API as drones reach it (http://host:8080): installs then send a URL instead of MQTT chunks.',
  },
  ...EVAL_GATE_SCHEMA,
  logLevel: {
    type: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    doc: 'Log level (logs go to stderr).',
  },
});

export type StationConfig = ConfigOf<typeof STATION_CONFIG>;

/** Validate a raw configuration (unknown keys refused, defaults filled). */
export function parseStationConfig(raw: Record<string, unknown>): StationConfig {
  return parseConfig(STATION_CONFIG, raw);
}
