/**
 * The embedded MQTT broker (aedes, MQTT 3.1.1) with Aerie's authentication and per-drone ACL. Logins are checked
 * against the credentials (scrypt, off the event loop); a publish outside the sender's rights is refused - aedes
 * then closes that client's connection, so the message never reaches a subscriber; a subscription outside them is
 * answered with the failure code (0x80) and the client stays connected. Every refusal is counted by reason.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { AerieError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import { type AclPrincipal, aclAllows } from '../../shared/protocol/index.js';
import type { CredentialChecker } from './credentials.js';
import type { DropCounters } from './drops.js';

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 takes a free port. */
  readonly port: number;
  readonly checker: CredentialChecker;
  /**
   * Development only: accept clients without a valid password, each taken at its word (username = drone id, no
   * username = a drone that can publish nowhere). The ACL still applies.
   */
  readonly allowAnonymous?: boolean;
  readonly drops: DropCounters;
  readonly logger: Logger;
}

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  readonly connectedClients: () => number;
  close(): Promise<void>;
}

/** The message for a taken MQTT port: says what is probably there and the two ways out. */
export function mqttPortInUseMessage(host: string, port: number): string {
  return (
    `MQTT port ${port} on ${host} is already taken (another broker such as Mosquitto may be listening there). ` +
    `To use that broker instead of the embedded one, pass --mqtt-url mqtt://${host}:${port}; ` +
    `or pick another port with --mqtt-port N (--mqtt-port 0 takes a free one).`
  );
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/**
 * A drone's MQTT client id must be its own: `<id>` or `aerie-<id>` (the uplink's default), optionally followed by
 * `.<suffix>`. Otherwise one drone could connect with another's client id and so disconnect it (session takeover).
 */
export function droneClientIdAllowed(droneId: string, clientId: string): boolean {
  for (const base of [droneId, `aerie-${droneId}`]) {
    if (clientId === base || clientId.startsWith(`${base}.`)) return true;
  }
  return false;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { checker, drops, logger } = options;
  const users = new WeakMap<Client, AclPrincipal>();
  const wills = new WeakMap<Client, string>();

  const broker = new Aedes({
    // Drain quickly-stuck subscribers rather than let one frozen socket stall the fleet's telemetry.
    drainTimeout: 10_000,
    // Unbounded: with a bound, messages that wait behind a slow subscriber are queued in mqemitter and released
    // recursively once it drains, which overflows the stack after a few thousand (measured at 20k msg/s). Without
    // it they wait as pending writes, bounded by drainTimeout, which disconnects a subscriber stuck that long.
    concurrency: 0,
    maxClientsIdLength: 128,
    heartbeatInterval: 60_000,
    authenticate(client, username, password, done) {
      const name = username ?? '';
      const secret = password?.toString('utf8') ?? '';
      checker.check(name, secret).then(
        (checked) => {
          let role = checked;
          if (role === null && options.allowAnonymous) role = 'drone';
          if (role === null) {
            drops.drop('login-refused');
            logger.warn({ clientId: client.id, username: name }, 'login refused');
            done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
            return;
          }
          const user = { username: name, role };
          if (role === 'drone' && !droneClientIdAllowed(name, client.id)) {
            drops.drop('client-id-refused');
            logger.warn({ clientId: client.id, username: name }, 'client id refused');
            done(authError(`client id ${client.id} is not this drone's`, IDENTIFIER_REJECTED), false);
            return;
          }
          // A will is a publish that happens later: refuse one outside the user's rights now, at connect.
          const willTopic = wills.get(client);
          if (willTopic !== undefined && !aclAllows(user, 'publish', willTopic)) {
            drops.drop('unauthorised-will');
            logger.warn({ clientId: client.id, username: name, topic: willTopic }, 'will refused');
            done(authError(`will topic ${willTopic} not allowed`, NOT_AUTHORIZED), false);
            return;
          }
          users.set(client, user);
          done(null, true);
        },
        () => done(authError('login check failed', NOT_AUTHORIZED), false),
      );
    },
    preConnect(client, packet, done) {
      // Kept for authenticate, which decides with the verified user (aedes answers a preConnect refusal with no
      // CONNACK at all, which leaves clients waiting).
      if (packet.will) wills.set(client, packet.will.topic);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // client is null only for a will aedes publishes on a dead client's behalf after a restart: not ours to judge.
      if (client === null) return done(null);
      const user = users.get(client);
      if (user && aclAllows(user, 'publish', packet.topic)) return done(null);
      drops.drop('unauthorised-publish');
      logger.warn({ clientId: client.id, username: user?.username, topic: packet.topic }, 'publish refused');
      done(new Error(`not allowed to publish to ${packet.topic}`));
    },
    authorizeSubscribe(client, subscription, done) {
      const user = users.get(client);
      if (user && aclAllows(user, 'subscribe', subscription.topic)) return done(null, subscription);
      drops.drop('unauthorised-subscribe');
      logger.warn({ clientId: client.id, username: user?.username, topic: subscription.topic }, 'subscribe refused');
      done(null, null);
    },
  });
  await broker.listen();
  broker.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'client error'));
  broker.on('connectionError', (client, err) =>
    logger.debug({ clientId: client.id, err: err.message }, 'connection error'),
  );

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new AerieError('PORT_IN_USE', mqttPortInUseMessage(options.host, options.port), {
        host: options.host,
        port: options.port,
      });
    }
    throw err;
  }
  server.on('error', (err) => logger.error({ err: err.message }, 'broker server error'));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const urlHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  logger.info({ host: options.host, port }, 'embedded broker listening');

  let closed = false;
  return {
    url: `mqtt://${urlHost}:${port}`,
    port,
    connectedClients: () => broker.connectedClients,
    async close() {
      if (closed) return;
      closed = true;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await serverClosed;
    },
  };
}
