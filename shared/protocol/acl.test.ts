import { describe, expect, it } from 'vitest';
import { isAerieError } from '../errors.js';
import { type AclAction, type AclPrincipal, aclAllows, mosquittoAcl } from './index.js';

const drone: AclPrincipal = { username: 'd1', role: 'drone' };
const station: AclPrincipal = { username: 'station', role: 'station' };
const operator: AclPrincipal = { username: 'alice', role: 'operator' };

type Row = [AclPrincipal, AclAction, string, boolean];

const TABLE: Row[] = [
  // A drone publishes its own telemetry channels, nothing else.
  [drone, 'publish', 'aerie/v1/drones/d1/status', true],
  [drone, 'publish', 'aerie/v1/drones/d1/telemetry', true],
  [drone, 'publish', 'aerie/v1/drones/d1/events', true],
  [drone, 'publish', 'aerie/v1/drones/d1/metrics', true],
  [drone, 'publish', 'aerie/v1/drones/d1/experience', true],
  [drone, 'publish', 'aerie/v1/drones/d1/acks', true],
  [drone, 'publish', 'aerie/v1/drones/d1/commands', false],
  [drone, 'publish', 'aerie/v1/drones/d2/commands', false],
  [drone, 'publish', 'aerie/v1/drones/d1/bundle', false],
  [drone, 'publish', 'aerie/v1/drones/d2/status', false],
  [drone, 'publish', 'aerie/v1/drones/d2/telemetry', false],
  [drone, 'publish', 'aerie/v1/fleet/estop', false],
  [drone, 'publish', 'aerie/v1/fleet/airspace', false],
  [drone, 'publish', 'aerie/v1/fleet/traffic', false],
  [drone, 'publish', 'aerie/v1/drones/d1/status/x', false],
  [drone, 'publish', 'aerie/v1/drones/d1/+', false],
  [drone, 'publish', 'aerie/v1/drones/d1/#', false],
  [drone, 'publish', 'other/topic', false],
  [drone, 'publish', '', false],
  // A drone subscribes to its commands and the fleet topics only.
  [drone, 'subscribe', 'aerie/v1/drones/d1/commands', true],
  [drone, 'subscribe', 'aerie/v1/drones/d1/bundle', true],
  [drone, 'subscribe', 'aerie/v1/drones/d2/bundle', false],
  [drone, 'subscribe', 'aerie/v1/drones/+/bundle', false],
  [drone, 'subscribe', 'aerie/v1/fleet/#', true],
  [drone, 'subscribe', 'aerie/v1/fleet/traffic', true],
  [drone, 'subscribe', 'aerie/v1/fleet/+', true],
  [drone, 'subscribe', 'aerie/v1/drones/d2/commands', false],
  [drone, 'subscribe', 'aerie/v1/drones/+/commands', false],
  [drone, 'subscribe', 'aerie/v1/drones/d1/#', false],
  [drone, 'subscribe', 'aerie/v1/drones/d1/+', false],
  [drone, 'subscribe', 'aerie/v1/drones/d1/telemetry', false],
  [drone, 'subscribe', 'aerie/v1/drones/+/telemetry', false],
  [drone, 'subscribe', 'aerie/v1/#', false],
  [drone, 'subscribe', 'aerie/v1/+/#', false],
  [drone, 'subscribe', '#', false],
  [drone, 'subscribe', 'aerie/v1/fleet/#/x', false],
  [drone, 'subscribe', 'aerie/v1/fleet/tr+', false],
  // A bad drone username can do nothing, even on a topic that would match its literal name.
  [{ username: 'a/b', role: 'drone' }, 'publish', 'aerie/v1/drones/a/b/status', false],
  [{ username: '+', role: 'drone' }, 'publish', 'aerie/v1/drones/+/status', false],
  [{ username: '+', role: 'drone' }, 'subscribe', 'aerie/v1/drones/+/commands', false],
  // The station and operators command and read everything, but cannot speak for a drone.
  [station, 'publish', 'aerie/v1/drones/d1/commands', true],
  [station, 'publish', 'aerie/v1/drones/d1/bundle', true],
  [station, 'publish', 'aerie/v1/drones/+/bundle', false],
  [station, 'publish', 'aerie/v1/fleet/estop', true],
  [station, 'publish', 'aerie/v1/fleet/airspace', true],
  [station, 'publish', 'aerie/v1/fleet/traffic', true],
  [station, 'publish', 'aerie/v1/fleet/other', false],
  [station, 'publish', 'aerie/v1/drones/d1/status', false],
  [station, 'publish', 'aerie/v1/drones/d1/acks', false],
  [station, 'publish', 'aerie/v1/drones/+/commands', false],
  [station, 'publish', 'aerie/v1/drones/bad id/commands', false],
  [station, 'subscribe', 'aerie/v1/#', true],
  [station, 'subscribe', 'aerie/v1/drones/+/status', true],
  [station, 'subscribe', '#', true],
  [station, 'subscribe', 'a/#/b', false],
  [operator, 'publish', 'aerie/v1/drones/d7/commands', true],
  [operator, 'publish', 'aerie/v1/fleet/estop', true],
  [operator, 'publish', 'aerie/v1/drones/d7/telemetry', false],
  [operator, 'subscribe', 'aerie/v1/drones/d7/telemetry', true],
  [{ username: '', role: 'operator' }, 'subscribe', '#', false],
];

