/**
 * The uplink's configuration, declared once (name, type, default, unit, range, meaning). `aerie onboard` fills the
 * common keys from flags (--mqtt-url, --mqtt-username, ...) and the rest from the "uplink" section of --config.
 */
import { type ConfigOf, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';
import { isValidDroneId } from '../../shared/protocol/index.js';

export const UPLINK_CONFIG_SCHEMA = declareConfig({
  mqttUrl: {
    type: 'string',
    default: 'mqtt://127.0.0.1:1883',
    doc: 'MQTT broker: mqtt://HOST:PORT, mqtts://, ws:// or wss://.',
  },
  id: {
    type: 'string',
    default: 'drone-1',
    doc: "This drone's id ([A-Za-z0-9_-]{1,64}); also its MQTT username by default.",
  },
  mqttUsername: { type: 'string', default: undefined, optional: true, doc: 'Broker username (default: the drone id).' },
  mqttPassword: { type: 'string', default: undefined, optional: true, doc: 'Broker password.' },
  mqttProtocol: {
    type: 'integer',
    default: 4,
    min: 4,
    max: 5,
    doc: 'MQTT protocol version: 4 = 3.1.1 (what the embedded aedes broker speaks), 5 = MQTT 5.',
  },
  dataDir: { type: 'string', default: 'aerie-data', doc: 'Directory for the store-and-forward queue (outbox/).' },
  telemetryHz: { type: 'number', default: 2, unit: 'Hz', min: 1, max: 10, doc: 'Telemetry rate (QoS 0).' },
  metricsWindowS: { type: 'number', default: 10, unit: 's', min: 0.5, max: 3600, doc: 'Length of a metrics window.' },
  eventWindowMs: {
    type: 'integer',
    default: 1000,
    unit: 'ms',
    min: 100,
    max: 60_000,
    doc: 'Interventions and faults are aggregated into one event per window.',
  },
  experienceBatchMax: {
    type: 'integer',
    default: 50,
    min: 1,
    max: 500,
    doc: 'Experience records per message at most.',
  },
  experienceFlushMs: {
    type: 'integer',
    default: 1000,
    unit: 'ms',
    min: 50,
    max: 60_000,
    doc: 'Send a partial experience batch after this long.',
  },
  queueMaxBytes: {
    type: 'integer',
    default: 64 * 1024 * 1024,
    unit: 'B',
    min: 4096,
    max: 2 ** 40,
    doc: 'Bound of the store-and-forward queue on disk (see docs/protocol.md for the drop policy).',
  },
  queueSegmentBytes: {
    type: 'integer',
    default: 0,
    unit: 'B',
    min: 0,
    max: 64 * 1024 * 1024,
    doc: 'Segment file size; 0 = min(1 MiB, queueMaxBytes / 16).',
  },
  inflightMax: { type: 'integer', default: 32, min: 1, max: 1000, doc: 'QoS 1 messages awaiting PUBACK at most.' },
  keepaliveS: {
    type: 'integer',
    default: 10,
    unit: 's',
    min: 1,
    max: 600,
    doc: 'MQTT keepalive; the broker publishes the death after 1.5 x this of silence.',
  },
  connectTimeoutMs: {
    type: 'integer',
    default: 5000,
    unit: 'ms',
    min: 100,
    max: 120_000,
    doc: 'Give up a connection attempt after this long.',
  },
  reconnectMinMs: {
    type: 'integer',
    default: 500,
    unit: 'ms',
    min: 10,
    max: 600_000,
    doc: 'First reconnect delay; doubles per failed attempt.',
  },
  reconnectMaxMs: {
    type: 'integer',
    default: 10_000,
    unit: 'ms',
    min: 10,
    max: 600_000,
    doc: 'Longest reconnect delay.',
  },
  trafficMaxAgeMs: {
    type: 'integer',
    default: 3000,
    unit: 'ms',
    min: 100,
    max: 60_000,
    doc: 'Neighbour traffic older than this is dropped.',
  },
});

export type UplinkConfig = ConfigOf<typeof UPLINK_CONFIG_SCHEMA>;

/** Validate a raw uplink section: unknown keys refused, ranges and cross-key rules checked, result frozen. */
export function parseUplinkConfig(raw: Record<string, unknown>): UplinkConfig {
  const cfg = parseConfig(UPLINK_CONFIG_SCHEMA, raw);
  if (!isValidDroneId(cfg.id)) {
    throw new AerieError('CONFIG_INVALID_VALUE', `id: ${JSON.stringify(cfg.id)} is not [A-Za-z0-9_-]{1,64}`, {
      key: 'id',
    });
  }
  if (!/^(mqtts?|wss?):\/\/[^\s/]+/.test(cfg.mqttUrl)) {
    throw new AerieError(
      'MQTT_URL_INVALID',
      `${JSON.stringify(cfg.mqttUrl)} is not mqtt://HOST:PORT, mqtts://, ws:// or wss://`,
    );
  }
  if (cfg.reconnectMaxMs < cfg.reconnectMinMs) {
    throw new AerieError(
      'CONFIG_CONFLICT',
      `reconnectMaxMs (${cfg.reconnectMaxMs}) < reconnectMinMs (${cfg.reconnectMinMs})`,
    );
  }
  if (cfg.queueSegmentBytes !== 0 && cfg.queueSegmentBytes * 2 > cfg.queueMaxBytes) {
    throw new AerieError(
      'CONFIG_CONFLICT',
      `queueSegmentBytes (${cfg.queueSegmentBytes}) must be at most half of queueMaxBytes (${cfg.queueMaxBytes})`,
    );
  }
  return cfg;
}

/** The segment size in effect. */
export function segmentBytesOf(cfg: Pick<UplinkConfig, 'queueMaxBytes' | 'queueSegmentBytes'>): number {
  return cfg.queueSegmentBytes > 0
    ? cfg.queueSegmentBytes
    : Math.max(1024, Math.min(1024 * 1024, Math.floor(cfg.queueMaxBytes / 16)));
}
