/**
 * MQTT topics of protocol v1: builders and parsers. Drone topics are `aerie/v1/drones/{id}/{channel}`, fleet topics
 * `aerie/v1/fleet/{channel}`. Pure: no I/O.
 */
import { AerieError } from '../errors.js';

export const TOPIC_PREFIX = 'aerie/v1';

/** A drone id: also its MQTT username, so it must be a single safe topic level. */
export const DRONE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const isValidDroneId = (id: string): boolean => DRONE_ID_PATTERN.test(id);

/** Per-drone channels, drone -> station unless noted (`commands` and `bundle` are station -> drone). */
export const DRONE_CHANNELS = [
  'status',
  'telemetry',
  'events',
  'metrics',
  'experience',
  'commands',
  'acks',
  'bundle',
] as const;
export type DroneChannel = (typeof DRONE_CHANNELS)[number];

/** Channels a drone publishes (all but `commands` and `bundle`, which the station publishes to the drone). */
export const DRONE_PUBLISHED_CHANNELS = ['status', 'telemetry', 'events', 'metrics', 'experience', 'acks'] as const;

/** Fleet-wide channels, station -> all drones. */
export const FLEET_CHANNELS = ['estop', 'airspace', 'traffic'] as const;
export type FleetChannel = (typeof FLEET_CHANNELS)[number];

export type Channel = DroneChannel | FleetChannel;
export const ALL_CHANNELS: readonly Channel[] = [...DRONE_CHANNELS, ...FLEET_CHANNELS];

/** How each channel is published: QoS and whether the broker retains the last message. */
export const CHANNEL_DELIVERY: Readonly<Record<Channel, { readonly qos: 0 | 1; readonly retain: boolean }>> = {
  status: { qos: 1, retain: true },
  telemetry: { qos: 0, retain: false },
  events: { qos: 1, retain: false },
  metrics: { qos: 1, retain: false },
  experience: { qos: 1, retain: false },
  commands: { qos: 1, retain: false },
  acks: { qos: 1, retain: false },
  bundle: { qos: 1, retain: false },
  estop: { qos: 1, retain: false },
  airspace: { qos: 1, retain: true },
  traffic: { qos: 0, retain: false },
};

function droneTopic(id: string, channel: DroneChannel): string {
  if (!isValidDroneId(id)) {
    throw new AerieError('PROTOCOL_INVALID', `drone id ${JSON.stringify(id)} is not [A-Za-z0-9_-]{1,64}`, { id });
  }
  return `${TOPIC_PREFIX}/drones/${id}/${channel}`;
}

export const topics = {
  drone: droneTopic,
  droneStatus: (id: string) => droneTopic(id, 'status'),
  droneTelemetry: (id: string) => droneTopic(id, 'telemetry'),
  droneEvents: (id: string) => droneTopic(id, 'events'),
  droneMetrics: (id: string) => droneTopic(id, 'metrics'),
  droneExperience: (id: string) => droneTopic(id, 'experience'),
  droneCommands: (id: string) => droneTopic(id, 'commands'),
  droneAcks: (id: string) => droneTopic(id, 'acks'),
  /** Policy bundle chunks, station -> drone (install-policy over MQTT). */
  droneBundle: (id: string) => droneTopic(id, 'bundle'),
  fleet: (channel: FleetChannel) => `${TOPIC_PREFIX}/fleet/${channel}`,
  fleetEstop: `${TOPIC_PREFIX}/fleet/estop`,
  fleetAirspace: `${TOPIC_PREFIX}/fleet/airspace`,
  fleetTraffic: `${TOPIC_PREFIX}/fleet/traffic`,
  /** Subscription filter: one channel of every drone, e.g. `aerie/v1/drones/+/status`. */
  allDrones: (channel: DroneChannel) => `${TOPIC_PREFIX}/drones/+/${channel}`,
  /** Subscription filter: every fleet topic (what a drone subscribes to besides its commands). */
  fleetAll: `${TOPIC_PREFIX}/fleet/#`,
  /** Subscription filter: everything of protocol v1. */
  everything: `${TOPIC_PREFIX}/#`,
} as const;

const DRONE_CHANNEL_SET: ReadonlySet<string> = new Set(DRONE_CHANNELS);
const FLEET_CHANNEL_SET: ReadonlySet<string> = new Set(FLEET_CHANNELS);

/** `aerie/v1/drones/{id}/{channel}` -> its id and channel; null for anything else (wildcards included). */
export function parseDroneTopic(topic: string): { id: string; channel: DroneChannel } | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'aerie' || parts[1] !== 'v1' || parts[2] !== 'drones') return null;
  const [, , , id, channel] = parts;
  if (!isValidDroneId(id) || !DRONE_CHANNEL_SET.has(channel)) return null;
  return { id, channel: channel as DroneChannel };
}

/** `aerie/v1/fleet/{channel}` -> its channel; null for anything else. */
export function parseFleetTopic(topic: string): FleetChannel | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'aerie' || parts[1] !== 'v1' || parts[2] !== 'fleet') return null;
  return FLEET_CHANNEL_SET.has(parts[3]) ? (parts[3] as FleetChannel) : null;
}
