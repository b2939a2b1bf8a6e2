/**
 * Brokers for the uplink's tests only: a real broker (Mosquitto at $MQTT_URL, else an embedded aedes on a free
 * port), a TCP proxy to cut or stop the path to it, and a subscriber that collects messages.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';

export const uniqueId = (prefix = 't'): string => `${prefix}${randomBytes(5).toString('hex')}`;

export interface TestBroker {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly embedded: boolean;
  close(): Promise<void>;
}

/**
 * Mosquitto when MQTT_URL is set (CI), otherwise an embedded aedes broker on a free port. `privateBroker` forces the
 * embedded one: fleet-wide messages (estop, traffic) on a shared broker would reach other tests' drones.
 */
export async function startBroker(options: { privateBroker?: boolean } = {}): Promise<TestBroker> {
  const external = options.privateBroker ? undefined : process.env.MQTT_URL;
  if (external) {
    const u = new URL(external);
    return { url: external, host: u.hostname, port: Number(u.port || 1883), embedded: false, close: async () => {} };
  }
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  const port = await listen(server, 0);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    embedded: true,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** A TCP proxy in front of the broker: `cut` kills live connections abruptly, `stop`/`start` take the broker away. */
export class TcpProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.targetPort, this.targetHost);
      this.pairs.add(client);
      this.pairs.add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(client);
        this.pairs.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.port = await listen(server, this.port);
    this.server = server;
  }

  /** Destroy every live connection (both sides), as a network failure would. */
  cut(): void {
    for (const s of this.pairs) s.destroy();
    this.pairs.clear();
  }

  /** Stop listening and cut: new connections are refused until `start`. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.cut();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

export interface Received {
  readonly topic: string;
  readonly retain: boolean;
  readonly raw: Buffer;
  /** Parsed JSON, or null when the payload is empty or not JSON. */
  readonly json: Record<string, unknown> | null;
}

/** A plain MQTT client that collects what it receives. */
export class Subscriber {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, raw, packet) => {
      let json: Record<string, unknown> | null = null;
      try {
        json = raw.byteLength ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : null;
      } catch {
        json = null;
      }
      this.messages.push({ topic, retain: packet.retain, raw, json });
    });
  }

  static connect(url: string, filters: string[]): Promise<Subscriber> {
    return Subscriber.connectWith(url, filters, {});
  }

  static async connectWith(
    url: string,
    filters: string[],
    auth: { username?: string; password?: string },
  ): Promise<Subscriber> {
    const client = connect(url, {
      protocolVersion: 4,
      clientId: uniqueId('sub-'),
      reconnectPeriod: 100,
      clean: true,
      ...auth,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    return new Subscriber(client);
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async waitFor(predicate: (all: Received[]) => boolean, timeoutMs = 10_000, what = 'messages'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(20);
    }
  }

  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
