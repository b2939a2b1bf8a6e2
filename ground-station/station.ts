/**
 * The station process, in-process: `startStation(config)` opens storage, starts the embedded broker (or uses an
 * external one), connects the station's MQTT client, serves the HTTP API and runs the assignment, alert, flush and
 * traffic timers; `close()` stops them in order (HTTP, timers, queued work, MQTT client, broker, database).
 * Port 0 anywhere takes a free port, so tests can start several stations at once.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { AerieError } from '../shared/errors.js';
import { componentLogger, type Logger } from '../shared/log/index.js';
import {
  CredentialChecker,
  DropCounters,
  type EmbeddedBroker,
  generatePassword,
  loadCredentials,
  startEmbeddedBroker,
} from './broker/index.js';
import type { StationConfig } from './config.js';
import { type Depot, Dispatcher, orderRiskScore, parseDepots } from './deliveries/index.js';
import { ExperienceStore } from './experience/index.js';
import { FleetRegistry } from './fleet/index.js';
import { StationLink } from './link/index.js';
import { RolloutManager, stationRolloutDrones } from './rollouts/index.js';
import { type StationPolicies, startStationPolicies } from './rollouts/registry-station.js';
import {
  airspacePort,
  deliveriesPort,
  fleetPort,
  fleetTraffic,
  LatencyRecorder,
  RoundScheduler,
  readAirspaceFile,
  SequenceTracker,
  StationAirspace,
  StationMonitoring,
  stationHandlers,
  TaskTracker,
} from './station/index.js';
import { openStore, type StationStore } from './storage/index.js';
import { buildWebServer, generateToken, type WebServer } from './web/index.js';
import { DashboardStream } from './web/stream.js';
import { publishFleetEstop, stationStreamSource } from './web/stream-source.js';

/** How far back a restarted station looks for stored events a drone may replay (its queue outlives an outage). */
const EVENT_REPLAY_WINDOW_MS = 24 * 3600 * 1000;

export interface StartStationOptions {
  readonly logger?: Logger;
  /** Unix ms now; all stages take time from here. */
  readonly clock?: () => number;
}

