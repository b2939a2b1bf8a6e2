/**
 * The station's own MQTT client (mqtt.js): subscribes to every drone's channels, hands each message to the ingest
 * router with its receive time, and publishes commands and fleet messages (validated with encodePayload first).
 * MQTT 3.1.1 against aedes; 5 allowed against Mosquitto, where experience and metrics may be taken through a shared
 * subscription ($share/GROUP/...) so several stations split the storage work while each still sees every status,
 * telemetry, event and ack.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { AerieError, type Result } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import {
  type BundleChunk,
  CHANNEL_DELIVERY,
  type Command,
  type DroneChannel,
  encodePayload,
  type FleetChannel,
  type PayloadByChannel,
  topics,
} from '../../shared/protocol/index.js';
import type { DropCounters } from '../broker/index.js';
import { type IngestHandlers, ingestMessage } from './ingest.js';

export interface StationLinkOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly protocolVersion: 4 | 5;
  readonly clientId: string;
  /** Keep the broker session (queued QoS 1 events and acks) across station restarts; needs a stable clientId. */
  readonly persistentSession?: boolean;
  /** MQTT 5 shared-subscription group for experience and metrics; undefined = plain subscriptions. */
  readonly sharedGroup?: string;
  readonly connectTimeoutMs?: number;
  readonly handlers: IngestHandlers;
  readonly drops: DropCounters;
  readonly logger: Logger;
  readonly clock?: () => number;
}

const INGEST_CHANNELS: readonly DroneChannel[] = ['status', 'telemetry', 'events', 'acks', 'metrics', 'experience'];
const SHAREABLE: ReadonlySet<DroneChannel> = new Set(['metrics', 'experience']);

export function subscriptionFilters(sharedGroup: string | undefined): Record<string, { qos: 0 | 1 }> {
  const out: Record<string, { qos: 0 | 1 }> = {};
  for (const channel of INGEST_CHANNELS) {
    const filter = topics.allDrones(channel);
    const shared = sharedGroup !== undefined && SHAREABLE.has(channel);
    out[shared ? `$share/${sharedGroup}/${filter}` : filter] = { qos: CHANNEL_DELIVERY[channel].qos };
  }
  return out;
}

export class StationLink {
  private readonly client: MqttClient;
  /** Messages received (all channels) since start. */
  received = 0;
  private closed = false;
  private readonly reconnectListeners: (() => void)[] = [];

  private constructor(client: MqttClient) {
    this.client = client;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Connect and subscribe; rejects with MQTT_CONNECT_FAILED when the first connection does not come up. */
  static async connect(options: StationLinkOptions): Promise<StationLink> {
    const { logger } = options;
    if (options.sharedGroup !== undefined && options.protocolVersion !== 5) {
      throw new AerieError('CONFIG_CONFLICT', 'shared subscriptions need MQTT 5 (--mqtt-protocol 5)');
    }
    const client = mqtt.connect(options.url, {
      clientId: options.clientId,
      protocolVersion: options.protocolVersion,
      clean: !options.persistentSession,
      ...(options.protocolVersion === 5 && options.persistentSession
        ? { properties: { sessionExpiryInterval: 3600 } }
        : {}),
      username: options.username,
      password: options.password,
      reconnectPeriod: 1000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      keepalive: 30,
      // Telemetry is QoS 0 and current-only: never queue it (or anything) while the link is down.
      queueQoSZero: false,
      resubscribe: true,
    });
    const link = new StationLink(client);
    const clock = options.clock ?? Date.now;
    client.on('message', (topic, payload) => {
      link.received++;
      ingestMessage(topic, payload, options.handlers, options.drops, clock());
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onConnect = () => {
          cleanup();
          resolve();
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const onClose = () => {
          cleanup();
          reject(new Error('connection closed before CONNACK'));
        };
        const cleanup = () => {
          client.off('connect', onConnect);
          client.off('error', onError);
          client.off('close', onClose);
        };
        client.on('connect', onConnect);
        client.on('error', onError);
        client.on('close', onClose);
      });
      const grants = await client.subscribeAsync(subscriptionFilters(options.sharedGroup));
      const refused = grants.filter((g) => g.qos === 128);
      if (refused.length > 0) throw new Error(`subscriptions refused: ${refused.map((g) => g.topic).join(', ')}`);
    } catch (err) {
      await client.endAsync(true).catch(() => undefined);
      throw new AerieError(
        'MQTT_CONNECT_FAILED',
        `cannot connect to MQTT broker ${options.url}: ${(err as Error).message}`,
        { url: options.url },
      );
    }
    client.on('error', (err) => logger.warn({ err: err.message }, 'mqtt error'));
    client.on('offline', () => logger.warn('mqtt link down; reconnecting'));
    // Later CONNACKs are reconnections: a broker that restarted may have lost retained messages, so the station's
    // retained state (the fleet airspace) is published again by the listeners.
    client.on('connect', () => {
      logger.info('mqtt link up');
      for (const listener of link.reconnectListeners) listener();
    });
    logger.info({ url: options.url, protocolVersion: options.protocolVersion }, 'station connected to broker');
    return link;
  }

  /** Call `listener` after every reconnection (not the first connection). */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /** Validate and publish a command to one drone (QoS 1). The promise settles when the broker has it. */
  async sendCommand(droneId: string, command: Command): Promise<Result<void, string>> {
    const encoded = encodePayload('commands', command);
    if (!encoded.ok) return encoded;
    return this.publish(topics.droneCommands(droneId), encoded.value, CHANNEL_DELIVERY.commands);
  }

  /** Validate and publish one policy bundle chunk to a drone (QoS 1, its `bundle` channel). */
  async sendBundleChunk(droneId: string, chunk: BundleChunk): Promise<Result<void, string>> {
    const encoded = encodePayload('bundle', chunk);
    if (!encoded.ok) return encoded;
    return this.publish(topics.droneBundle(droneId), encoded.value, CHANNEL_DELIVERY.bundle);
  }

  async publishFleet<C extends FleetChannel>(channel: C, payload: PayloadByChannel[C]): Promise<Result<void, string>> {
    const encoded = encodePayload(channel, payload);
    if (!encoded.ok) return encoded;
    return this.publish(topics.fleet(channel), encoded.value, CHANNEL_DELIVERY[channel]);
  }

  private async publish(
    topic: string,
    payload: Buffer,
    delivery: { qos: 0 | 1; retain: boolean },
  ): Promise<Result<void, string>> {
    if (this.closed) return { ok: false, reason: 'link closed' };
    try {
      await this.client.publishAsync(topic, payload, { qos: delivery.qos, retain: delivery.retain });
      return { ok: true, value: undefined };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A clean DISCONNECT: in-flight QoS 1 publishes finish first (end without force).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.client.endAsync(false), new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    if (!this.client.disconnected) await this.client.endAsync(true).catch(() => undefined);
  }
}
