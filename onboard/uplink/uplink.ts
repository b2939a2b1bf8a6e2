/**
 * The onboard MQTT uplink: birth/death with a session id, telemetry at 1-10 Hz (QoS 0), events, metrics and
 * experience with per-session sequence numbers through the store-and-forward outbox (QoS 1), commands and fleet
 * messages in (inbound.ts), each command answered with an ack. Applies commands only through the runtime port.
 * Never throws after `open`: bad input is refused with a reason and counted.
 */
import { randomBytes } from 'node:crypto';
import type { ExperienceRecord } from '../../shared/experience/index.js';
import type { GeoPoint } from '../../shared/geo/index.js';
import { componentLogger, type Logger } from '../../shared/log/index.js';
import {
  type DroneBirth,
  type DroneDeath,
  encodePayload,
  PROTOCOL_VERSION,
  topics,
} from '../../shared/protocol/index.js';
import { supportedCommands } from './commands.js';
import { segmentBytesOf, type UplinkConfig } from './config.js';
import { type ConnectionCounters, MqttConnection } from './connection.js';
import { newCounters, type UplinkCounters } from './counters.js';
import type { EventBody } from './events.js';
import { Inbound } from './inbound.js';
import { Outbox, type OutboxStats } from './outbox.js';
import { Outgoing } from './outgoing.js';
import type { UplinkRuntimePort } from './ports.js';
import { Sender } from './sender.js';

export type { UplinkCounters } from './counters.js';

export interface UplinkOptions {
  /** Unix milliseconds (payload times, windows, traffic ages); default Date.now. */
  readonly nowMs?: () => number;
  /** Default: a fresh random id per Uplink (one run of the drone's process). */
  readonly sessionId?: string;
  /** Default: `aerie-<id>` (one connection per drone: a second one takes the first over). */
  readonly clientId?: string;
  readonly log?: Logger;
}

/** Housekeeping period: event windows, experience age, traffic ages, home changes (ms). */
const HOUSEKEEPING_MS = 200;

export function newSessionId(nowMs = Date.now()): string {
  return `${nowMs.toString(36)}-${randomBytes(4).toString('hex')}`;
}

export class Uplink {
  readonly sessionId: string;
  readonly counters: UplinkCounters = newCounters();
  private readonly id: string;
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private readonly outbox: Outbox;
  private readonly connection: MqttConnection;
  private readonly sender: Sender;
  private readonly inbound: Inbound;
  private readonly outgoing: Outgoing;
  private readonly timers: NodeJS.Timeout[] = [];
  private detachTick: (() => void) | null = null;
  private started = false;
  private stopped = false;
  private birthHome: GeoPoint | null = null;
  private birthPolicy = '';
  private birthSlots = '';

  private constructor(
    private readonly config: UplinkConfig,
    private readonly port: UplinkRuntimePort,
    options: UplinkOptions,
  ) {
    this.id = config.id;
    this.nowMs = options.nowMs ?? Date.now;
    this.sessionId = options.sessionId ?? newSessionId(this.nowMs());
    this.log = options.log ?? componentLogger('uplink', { id: config.id, sessionId: this.sessionId });
    this.outbox = Outbox.open(config.dataDir, { maxBytes: config.queueMaxBytes, segmentBytes: segmentBytesOf(config) });
    const will: DroneDeath = {
      schema: PROTOCOL_VERSION,
      kind: 'death',
      id: this.id,
      online: false,
      sessionId: this.sessionId,
    };
    this.connection = new MqttConnection(
      {
        url: config.mqttUrl,
        clientId: options.clientId ?? `aerie-${config.id}`,
        username: config.mqttUsername ?? config.id,
        password: config.mqttPassword,
        protocolVersion: config.mqttProtocol === 5 ? 5 : 4,
        keepaliveS: config.keepaliveS,
        connectTimeoutMs: config.connectTimeoutMs,
        reconnectMinMs: config.reconnectMinMs,
        reconnectMaxMs: config.reconnectMaxMs,
        will: { topic: topics.droneStatus(this.id), payload: Buffer.from(JSON.stringify(will)) },
      },
      {
        onUp: () => void this.onUp(),
        onDown: (reason) => {
          this.sender.goOffline();
          this.log.info({ reason, queued: this.outbox.stats().queuedRecords }, 'offline: queueing to disk');
        },
        onMessage: (topic, payload) => this.inbound.onMessage(topic, payload),
      },
      this.log,
    );
    this.sender = new Sender({
      id: this.id,
      sessionId: this.sessionId,
      outbox: this.outbox,
      connection: this.connection,
      counters: this.counters,
      nowMs: this.nowMs,
      log: this.log,
      inflightMax: config.inflightMax,
      retryMs: config.reconnectMinMs,
      queueMaxBytes: config.queueMaxBytes,
    });
    this.outgoing = new Outgoing({
      id: this.id,
      sessionId: this.sessionId,
      config,
      port,
      sender: this.sender,
      outbox: this.outbox,
      connection: this.connection,
      counters: this.counters,
      nowMs: this.nowMs,
    });
    this.inbound = new Inbound({
      id: this.id,
      port,
      sender: this.sender,
      counters: this.counters,
      window: this.outgoing.window,
      nowMs: this.nowMs,
      log: this.log,
      trafficMaxAgeMs: config.trafficMaxAgeMs,
      onTask: (taskId) => {
        this.outgoing.taskId = taskId;
      },
    });
  }

  /** Open the outbox (throws UPLINK_QUEUE_UNAVAILABLE when its directory is unusable or in use). */
  static open(config: UplinkConfig, port: UplinkRuntimePort, options: UplinkOptions = {}): Uplink {
    return new Uplink(config, port, options);
  }

