/**
 * Test helpers (not built): a station started in-process on free ports with a temporary database and credentials,
 * and fake drones - lightweight mqtt.js clients that publish birth, telemetry and events and answer commands the
 * way the onboard uplink does (not a runtime: no autopilot, no mission). Against Mosquitto when MQTT_URL is set
 * (anonymous there), else the embedded aedes broker with real logins.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  type Command,
  type CommandAck,
  type DroneBirth,
  type DroneEvent,
  examplePayloads,
  PROTOCOL_VERSION,
  type Telemetry,
  topics,
} from '../shared/protocol/index.js';
import { addCredential, type CredentialsFile, EMPTY_CREDENTIALS, saveCredentials } from './broker/index.js';
import { parseStationConfig, type StationConfig } from './config.js';
import { type StationHandle, startStation } from './station.js';
import { testSchemaName } from './storage/test-support.js';

export const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };
/** The default depot (and the fleet frame origin) of a test station. */
export const TEST_DEPOT = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };

export interface TestStation {
  readonly station: StationHandle;
  /** What it was started with (a test restarts a station on the same database with it). */
  readonly config: StationConfig;
  readonly dir: string;
  readonly credentialsFile: string;
  /** Unique per test station: prefix drone ids with it (a shared Mosquitto keeps retained messages). */
  readonly prefix: string;
  /** drone id -> password, for drones made with `droneIds`. */
  readonly passwords: Record<string, string>;
  /** The external broker URL when the station uses one. */
  readonly externalMqtt: boolean;
  api(path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Start a station on free ports. `droneIds` (without the prefix) get credentials; `raw` overrides config keys.
 * The database is SQLite in the temp dir unless `postgres` and DATABASE_URL are set.
 */
export async function startTestStation(
  options: {
    droneIds?: string[];
    raw?: Record<string, unknown>;
    postgres?: boolean;
    /** Use the station's embedded broker (with its logins and ACL) even when MQTT_URL is set. */
    embeddedBroker?: boolean;
  } = {},
): Promise<TestStation> {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-station-'));
  const prefix = `t${randomBytes(3).toString('hex')}-`;
  const credentialsFile = join(dir, 'credentials.json');
  let credentials: CredentialsFile = EMPTY_CREDENTIALS;
  const passwords: Record<string, string> = {};
  for (const id of options.droneIds ?? []) {
    const added = addCredential(credentials, prefix + id, 'drone', 1, FAST_SCRYPT);
    credentials = added.credentials;
    passwords[prefix + id] = added.password;
  }
  saveCredentials(credentialsFile, credentials);
  const externalMqtt =
    options.embeddedBroker !== true && process.env.MQTT_URL !== undefined && process.env.MQTT_URL !== '';
  const usePostgres = options.postgres === true && !!process.env.DATABASE_URL;
  const schema = usePostgres ? testSchemaName() : undefined;
  const config = parseStationConfig({
    mqttPort: 0,
    httpPort: 0,
    db: join(dir, 'station.db'),
    credentials: credentialsFile,
    operatorToken: 'test-token',
    logLevel: 'silent',
    trafficRate: 0,
    ...(externalMqtt ? { mqttUrl: process.env.MQTT_URL } : {}),
    ...(usePostgres ? { databaseUrl: process.env.DATABASE_URL, databaseSchema: schema } : {}),
    ...options.raw,
  });
  const station = await startStation(config);
  return {
    station,
    config,
    dir,
    credentialsFile,
    prefix,
    passwords,
    externalMqtt,
    api(path, init = {}) {
      const token = init.token === undefined ? 'test-token' : init.token;
      return fetch(`${station.httpUrl}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined
          ? {}
          : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
      });
    },
    async close() {
      await station.close();
      if (usePostgres && schema) {
        const { PostgresStore } = await import('./storage/index.js');
        const s = await PostgresStore.open({ connectionString: process.env.DATABASE_URL!, schema });
        await s.dropSchema(schema);
        await s.close();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type AckPolicy = 'accept' | 'reject' | 'silent';

export interface FakeDroneOptions {
  readonly password?: string;
  readonly home?: { latDeg: number; lonDeg: number; altAmslM: number };
  readonly capabilities?: string[];
  readonly ackPolicy?: AckPolicy;
  readonly sessionId?: string;
}

/** A lightweight drone: MQTT client with a will, birth, telemetry on demand, acks and mission events. */
export class FakeDrone {
  readonly id: string;
  readonly sessionId: string;
  readonly client: MqttClient;
  readonly commands: Command[] = [];
  ackPolicy: AckPolicy;
  private telemetrySeq = 0;
  private eventSeq = 0;
  readonly home: { latDeg: number; lonDeg: number; altAmslM: number };
  taskId: string | null = null;
  private readonly capabilities: string[];

  private readonly url: string;
  private readonly password: string | undefined;

  private constructor(id: string, url: string, client: MqttClient, sessionId: string, options: FakeDroneOptions) {
    this.id = id;
    this.url = url;
    this.password = options.password;
    this.client = client;
    this.sessionId = sessionId;
    this.ackPolicy = options.ackPolicy ?? 'accept';
    this.home = options.home ?? TEST_DEPOT;
    this.capabilities = options.capabilities ?? ['assign-delivery', 'abort', 'return', 'land', 'emergency-stop'];
  }

  static async connect(url: string, id: string, options: FakeDroneOptions = {}): Promise<FakeDrone> {
    const sessionId = options.sessionId ?? `s-${randomBytes(4).toString('hex')}`;
    const death = { schema: PROTOCOL_VERSION, kind: 'death', id, online: false, sessionId };
    const client = await mqtt.connectAsync(url, {
      clientId: `aerie-${id}.${sessionId}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 5,
      ...(options.password !== undefined ? { username: id, password: options.password } : { username: id }),
      will: { topic: topics.droneStatus(id), payload: Buffer.from(JSON.stringify(death)), qos: 1, retain: true },
    });
    const drone = new FakeDrone(id, url, client, sessionId, options);
    client.on('message', (_topic, payload) => drone.onCommand(payload));
    await client.subscribeAsync(topics.droneCommands(id), { qos: 1 });
    return drone;
  }

  private onCommand(payload: Buffer): void {
    let command: Command;
    try {
      command = JSON.parse(payload.toString('utf8')) as Command;
    } catch {
      return;
    }
    this.commands.push(command);
    if (this.ackPolicy === 'silent') return;
    const result = this.ackPolicy === 'accept' ? 'accepted' : 'rejected';
    if (command.kind === 'assign-delivery' && result === 'accepted') this.taskId = command.taskId;
    if (command.kind === 'abort') this.taskId = null;
    void this.ack({
      schema: PROTOCOL_VERSION,
      id: this.id,
      commandId: command.commandId,
      kind: command.kind,
      result,
      ...(result === 'rejected' ? { reason: 'busy charging' } : {}),
      timeMs: Date.now(),
    });
  }

  birth(extra: Partial<DroneBirth> = {}): Promise<unknown> {
    const b: DroneBirth = {
      schema: PROTOCOL_VERSION,
      kind: 'birth',
      id: this.id,
      online: true,
      sessionId: this.sessionId,
      policyVersion: 'sha256:0123456789abcdef',
      home: this.home,
      capabilities: this.capabilities,
      timeMs: Date.now(),
      ...extra,
    };
    return this.client.publishAsync(topics.droneStatus(this.id), JSON.stringify(b), { qos: 1, retain: true });
  }

  telemetryPayload(extra: Partial<Telemetry> = {}): Telemetry {
    return {
      ...examplePayloads().telemetry,
      id: this.id,
      sessionId: this.sessionId,
      seq: ++this.telemetrySeq,
      timeMs: Date.now(),
      positionNedM: { n: 0, e: 0, d: 0 },
      geo: this.home,
      velocityNedMS: { n: 0, e: 0, d: 0 },
      armed: false,
      landed: true,
      mode: 'AUTO.LOITER',
      batteryRemaining: 0.95,
      missionPhase: this.taskId ? 'cruise-out' : 'idle',
      taskId: this.taskId,
      ...extra,
    };
  }

  telemetry(extra: Partial<Telemetry> = {}): Promise<unknown> {
    return this.client.publishAsync(topics.droneTelemetry(this.id), JSON.stringify(this.telemetryPayload(extra)), {
      qos: 0,
    });
  }

  /** A mission event about `taskId` (defaults to the current task). */
  mission(
    missionEvent: 'assigned' | 'phase' | 'released' | 'command-refused' | 'outcome',
    extra: Partial<Extract<DroneEvent, { kind: 'mission' }>> = {},
  ): Promise<unknown> {
    const e: DroneEvent = {
      schema: PROTOCOL_VERSION,
      id: this.id,
      sessionId: this.sessionId,
      seq: ++this.eventSeq,
      timeMs: Date.now(),
      kind: 'mission',
      missionEvent,
      phase: 'drop',
      taskId: this.taskId,
      ...extra,
    } as DroneEvent;
    return this.client.publishAsync(topics.droneEvents(this.id), JSON.stringify(e), { qos: 1 });
  }

  ack(ack: CommandAck): Promise<unknown> {
    return this.client.publishAsync(topics.droneAcks(this.id), JSON.stringify(ack), { qos: 1 });
  }

  publishRaw(channel: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<unknown> {
    return this.client.publishAsync(`aerie/v1/drones/${this.id}/${channel}`, payload, { qos });
  }

  /** The socket dies without DISCONNECT: the broker publishes the will. */
  dropConnection(): void {
    this.client.stream.destroy();
    this.client.end(true);
  }

  /** Clean shutdown: the drone publishes its own death, then clears its retained status, then disconnects. */
  async close(clearRetained = true): Promise<void> {
    if (this.client.connected) {
      const death = { schema: PROTOCOL_VERSION, kind: 'death', id: this.id, online: false, sessionId: this.sessionId };
      await this.client.publishAsync(topics.droneStatus(this.id), JSON.stringify({ ...death, reason: 'shutdown' }), {
        qos: 1,
        retain: true,
      });
      if (clearRetained) await this.client.publishAsync(topics.droneStatus(this.id), '', { qos: 1, retain: true });
      // A clean DISCONNECT: a forced end would make the broker publish the will after all.
      await this.client.endAsync(false);
      return;
    }
    await this.client.endAsync(true);
    if (clearRetained) {
      // The connection died (a test dropped it): log in again briefly to clear the retained will, so a shared
      // broker does not keep this drone's status for the next run.
      const cleanup = await mqtt.connectAsync(this.url, {
        clientId: `aerie-${this.id}.cleanup`,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        username: this.id,
        ...(this.password !== undefined ? { password: this.password } : {}),
      });
      await cleanup.publishAsync(topics.droneStatus(this.id), '', { qos: 1, retain: true });
      await cleanup.endAsync(false);
    }
  }
}

/** Poll `cond` every 10 ms until true; throws with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
