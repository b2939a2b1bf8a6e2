/** The uplink's counters (logged at stop, some reported in metrics). */
import type { QueuedChannel } from './outbox.js';

export interface UplinkCounters {
  telemetrySent: number;
  /** Telemetry ticks while offline (QoS 0 is not queued). */
  telemetryDropped: number;
  queued: Record<QueuedChannel, number>;
  /** QoS 1 messages the broker acknowledged. */
  acknowledged: number;
  publishErrors: number;
  encodeErrors: number;
  commandsReceived: number;
  commandsAccepted: number;
  /** Answered rejected, failed or unsupported. */
  commandsRefused: number;
  /** Unreadable commands (no commandId to answer): dropped. */
  commandsDropped: number;
  commandsDuplicate: number;
  acksSent: number;
  acksLost: number;
  fleetRefused: number;
  trafficUpdates: number;
  trafficStale: number;
  experienceInvalid: number;
  births: number;
}

export const newCounters = (): UplinkCounters => ({
  telemetrySent: 0,
  telemetryDropped: 0,
  queued: { events: 0, metrics: 0, experience: 0 },
  acknowledged: 0,
  publishErrors: 0,
  encodeErrors: 0,
  commandsReceived: 0,
  commandsAccepted: 0,
  commandsRefused: 0,
  commandsDropped: 0,
  commandsDuplicate: 0,
  acksSent: 0,
  acksLost: 0,
  fleetRefused: 0,
  trafficUpdates: 0,
  trafficStale: 0,
  experienceInvalid: 0,
  births: 0,
});

/** Counts over the current metrics window (reported in `metrics.uplink`, then reset). */
export interface WindowCounters {
  telemetryDropped: number;
  commandsDropped: number;
  commandsRefused: number;
}
