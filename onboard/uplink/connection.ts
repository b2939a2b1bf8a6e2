/**
 * The MQTT connection: one mqtt.js client per attempt (its own reconnect is off), so nothing mqtt.js keeps in memory
 * is replayed behind the outbox's back: the outbox alone decides what is sent again after a reconnect. Reconnects
 * back off exponentially. The last will (the death) is set on every attempt; `stop` publishes the death itself and
 * disconnects cleanly, so the broker discards the will.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { componentLogger, type Logger } from '../../shared/log/index.js';

export interface ConnectionOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  readonly protocolVersion: 4 | 5;
  readonly keepaliveS: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** The last will, published retained at QoS 1 by the broker if the connection dies without a DISCONNECT. */
  readonly will: { readonly topic: string; readonly payload: Buffer };
}

export interface ConnectionHandlers {
  /** Connected (CONNACK received): subscribe, publish the birth, start sending. */
  onUp(): void;
  /** The connection is gone; whatever was in flight is lost with it. */
  onDown(reason: string): void;
  onMessage(topic: string, payload: Buffer): void;
}

export type PublishResult = { ok: true } | { ok: false; reason: string };

export interface ConnectionCounters {
  attempts: number;
  connects: number;
  disconnects: number;
}

export class MqttConnection {
  readonly counters: ConnectionCounters = { attempts: 0, connects: 0, disconnects: 0 };
  private client: MqttClient | null = null;
  private generation = 0;
  private up = false;
  private running = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private lastError = '';
  private readonly log: Logger;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
    log?: Logger,
  ) {
    this.log = log ?? componentLogger('uplink-mqtt');
  }

  get isUp(): boolean {
    return this.up;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt();
  }

  /**
   * Disconnect cleanly. With `final` (the death) and a live connection, publish it first and wait up to `timeoutMs`
   * for its PUBACK, so the station learns of the shutdown at once.
   */
  async stop(final?: { topic: string; payload: Buffer }, timeoutMs = 2000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    this.generation++;
    const wasUp = this.up;
    this.up = false;
    if (!client) return;
    if (wasUp && final) {
      await withTimeout(this.publishOn(client, final.topic, final.payload, 1, true), timeoutMs);
    }
    await withTimeout(
      new Promise<void>((resolve) => {
        client.end(!wasUp, {}, () => resolve());
      }),
      timeoutMs,
    );
    client.end(true);
    if (wasUp) this.handlers.onDown('stopped');
  }

  /** Publish on the live connection; resolves when written (QoS 0) or acknowledged (QoS 1). Never rejects. */
  publish(topic: string, payload: Buffer | string, qos: 0 | 1, retain = false): Promise<PublishResult> {
    const client = this.client;
    if (!client || !this.up) return Promise.resolve({ ok: false, reason: 'offline' });
    return this.publishOn(client, topic, payload, qos, retain);
  }

  /** Subscribe on the live connection, one filter at a time so a refusal (SUBACK 0x80) names its filter. */
  async subscribe(
    filters: readonly string[],
    qos: 0 | 1,
  ): Promise<{ ok: boolean; refused: string[]; reason?: string }> {
    const client = this.client;
    if (!client || !this.up) return { ok: false, refused: [...filters], reason: 'offline' };
    const results = await Promise.all(
      filters.map(
        (filter) =>
          new Promise<string | null>((resolve) => {
            client.subscribe(filter, { qos }, (err) => resolve(err ? err.message : null));
          }),
      ),
    );
    const refused = filters.filter((_, i) => results[i] !== null);
    const reason = results.find((r) => r !== null) ?? undefined;
    return refused.length === 0 ? { ok: true, refused } : { ok: false, refused, reason };
  }

  private publishOn(
    client: MqttClient,
    topic: string,
    payload: Buffer | string,
    qos: 0 | 1,
    retain: boolean,
  ): Promise<PublishResult> {
    return new Promise((resolve) => {
      try {
        client.publish(topic, payload, { qos, retain }, (err) =>
          resolve(err ? { ok: false, reason: err.message } : { ok: true }),
        );
      } catch (err) {
        resolve({ ok: false, reason: err instanceof Error ? err.message : String(err) });
      }
    });
  }

  private attempt(): void {
    if (!this.running) return;
    const generation = ++this.generation;
    this.counters.attempts++;
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: o.protocolVersion,
      keepalive: o.keepaliveS,
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      clean: true,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: o.will.topic, payload: o.will.payload, qos: 1, retain: true },
    };
    let client: MqttClient;
    try {
      client = connect(o.url, clientOptions);
    } catch (err) {
      this.noteError(err instanceof Error ? err.message : String(err));
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    const current = () => generation === this.generation;
    client.on('connect', () => {
      if (!current()) return;
      this.up = true;
      this.failures = 0;
      this.counters.connects++;
      this.lastError = '';
      this.log.info({ url: o.url, clientId: o.clientId }, 'connected to the broker');
      this.handlers.onUp();
    });
    client.on('message', (topic, payload) => {
      if (current()) this.handlers.onMessage(topic, payload);
    });
    // mqtt.js emits 'error' for refused CONNACKs and socket errors; 'close' always follows.
    client.on('error', (err) => {
      if (current()) this.noteError(err.message);
    });
    client.on('close', () => {
      if (!current()) return;
      const wasUp = this.up;
      this.up = false;
      this.client = null;
      this.generation++;
      client.end(true);
      if (wasUp) {
        this.counters.disconnects++;
        this.log.warn({ reason: this.lastError || 'connection closed' }, 'lost the broker');
        this.handlers.onDown(this.lastError || 'connection closed');
      }
      this.scheduleReconnect();
    });
  }

  private noteError(message: string): void {
    // Log each new reason once, not every retry.
    if (message !== this.lastError) this.log.warn({ err: message, url: this.options.url }, 'broker connection error');
    this.lastError = message;
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    this.failures++;
    const o = this.options;
    const base = Math.min(o.reconnectMaxMs, o.reconnectMinMs * 2 ** Math.min(20, this.failures - 1));
    // Jitter, so a fleet that lost the broker together does not come back in one burst.
    const delayMs = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.attempt();
    }, delayMs);
    this.reconnectTimer.unref();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