describe('aclAllows', () => {
  it.each(TABLE)('%o %s %s -> %s', (who, action, topic, expected) => {
    expect(aclAllows(who, action, topic)).toBe(expected);
  });

  it('refuses unknown roles and malformed input without throwing', () => {
    expect(aclAllows({ username: 'd1', role: 'admin' as never }, 'subscribe', '#')).toBe(false);
    expect(aclAllows(drone, 'publish', undefined as never)).toBe(false);
    expect(aclAllows(drone, 'publish', 'aerie/v1/drones/d1/status\u0000')).toBe(false);
    expect(aclAllows(station, 'subscribe', `aerie/${'x/'.repeat(600)}`)).toBe(false);
  });
});

describe('mosquittoAcl', () => {
  it('writes one user block per drone and operator with the same grants', () => {
    const text = mosquittoAcl({ drones: ['d1'], operators: ['station'] });
    const block = (user: string) => text.split('\n\n').find((b) => b.includes(`user ${user}\n`)) ?? '';
    const d1 = block('d1')
      .split('\n')
      .filter((l) => l.startsWith('topic '));
    expect(d1).toEqual([
      'topic write aerie/v1/drones/d1/status',
      'topic write aerie/v1/drones/d1/telemetry',
      'topic write aerie/v1/drones/d1/events',
      'topic write aerie/v1/drones/d1/metrics',
      'topic write aerie/v1/drones/d1/experience',
      'topic write aerie/v1/drones/d1/acks',
      'topic read aerie/v1/drones/d1/commands',
      'topic read aerie/v1/drones/d1/bundle',
      'topic read aerie/v1/fleet/#',
    ]);
    // Every written topic is one aclAllows grants the same account.
    for (const line of d1) {
      const [, access, topic] = line.split(' ');
      expect(aclAllows(drone, access === 'write' ? 'publish' : 'subscribe', topic)).toBe(true);
    }
    expect(block('station')).toContain('topic write aerie/v1/drones/+/commands');
    expect(block('station')).toContain('topic write aerie/v1/drones/+/bundle');
    expect(block('station')).toContain('topic read #');
  });

  it('refuses names that would break the file', () => {
    for (const accounts of [
      { drones: ['a b'], operators: [] },
      { drones: [], operators: ['x\ntopic readwrite #'] },
    ]) {
      let caught: unknown;
      try {
        mosquittoAcl(accounts);
      } catch (err) {
        caught = err;
      }
      expect(isAerieError(caught, 'PROTOCOL_INVALID')).toBe(true);
    }
  });
});
