/**
 * `aerie onboard`'s uplink flags and how they combine with the "uplink" section of --config: a flag given on the
 * command line wins over the section, the section over the defaults. Without --mqtt-url (flag or section) the uplink
 * is off.
 */
import { readFileSync } from 'node:fs';
import { declareConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';
import { parseUplinkConfig, type UplinkConfig } from './config.js';

export const UPLINK_FLAGS = declareConfig({
  mqttUrl: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Ground station MQTT broker (mqtt://HOST:PORT, mqtts://, ws://, wss://); without it the uplink is off.',
  },
  mqttUsername: { type: 'string', default: undefined, optional: true, doc: 'Broker username (default: --id).' },
  mqttPassword: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Broker password (visible to ps; prefer --mqtt-password-file).',
  },
  mqttPasswordFile: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'File holding the broker password (first line).',
  },
  mqttProtocol: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'MQTT protocol version: 4 = 3.1.1 (default; the embedded broker speaks it), 5 = MQTT 5.',
  },
  dataDir: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Directory for the store-and-forward queue (default ./aerie-data).',
  },
  telemetryHz: { type: 'string', default: undefined, optional: true, doc: 'Telemetry rate, 1-10 Hz (default 2).' },
});

export interface UplinkFlagValues {
  readonly id: string;
  readonly mqttUrl: string | undefined;
  readonly mqttUsername: string | undefined;
  readonly mqttPassword: string | undefined;
  readonly mqttPasswordFile: string | undefined;
  readonly mqttProtocol: string | undefined;
  readonly dataDir: string | undefined;
  readonly telemetryHz: string | undefined;
}

/** The uplink configuration, or null when no broker URL was given (the uplink is off). Throws on bad values. */
export function uplinkConfigFromFlags(
  flags: UplinkFlagValues,
  section: Record<string, unknown> = {},
): UplinkConfig | null {
  const raw: Record<string, unknown> = { ...section, id: flags.id };
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) raw[key] = value;
  };
  set('mqttUrl', flags.mqttUrl);
  set('mqttUsername', flags.mqttUsername);
  set('mqttPassword', flags.mqttPassword);
  set('mqttProtocol', flags.mqttProtocol);
  set('dataDir', flags.dataDir);
  set('telemetryHz', flags.telemetryHz);
  if (flags.mqttPasswordFile !== undefined) {
    if (flags.mqttPassword !== undefined) {
      throw new AerieError('CONFIG_CONFLICT', '--mqtt-password and --mqtt-password-file: give one');
    }
    try {
      raw.mqttPassword = readFileSync(flags.mqttPasswordFile, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new AerieError(
        'FILE_NOT_FOUND',
        `--mqtt-password-file ${flags.mqttPasswordFile}: ${(err as Error).message}`,
      );
    }
  }
  if (raw.mqttUrl === undefined) return null;
  return parseUplinkConfig(raw);
}
