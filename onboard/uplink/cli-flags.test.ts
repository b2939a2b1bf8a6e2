import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { uplinkConfigFromFlags } from './cli-flags.js';

const none = {
  id: 'd7',
  mqttUrl: undefined,
  mqttUsername: undefined,
  mqttPassword: undefined,
  mqttPasswordFile: undefined,
  mqttProtocol: undefined,
  dataDir: undefined,
  telemetryHz: undefined,
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isAerieError(err) ? err.code : 'not an AerieError';
  }
  return undefined;
}

describe('uplinkConfigFromFlags', () => {
  it('is off without a broker URL', () => {
    expect(uplinkConfigFromFlags(none)).toBeNull();
    expect(uplinkConfigFromFlags(none, { telemetryHz: 3 })).toBeNull();
  });

  it('takes flags over the config section over the defaults', () => {
    const cfg = uplinkConfigFromFlags(
      { ...none, mqttUrl: 'mqtt://broker:1883', telemetryHz: '5' },
      { telemetryHz: 3, metricsWindowS: 30, mqttUrl: 'mqtt://other:1883' },
    );
    expect(cfg).toMatchObject({
      mqttUrl: 'mqtt://broker:1883',
      id: 'd7',
      telemetryHz: 5,
      metricsWindowS: 30,
      mqttProtocol: 4,
      dataDir: 'aerie-data',
    });
    expect(uplinkConfigFromFlags(none, { mqttUrl: 'mqtt://s:1883' })?.mqttUrl).toBe('mqtt://s:1883');
  });

  it('reads the password from a file and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-flags-'));
    try {
      const file = join(dir, 'pw');
      writeFileSync(file, 's3cret\nignored\n');
      expect(uplinkConfigFromFlags({ ...none, mqttUrl: 'mqtt://b:1', mqttPasswordFile: file })?.mqttPassword).toBe(
        's3cret',
      );
      expect(
        code(() =>
          uplinkConfigFromFlags({ ...none, mqttUrl: 'mqtt://b:1', mqttPasswordFile: file, mqttPassword: 'x' }),
        ),
      ).toBe('CONFIG_CONFLICT');
      expect(
        code(() => uplinkConfigFromFlags({ ...none, mqttUrl: 'mqtt://b:1', mqttPasswordFile: join(dir, 'none') })),
      ).toBe('FILE_NOT_FOUND');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad values with their codes', () => {
    expect(code(() => uplinkConfigFromFlags({ ...none, mqttUrl: 'http://b:1' }))).toBe('MQTT_URL_INVALID');
    expect(code(() => uplinkConfigFromFlags({ ...none, mqttUrl: 'mqtt://b:1', telemetryHz: '50' }))).toBe(
      'CONFIG_INVALID_VALUE',
    );
    expect(code(() => uplinkConfigFromFlags({ ...none, id: 'a/b', mqttUrl: 'mqtt://b:1' }))).toBe(
      'CONFIG_INVALID_VALUE',
    );
    expect(code(() => uplinkConfigFromFlags({ ...none, mqttUrl: 'mqtt://b:1' }, { colour: 'red' }))).toBe(
      'CONFIG_UNKNOWN_KEY',
    );
    expect(
      code(() =>
        uplinkConfigFromFlags({ ...none, mqttUrl: 'mqtt://b:1' }, { reconnectMinMs: 500, reconnectMaxMs: 100 }),
      ),
    ).toBe('CONFIG_CONFLICT');
  });
});