export interface StationHandle {
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly operatorToken: string;
  /** True when no token was configured and this one was made up (the CLI prints it). */
  readonly operatorTokenGenerated: boolean;
  readonly depots: readonly Depot[];
  readonly store: StationStore;
  readonly registry: FleetRegistry;
  readonly dispatcher: Dispatcher;
  readonly monitoring: StationMonitoring;
  readonly experience: ExperienceStore;
  readonly drops: DropCounters;
  readonly latency: LatencyRecorder;
  readonly link: StationLink;
  /** The fleet airspace (stored, published retained, checked against new orders). */
  readonly airspace: StationAirspace;
  /** The dashboard's live stream (batched fleet deltas, alerts, rollouts). */
  readonly stream: DashboardStream;
  /** Policy rollouts (shadow, canary, staged, A/B), on their own timer. */
  readonly rollouts: RolloutManager;
  /** The policy registry (/api/policies) and the bundle distribution. */
  readonly policies: StationPolicies;
  /** Rollout changes for open dashboards (a plain callback; the rollout manager calls it). */
  publishRolloutUpdate(rollout: { id: string } & Record<string, unknown>): void;
  /** Run an assignment round now and wait for it (tests). */
  runRound(): Promise<void>;
  /** Wait until every message handler and queued dispatcher operation so far has finished (tests). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startStation(config: StationConfig, options: StartStationOptions = {}): Promise<StationHandle> {
  const log = options.logger ?? componentLogger('station');
  const clock = options.clock ?? Date.now;
  const depotsParsed = parseDepots(config.depots);
  if (!depotsParsed.ok) throw new AerieError('CONFIG_INVALID_VALUE', `depots: ${depotsParsed.reason}`);
  const depots = depotsParsed.value;
  // A bad airspace file stops the start before anything is opened.
  const airspaceFromFile = config.airspace !== undefined ? readAirspaceFile(config.airspace) : null;
  if (config.sharedGroup !== undefined && config.mqttUrl === undefined) {
    throw new AerieError(
      'CONFIG_CONFLICT',
      '--shared-group needs an external MQTT 5 broker (--mqtt-url); aedes speaks 3.1.1',
    );
  }

  const cleanups: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const store = await openStore(
      {
        dbFile: config.db,
        ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
        ...(config.databaseSchema ? { databaseSchema: config.databaseSchema } : {}),
      },
      clock(),
    );
    cleanups.push(() => store.close());
    log.info({ storage: store.kind, where: store.where }, 'storage open');

    const drops = new DropCounters();
    const latency = new LatencyRecorder();
    const registry = new FleetRegistry({ staleAfterMs: config.staleAfter * 1000 });
    registry.restore(await store.listDrones());
    const experience = new ExperienceStore(store, drops, componentLogger('experience'));

    // The broker: embedded with our logins and ACL, or the one at --mqtt-url.
    let broker: EmbeddedBroker | null = null;
    let mqttUrl: string;
    let username = config.mqttUsername;
    let password = config.mqttPassword;
    const checker = new CredentialChecker(loadCredentials(config.credentials));
    if (config.mqttUrl === undefined) {
      username = 'station';
      password = generatePassword();
      checker.addVolatileUser(username, 'station', password);
      // Drones and operators added while the station runs can log in without a restart.
      const reload = () => {
        try {
          checker.replace(loadCredentials(config.credentials));
          log.info({ file: config.credentials }, 'credentials reloaded');
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'credentials not reloaded');
        }
      };
      watchFile(config.credentials, { interval: 1000, persistent: false }, reload);
      cleanups.push(async () => unwatchFile(config.credentials, reload));
      broker = await startEmbeddedBroker({
        host: config.mqttHost,
        port: config.mqttPort,
        checker,
        allowAnonymous: config.allowAnonymous,
        drops,
        logger: componentLogger('broker'),
      });
      const b = broker;
      cleanups.push(() => b.close());
      mqttUrl = broker.url;
    } else {
      mqttUrl = config.mqttUrl;
    }

    // The dispatcher sends through the link, which exists only once connected; messages that arrive meanwhile
    // (retained births) need the dispatcher, so the sender is a late-bound seam.
    let link: StationLink | null = null;
    // The policy registry (the default policy seeded as the active baseline) and the bundle sender.
    const policies = await startStationPolicies({
      config,
      store,
      checker,
      link: () => link,
      clock,
      logger: componentLogger('policies'),
    });
    cleanups.push(async () => policies.close());
    const airspace = new StationAirspace({
      store,
      publish: (msg) =>
        link ? link.publishFleet('airspace', msg) : Promise.resolve({ ok: false, reason: 'link not up' }),
      defaultOrigin: depots[0].geo,
      logger: componentLogger('airspace'),
    });
    await airspace.load();
    // Rollouts: the newest one resumes where it was; it acts on drones once the link is up and runs on its timer.
    let publishRolloutUpdate: (view: { id: string } & Record<string, unknown>) => void = () => undefined;
    const rollouts = new RolloutManager({
      store,
      fleet: () =>
        registry.all().map((d) => ({
          id: d.id,
          online: d.online,
          landed: d.telemetry?.landed ?? false,
          armed: d.telemetry?.armed ?? true,
          policyVersion: d.policyVersion,
        })),
      drones: stationRolloutDrones({
        sendCommand: (droneId, command) =>
          link ? link.sendCommand(droneId, command) : Promise.resolve({ ok: false, reason: 'link not up' }),
        install: (droneId, version, nowMs) => policies.install(droneId, version, nowMs),
      }),
      policies: {
        lookup: (version) => policies.registry.get(version),
        setState: async (version, state, reason, nowMs) => {
          await policies.registry.transition(version, state, reason, nowMs);
        },
      },
      clock,
      logger: componentLogger('rollouts'),
      onUpdate: (view) => publishRolloutUpdate(view),
    });
    await rollouts.restore();

    const dispatcher = new Dispatcher(
      store,
      registry,
      {
        sendCommand: (droneId, command) =>
          link ? link.sendCommand(droneId, command) : Promise.resolve({ ok: false, reason: 'link not up' }),
      },
      {
        ackTimeoutMs: config.ackTimeout * 1000,
        rejectCooldownMs: config.rejectCooldown * 1000,
        maxAttempts: config.maxAttempts,
        inFlightOfflineGraceMs: config.inFlightOfflineGrace * 1000,
        cruiseAltM: config.cruiseAlt,
        releaseBy: config.releaseBy,
        fleetOrigin: depots[0].geo,
        orderRefusal: (order) => airspace.orderRefusal(order)?.message ?? null,
        canaryDrones: () => rollouts.canaryDrones(),
        heldDrones: () => rollouts.switchingDrones(),
        orderRisk: (order) => orderRiskScore(order, airspace.current()),
      },
      componentLogger('dispatcher'),
    );
    await dispatcher.restore(clock());

    const monitoring = new StationMonitoring(
      store,
      registry,
      {
        drops,
        dispatcher: () => dispatcher.stats,
        experience: () => experience.stats,
        latency,
        messagesReceived: () => link?.received ?? 0,
      },
      { ...(config.webhook ? { webhookUrl: config.webhook } : {}) },
      componentLogger('monitoring'),
    );
    await monitoring.restore();

    cleanups.push(() => monitoring.close(clock()));

    const tasks = new TaskTracker(drops, log);
    let closing = false;
    // Each round first takes up an airspace another station on the same database may have changed.
    const rounds = new RoundScheduler(
      () =>
        airspace
          .refresh()
          .then(() => dispatcher.round(clock()))
          .then(() => undefined),
      25,
      log,
    );
    const kick = () => rounds.kick();

    let flushScheduled = false;
    const flushDrones = async (all: boolean) => {
      const records = registry.takeDirty(clock(), all);
      if (records.length > 0) await store.saveDrones(records);
    };
    const dronesChanged = () => {
      if (flushScheduled || closing) return;
      flushScheduled = true;
      setTimeout(() => {
        flushScheduled = false;
        // After close() began, its own final flush writes everything.
        if (!closing) tasks.track('status', flushDrones(false));
      }, 100);
    };

    // Events stored before a restart are repeats when the drones replay them (their store-and-forward queues).
    const sequences = new SequenceTracker();
    for (const s of await store.latestEventSeqs(clock() - EVENT_REPLAY_WINDOW_MS)) {
      sequences.restore(s.droneId, s.sessionId, 'events', s.seq);
    }
    const handlers = stationHandlers({
      registry,
      dispatcher,
      monitoring,
      experience,
      events: store,
      sequences,
      drops,
      latency,
      tasks,
      kick,
      dronesChanged,
      clock,
      logger: log,
      // Policy events and acks also settle bundle transfers.
      rollouts: {
        onBirth: (b) => rollouts.onBirth(b),
        onPolicyEvent: (e, nowMs) => {
          policies.onPolicyEvent(e);
          rollouts.onPolicyEvent(e, nowMs);
        },
        onMetrics: (m, nowMs) => rollouts.onMetrics(m, nowMs),
        onAck: (droneId, ack, nowMs) => {
          policies.onAck(droneId, ack);
          rollouts.onAck(droneId, ack, nowMs);
        },
      },
    });

    link = await StationLink.connect({
      url: mqttUrl,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      protocolVersion: config.mqttProtocol === '5' ? 5 : 4,
      clientId: config.stationId
        ? `aerie-station-${config.stationId}`
        : `aerie-station-${generateToken().slice(0, 12)}`,
      persistentSession: config.stationId !== undefined,
      ...(config.sharedGroup ? { sharedGroup: config.sharedGroup } : {}),
      handlers,
      drops,
      logger: componentLogger('station-link'),
      clock,
    });
    const stationLink = link;
    cleanups.push(() => stationLink.close());
    // The fleet airspace, retained: the file's when it differs from the stored one (a new version), else the stored.
    const fromFile = airspaceFromFile ? await airspace.set(airspaceFromFile, clock()) : null;
    if (!fromFile?.changed) await airspace.publish();
    stationLink.onReconnect(() => void airspace.publish());

    const operatorToken = config.operatorToken ?? generateToken();
    const stream = new DashboardStream(
      stationStreamSource({
        registry,
        taskOf: (id) => dispatcher.taskOf(id),
        alerts: () => monitoring.alerts({}),
        depots,
      }),
      { clock },
    );
    const web: WebServer = await buildWebServer({
      operatorToken,
      ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
      deliveries: deliveriesPort(store, dispatcher, depots, config.maxDropDistance, kick, airspace),
      airspace: airspacePort(airspace, kick),
      rollouts,
      policies: policies.port,
      fleet: fleetPort(registry, dispatcher, store),
      monitoring,
      experience,
      stream,
      fleetEstop: (reason, nowMs) =>
        publishFleetEstop((payload) => stationLink.publishFleet('estop', payload), reason, nowMs),
      status: async (nowMs) => ({
        timeMs: nowMs,
        mqttUrl,
        broker: broker ? 'embedded' : 'external',
        storage: store.kind,
        drones: { known: registry.size, online: registry.onlineCount() },
        orders: await store.countOrdersByStatus(),
        dispatcher: dispatcher.stats,
        experience: experience.stats,
        dropped: drops.snapshot(),
        depots,
      }),
      clock,
      logger: componentLogger('http'),
    });
    try {
      await web.listen({ port: config.httpPort, host: config.httpHost });
    } catch (err) {
      await web.close().catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new AerieError(
          'PORT_IN_USE',
          `HTTP port ${config.httpPort} on ${config.httpHost} is already taken; pick another with --http-port N (0 takes a free one)`,
          { port: config.httpPort },
        );
      }
      throw err;
    }
    cleanups.push(() => web.close());
    const address = web.server.address();
    const httpPort = typeof address === 'object' && address !== null ? address.port : config.httpPort;
    const httpHost = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
    const httpUrl = `http://${httpHost}:${httpPort}`;

    const timers: NodeJS.Timeout[] = [];
    timers.push(setInterval(kick, config.roundInterval * 1000));
    publishRolloutUpdate = (view) => stream.publishRollout(view);
    rollouts.start();
    timers.push(setInterval(() => tasks.track('status', flushDrones(true)), config.flushInterval * 1000));
    timers.push(
      setInterval(() => tasks.track('monitoring', monitoring.evaluate(clock())), config.alertInterval * 1000),
    );
    if (config.trafficRate > 0) {
      const publishTraffic = async () => {
        const traffic = fleetTraffic(registry, clock(), config.staleAfter * 1000);
        if (traffic) await stationLink.publishFleet('traffic', traffic);
      };
      timers.push(setInterval(() => tasks.track('traffic', publishTraffic()), 1000 / config.trafficRate));
    }
    kick();
    log.info({ httpUrl, mqttUrl, depots: depots.map((d) => d.id) }, 'station up');

    const settle = async () => {
      for (let i = 0; i < 10 && (tasks.size > 0 || rounds.busy); i++) {
        await tasks.settle();
        await rounds.idle();
      }
      await dispatcher.idle();
    };

    let closed: Promise<void> | null = null;
    return {
      httpUrl,
      mqttUrl,
      operatorToken,
      operatorTokenGenerated: config.operatorToken === undefined,
      depots,
      store,
      registry,
      dispatcher,
      monitoring,
      experience,
      drops,
      latency,
      link: stationLink,
      airspace,
      stream,
      rollouts,
      policies,
      publishRolloutUpdate: (rollout) => stream.publishRollout(rollout),
      runRound: () => rounds.runNow(),
      settle,
      close() {
        closed ??= (async () => {
          closing = true;
          for (const t of timers) clearInterval(t);
          await rollouts.stop();
          // Stop taking requests, finish queued work, say goodbye to the broker, then the rest.
          const webClose = cleanups.pop();
          await webClose?.();
          await rounds.stop();
          await tasks.settle();
          await dispatcher.idle();
          await flushDrones(true).catch(() => undefined);
          await unwind();
          log.info('station stopped');
        })();
        return closed;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
