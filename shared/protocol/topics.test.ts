import { describe, expect, it } from 'vitest';
import { isAerieError } from '../errors.js';
import {
  ALL_CHANNELS,
  CHANNEL_DELIVERY,
  DRONE_CHANNELS,
  FLEET_CHANNELS,
  parseDroneTopic,
  parseFleetTopic,
  topics,
} from './index.js';

describe('topics', () => {
  it('builds the agreed drone and fleet topics', () => {
    expect(topics.droneStatus('d-1')).toBe('aerie/v1/drones/d-1/status');
    expect(topics.droneTelemetry('d-1')).toBe('aerie/v1/drones/d-1/telemetry');
    expect(topics.droneEvents('d-1')).toBe('aerie/v1/drones/d-1/events');
    expect(topics.droneMetrics('d-1')).toBe('aerie/v1/drones/d-1/metrics');
    expect(topics.droneExperience('d-1')).toBe('aerie/v1/drones/d-1/experience');
    expect(topics.droneCommands('d-1')).toBe('aerie/v1/drones/d-1/commands');
    expect(topics.droneAcks('d-1')).toBe('aerie/v1/drones/d-1/acks');
    expect(topics.fleetEstop).toBe('aerie/v1/fleet/estop');
    expect(topics.fleetAirspace).toBe('aerie/v1/fleet/airspace');
    expect(topics.fleetTraffic).toBe('aerie/v1/fleet/traffic');
    expect(topics.allDrones('status')).toBe('aerie/v1/drones/+/status');
    expect(topics.fleetAll).toBe('aerie/v1/fleet/#');
  });

  it('parses every drone topic back to its id and channel', () => {
    for (const channel of DRONE_CHANNELS) {
      const id = `Drone_${channel}-9`;
      expect(parseDroneTopic(topics.drone(id, channel))).toEqual({ id, channel });
    }
    for (const channel of FLEET_CHANNELS) expect(parseFleetTopic(topics.fleet(channel))).toBe(channel);
  });

  it('parses nothing else', () => {
    for (const t of [
      'aerie/v1/drones/+/status',
      'aerie/v1/drones/d1/#',
      'aerie/v1/drones/d1/status/extra',
      'aerie/v2/drones/d1/status',
      'aerie/v1/drones/d1/unknown',
      'aerie/v1/drones//status',
      'aerie/v1/drones/d.1/status',
      `aerie/v1/drones/${'x'.repeat(65)}/status`,
      'aerie/v1/fleet/estop',
      '',
    ]) {
      expect(parseDroneTopic(t)).toBeNull();
    }
    for (const t of ['aerie/v1/fleet/#', 'aerie/v1/fleet/other', 'aerie/v1/fleet', 'aerie/v1/drones/d1/status']) {
      expect(parseFleetTopic(t)).toBeNull();
    }
  });

  it('refuses to build a topic for an id that is not a single safe level', () => {
    for (const bad of ['', 'a/b', '+', '#', 'a b', 'x'.repeat(65)]) {
      let caught: unknown;
      try {
        topics.droneStatus(bad);
      } catch (err) {
        caught = err;
      }
      expect(isAerieError(caught, 'PROTOCOL_INVALID')).toBe(true);
    }
  });

  it('declares QoS and retain for every channel as agreed', () => {
    expect(Object.keys(CHANNEL_DELIVERY).sort()).toEqual([...ALL_CHANNELS].sort());
    expect(CHANNEL_DELIVERY.status).toEqual({ qos: 1, retain: true });
    expect(CHANNEL_DELIVERY.telemetry).toEqual({ qos: 0, retain: false });
    expect(CHANNEL_DELIVERY.airspace).toEqual({ qos: 1, retain: true });
    expect(CHANNEL_DELIVERY.traffic.qos).toBe(0);
    for (const c of ['events', 'metrics', 'experience', 'commands', 'acks', 'estop'] as const) {
      expect(CHANNEL_DELIVERY[c]).toEqual({ qos: 1, retain: false });
    }
  });
});
