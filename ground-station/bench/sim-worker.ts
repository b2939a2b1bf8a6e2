/**
 * Worker thread of the station benchmark: lightweight simulated drones, each an mqtt.js client that logs in,
 * publishes its birth and then telemetry at a fixed rate with `timeMs` stamped at send time. Runs on its own thread
 * (the machine's other core) so the drones do not steal the station's event loop.
 *
 * Messages from the parent: {cmd:'add', url, drones:[{id,password}], hz, circleM?} -> {ok:'added', count}
 *                           (circleM: each drone flies a circle of that radius around its own point, so positions
 *                           change every message; without it they hover at home)
 *                           {cmd:'stats'} -> {ok:'stats', sent, connected}
 *                           {cmd:'stop'}  -> {ok:'stopped'}
 */
import { parentPort } from 'node:worker_threads';
import mqtt, { type MqttClient } from 'mqtt';
import { nedToGeo } from '../../shared/geo/index.js';
import { PROTOCOL_VERSION, type Telemetry } from '../../shared/protocol/index.js';

interface SimDrone {
  readonly id: string;
  readonly client: MqttClient;
  readonly topic: string;
  seq: number;
  timer: NodeJS.Timeout | null;
  /** Circle flown (centre NE m, radius m), null: hovering at home. */
  readonly circle: { n: number; e: number; radiusM: number } | null;
}

const drones: SimDrone[] = [];
let sent = 0;
const HOME = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };

const CIRCLE_SPEED_MPS = 8;

function telemetry(d: SimDrone, timeMs: number): Telemetry {
  let ned = { n: 0, e: 0, d: -20 };
  let geo = HOME;
  let velocity = { n: 1, e: 0, d: 0 };
  let yawRad = 0;
  if (d.circle) {
    const w = CIRCLE_SPEED_MPS / d.circle.radiusM;
    const a = ((timeMs / 1000) * w) % (2 * Math.PI);
    ned = { n: d.circle.n + d.circle.radiusM * Math.cos(a), e: d.circle.e + d.circle.radiusM * Math.sin(a), d: -30 };
    geo = nedToGeo(HOME, ned);
    velocity = { n: -CIRCLE_SPEED_MPS * Math.sin(a), e: CIRCLE_SPEED_MPS * Math.cos(a), d: 0 };
    yawRad = Math.atan2(velocity.e, velocity.n);
  }
  return {
    schema: PROTOCOL_VERSION,
    id: d.id,
    timeMs,
    seq: ++d.seq,
    positionNedM: ned,
    geo,
    velocityNedMS: velocity,
    yawRad,
    armed: true,
    mode: 'OFFBOARD',
    landed: false,
    batteryRemaining: 0.8,
    batteryVoltageV: 15.8,
    gpsFixType: 3,
    missionPhase: 'cruise-out',
    taskId: null,
    policyVersion: 'bench',
    linkQuality: {
      autopilotUp: true,
      heartbeatAgeMs: 100,
      mavlinkFrames: 1000,
      mavlinkBadCrc: 0,
      autopilotLinkDowns: 0,
    },
  };
}

async function add(
  url: string,
  list: { id: string; password: string }[],
  hz: number,
  circleM?: number,
): Promise<number> {
  const periodMs = 1000 / hz;
  const base = drones.length;
  // Connect in small waves so the broker's login checks are not one burst.
  for (let i = 0; i < list.length; i += 50) {
    await Promise.all(
      list.slice(i, i + 50).map(async ({ id, password }, j) => {
        const sessionId = `bench-${Math.random().toString(36).slice(2, 10)}`;
        const client = await mqtt.connectAsync(url, {
          clientId: `aerie-${id}`,
          username: id,
          password,
          protocolVersion: 4,
          reconnectPeriod: 0,
          keepalive: 60,
          connectTimeout: 30_000,
        });
        // Circles spread over a square around home, a few radii apart.
        const k = base + i + j;
        const circle =
          circleM === undefined
            ? null
            : { n: (Math.floor(k / 15) - 7) * 3 * circleM, e: ((k % 15) - 7) * 3 * circleM, radiusM: circleM };
        const d: SimDrone = { id, client, topic: `aerie/v1/drones/${id}/telemetry`, seq: 0, timer: null, circle };
        const birth = {
          schema: PROTOCOL_VERSION,
          kind: 'birth',
          id,
          online: true,
          sessionId,
          policyVersion: 'bench',
          home: HOME,
          capabilities: [],
          timeMs: Date.now(),
          telemetryHz: hz,
        };
        await client.publishAsync(`aerie/v1/drones/${id}/status`, JSON.stringify(birth), { qos: 1, retain: true });
        // Phases spread evenly over the period: a real fleet's clocks are not aligned.
        const phase = Math.random() * periodMs;
        setTimeout(() => {
          d.timer = setInterval(() => {
            if (!client.connected) return;
            client.publish(d.topic, JSON.stringify(telemetry(d, Date.now())), { qos: 0 });
            sent++;
          }, periodMs);
        }, phase);
        drones.push(d);
      }),
    );
  }
  return drones.length;
}

async function stop(): Promise<void> {
  for (const d of drones) if (d.timer) clearInterval(d.timer);
  await Promise.all(drones.map((d) => d.client.endAsync(true).catch(() => undefined)));
  drones.length = 0;
}

parentPort?.on(
  'message',
  (msg: { cmd: string; url?: string; drones?: { id: string; password: string }[]; hz?: number; circleM?: number }) => {
    if (msg.cmd === 'add') {
      add(msg.url!, msg.drones!, msg.hz!, msg.circleM).then(
        (count) => parentPort?.postMessage({ ok: 'added', count }),
        (err: Error) => parentPort?.postMessage({ ok: 'error', message: err.message }),
      );
    } else if (msg.cmd === 'stats') {
      parentPort?.postMessage({ ok: 'stats', sent, connected: drones.filter((d) => d.client.connected).length });
    } else if (msg.cmd === 'stop') {
      void stop().then(() => parentPort?.postMessage({ ok: 'stopped' }));
    }
  },
);
