/**
 * Aerie's MQTT protocol v1: topics, payload schemas (zod, with inferred types), the schema version rule, decoding
 * that never throws, and the broker ACL rule. Pure: no I/O. docs/protocol.md documents it.
 */
export { type AclAction, type AclPrincipal, type AclRole, aclAllows, mosquittoAcl } from './acl.js';
export {
  type CommandRefusal,
  decodeCommand,
  decodePayload,
  encodePayload,
  MAX_PAYLOAD_BYTES,
  PAYLOAD_SCHEMAS,
  type PayloadByChannel,
  parseJsonPayload,
} from './codec.js';
export * from './drone-payloads.js';
export { exampleCommands, examplePayloads, examplePolicyEvents } from './examples.js';
export * from './station-payloads.js';
export {
  ALL_CHANNELS,
  CHANNEL_DELIVERY,
  type Channel,
  DRONE_CHANNELS,
  DRONE_ID_PATTERN,
  DRONE_PUBLISHED_CHANNELS,
  type DroneChannel,
  FLEET_CHANNELS,
  type FleetChannel,
  isValidDroneId,
  parseDroneTopic,
  parseFleetTopic,
  TOPIC_PREFIX,
  topics,
} from './topics.js';
export {
  checkSchemaVersion,
  PROTOCOL_MAJOR,
  PROTOCOL_MINOR,
  PROTOCOL_VERSION,
  parseSchemaVersion,
  type SchemaVersion,
} from './version.js';

/** The policy version a drone reports for a model it flies: "sha256:" and the first 16 hex digits of its hash. */
export function policyVersionFromSha256(sha256Hex: string): string {
  return `sha256:${sha256Hex.slice(0, 16).toLowerCase()}`;
}
