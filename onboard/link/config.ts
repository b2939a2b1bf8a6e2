/**
 * The autopilot link's configuration, declared once (name, type, default, unit, range, meaning). CLI flags are the
 * kebab-case of the keys: `--mavlink udp://:14540`, `--signing-key FILE`, `--heartbeat-loss-ms 2000`.
 */
import { type ConfigOf, declareConfig, parseConfig } from '../../shared/config/index.js';

export const LINK_CONFIG_SCHEMA = declareConfig({
  mavlink: {
    type: 'string',
    default: 'udp://:14540',
    doc: 'Autopilot endpoint: udp://:PORT (listen, reply to the sender, as PX4 SITL expects), udp://HOST:PORT, or serial:PATH:BAUD',
  },
  // Identity. MAVLink's component model says every component of one vehicle shares the vehicle's system id, and PX4
  // documents companion computers as MAV_COMP_ID_ONBOARD_COMPUTER (191). So the default is system 1 (PX4's default
  // MAV_SYS_ID), component 191; set --mavlink-sysid to the vehicle's MAV_SYS_ID when it is not 1 (SITL instance i
  // is 1+i). PX4 answers whoever speaks, so a mismatch still works (the recorded client used 255/190, a GCS-style
  // identity), but then QGC shows the companion as a separate system on forwarded links.
  mavlinkSysid: { type: 'integer', default: 1, min: 1, max: 255, doc: 'Our MAVLink system id (the vehicle system id)' },
  mavlinkCompid: {
    type: 'integer',
    default: 191,
    min: 1,
    max: 255,
    doc: 'Our MAVLink component id (191 = MAV_COMP_ID_ONBOARD_COMPUTER)',
  },
  autopilotSysid: {
    type: 'integer',
    default: 0,
    min: 0,
    max: 255,
    doc: 'System id of the autopilot to fly; 0 = the first PX4 autopilot whose HEARTBEAT arrives',
  },
  signingKey: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'File with the 32-byte MAVLink 2 signing key (raw or 64 hex characters); when set, unsigned frames are refused',
  },
  signingLinkId: { type: 'integer', default: 1, min: 0, max: 255, doc: 'Link id written in our signatures' },
  heartbeatIntervalMs: {
    type: 'integer',
    default: 1000,
    unit: 'ms',
    min: 100,
    max: 5000,
    doc: 'Period of our own HEARTBEAT (MAVLink expects 1 Hz)',
  },
  heartbeatLossMs: {
    type: 'integer',
    default: 2000,
    unit: 'ms',
    min: 500,
    max: 60_000,
    doc: 'Autopilot declared lost when its HEARTBEAT (1 Hz) has been silent this long',
  },
  commandTimeoutMs: {
    type: 'integer',
    default: 1000,
    unit: 'ms',
    min: 50,
    max: 30_000,
    doc: 'Wait for a COMMAND_ACK this long before retransmitting (PX4 answers in tens of ms)',
  },
  commandRetries: {
    type: 'integer',
    default: 3,
    min: 0,
    max: 100,
    doc: 'Further attempts after the first, on no answer or TEMPORARILY_REJECTED (never on DENIED/FAILED)',
  },
  commandRetryPauseMs: {
    type: 'integer',
    default: 1000,
    unit: 'ms',
    min: 0,
    max: 60_000,
    doc: 'Pause before retrying a command answered TEMPORARILY_REJECTED',
  },
  intervalRetryMs: {
    type: 'integer',
    default: 10_000,
    unit: 'ms',
    min: 100,
    max: 600_000,
    doc: 'Retry a refused or unanswered SET_MESSAGE_INTERVAL request this often while the link is up',
  },
  rateAttitudeHz: {
    type: 'number',
    default: 50,
    unit: 'Hz',
    min: 0,
    max: 250,
    doc: 'ATTITUDE rate to request (falls back to ATTITUDE_QUATERNION when refused); 0 = leave as is',
  },
  rateLocalPositionHz: {
    type: 'number',
    default: 50,
    unit: 'Hz',
    min: 0,
    max: 250,
    doc: 'LOCAL_POSITION_NED rate to request; 0 = leave as is',
  },
  rateGlobalPositionHz: {
    type: 'number',
    default: 50,
    unit: 'Hz',
    min: 0,
    max: 250,
    doc: 'GLOBAL_POSITION_INT rate to request; 0 = leave as is',
  },
  rateExtendedSysStateHz: {
    type: 'number',
    default: 5,
    unit: 'Hz',
    min: 0,
    max: 50,
    doc: 'EXTENDED_SYS_STATE (landed state) rate to request; 0 = leave as is',
  },
  rateBatteryHz: {
    type: 'number',
    default: 1,
    unit: 'Hz',
    min: 0,
    max: 50,
    doc: 'BATTERY_STATUS rate to request; 0 = leave as is',
  },
  rateGpsHz: {
    type: 'number',
    default: 0,
    unit: 'Hz',
    min: 0,
    max: 50,
    doc: 'GPS_RAW_INT rate to request; 0 = leave as is',
  },
  rateHomeHz: {
    type: 'number',
    default: 0,
    unit: 'Hz',
    min: 0,
    max: 10,
    doc: 'HOME_POSITION rate to request; 0 = leave as is (PX4 streams it at 0.5 Hz)',
  },
});

export type LinkConfig = ConfigOf<typeof LINK_CONFIG_SCHEMA>;

/** Validate a raw configuration object (file, flags): unknown keys refused, defaults filled, frozen. */
export function parseLinkConfig(raw: Record<string, unknown> = {}): LinkConfig {
  return parseConfig(LINK_CONFIG_SCHEMA, raw);
}