  get isOnline(): boolean {
    return this.sender.isOnline;
  }

  /** Connection attempts, connects and disconnects since start. */
  connectionCounters(): Readonly<ConnectionCounters> {
    return { ...this.connection.counters };
  }

  queueStats(): OutboxStats {
    return this.outbox.stats();
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const stats = this.outbox.stats();
    if (stats.queuedRecords > 0) {
      this.log.info({ queued: stats.byChannel, bytes: stats.queueBytes }, 'replaying the store-and-forward queue');
    }
    this.detachTick = this.port.onTick((tick) => this.outgoing.onTick(tick));
    this.port.rollout?.setEventSink((body) => this.publishEvent(body));
    this.every(1000 / this.config.telemetryHz, () => this.outgoing.sendTelemetry());
    this.every(this.config.metricsWindowS * 1000, () => this.outgoing.closeMetricsWindow());
    this.every(HOUSEKEEPING_MS, () => this.housekeeping());
    this.connection.start();
  }

  /**
   * Stop: flush partial windows (events, experience, metrics) into the outbox, give queued messages up to `drainMs`
   * to go while online, publish the death (clean shutdown) and disconnect. What is still queued stays on disk.
   */
  async stop(drainMs = 1000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.detachTick?.();
    this.detachTick = null;
    this.outgoing.flushDue(true);
    const deadline = Date.now() + drainMs;
    while (this.sender.isOnline && this.outbox.stats().queuedRecords > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const death: DroneDeath = {
      schema: PROTOCOL_VERSION,
      kind: 'death',
      id: this.id,
      online: false,
      sessionId: this.sessionId,
      timeMs: this.nowMs(),
      reason: 'shutdown',
    };
    await this.connection.stop({ topic: topics.droneStatus(this.id), payload: Buffer.from(JSON.stringify(death)) });
    this.outbox.close();
    this.log.info({ counters: this.counters }, 'uplink stopped');
  }

  /** Queue one event (seq assigned now); for runtime hooks with events of their own (policy swaps). */
  publishEvent(body: EventBody): void {
    if (!this.stopped) this.sender.publishEvent(body);
  }

  /** Record one experience tick; sent in batches. False (and counted) when it does not validate; false after stop. */
  recordExperience(record: ExperienceRecord): boolean {
    return !this.stopped && this.outgoing.recordExperience(record);
  }

  private async onUp(): Promise<void> {
    const epoch = this.sender.currentEpoch;
    const sub = await this.connection.subscribe(this.inbound.filters, 1);
    if (epoch !== this.sender.currentEpoch) return;
    if (!sub.ok) {
      this.log.error(
        { refused: sub.refused, reason: sub.reason },
        'broker refused subscriptions: commands cannot arrive',
      );
      this.sender.publishEvent({
        kind: 'alert',
        level: 'critical',
        code: 'subscribe-refused',
        message: `broker refused ${sub.refused.join(', ')}${sub.reason ? `: ${sub.reason}` : ''}`.slice(0, 1024),
      });
    }
    // Subscribed before the birth: a station that answers the birth with a command cannot be missed.
    const born = await this.publishBirth();
    if (epoch !== this.sender.currentEpoch) return;
    if (!born) this.log.warn('birth not acknowledged');
    this.sender.goOnline();
    this.port.rollout?.onReconnect();
  }

  private async publishBirth(): Promise<boolean> {
    const home = this.port.vehicle().home;
    const policyVersion = this.port.policyVersion();
    const slots = this.port.rollout?.status();
    const birth: DroneBirth = {
      schema: PROTOCOL_VERSION,
      kind: 'birth',
      id: this.id,
      online: true,
      sessionId: this.sessionId,
      policyVersion,
      home: home ? { latDeg: home.latDeg, lonDeg: home.lonDeg, altAmslM: home.altAmslM } : null,
      capabilities: [...supportedCommands(this.port), 'fleet:estop', 'fleet:airspace', 'fleet:traffic'],
      timeMs: this.nowMs(),
      telemetryHz: this.config.telemetryHz,
      ...(slots ? { policy: slots } : {}),
    };
    this.birthHome = home;
    this.birthPolicy = policyVersion;
    this.birthSlots = slots ? JSON.stringify(slots) : '';
    const encoded = encodePayload('status', birth);
    if (!encoded.ok) {
      this.counters.encodeErrors++;
      this.log.error({ reason: encoded.reason }, 'birth does not encode');
      return false;
    }
    this.counters.births++;
    const r = await this.connection.publish(topics.droneStatus(this.id), encoded.value, 1, true);
    return r.ok;
  }

  private housekeeping(): void {
    this.outgoing.flushDue();
    this.inbound.refresh();
    // A new home (first fix, or moved) or another policy: a new birth tells the station.
    const home = this.port.vehicle().home;
    const slots = this.port.rollout ? JSON.stringify(this.port.rollout.status()) : '';
    if (
      this.sender.isOnline &&
      (!sameHome(home, this.birthHome) || this.port.policyVersion() !== this.birthPolicy || slots !== this.birthSlots)
    ) {
      void this.publishBirth();
    }
  }

  private every(periodMs: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'uplink timer failed');
      }
    }, periodMs);
    t.unref();
    this.timers.push(t);
  }
}

function sameHome(a: GeoPoint | null, b: GeoPoint | null): boolean {
  if (a === null || b === null) return a === b;
  return a.latDeg === b.latDeg && a.lonDeg === b.lonDeg && a.altAmslM === b.altAmslM;
}
