/**
 * The onboard MQTT uplink to the ground station (protocol v1, shared/protocol): status, telemetry, events, metrics,
 * experience and acks out; commands and fleet messages in; a store-and-forward outbox on disk for what must not be
 * lost. See docs/protocol.md.
 */
export { UPLINK_FLAGS, type UplinkFlagValues, uplinkConfigFromFlags } from './cli-flags.js';
export {
  applyCommand,
  type CommandAnswer,
  type CommandContext,
  POLICY_COMMANDS,
  SUPPORTED_COMMANDS,
  supportedCommands,
} from './commands.js';
export { parseUplinkConfig, segmentBytesOf, UPLINK_CONFIG_SCHEMA, type UplinkConfig } from './config.js';
export { type ConnectionOptions, MqttConnection } from './connection.js';
export { EventAggregator, type EventBody } from './events.js';
export { airspaceToHomeFrame, trafficToNeighbours } from './fleet.js';
export { type MetricsBody, MetricsWindow } from './metrics.js';
export { type DropCounts, Outbox, type OutboxStats, QUEUED_CHANNELS, type QueuedChannel } from './outbox.js';
export type { MissionHandle, PolicyCommand, UplinkRolloutPort, UplinkRuntimePort, UplinkTick } from './ports.js';
export { runtimePort } from './runtime-port.js';
export { buildTelemetry } from './telemetry.js';
export { newSessionId, Uplink, type UplinkCounters, type UplinkOptions } from './uplink.js';
