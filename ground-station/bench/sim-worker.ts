/**
 * Worker thread of the station benchmark: lightweight simulated drones, each an mqtt.js client that logs in,
 * publishes its birth and then telemetry at a fixed rate with `timeMs` stamped at send time. Runs on its own thread
 * (the machine's other core) so the drones do not steal the station's event loop.
 *
 * Messages from the parent: {cmd:'add', url, drones:[{id,password}], hz} -> {ok:'added', count}
 *                           {cmd:'stats'} -> {ok:'stats', sent, connected}
 *                           {cmd:'stop'}  -> {ok:'stopped'}
 */
import { parentPort } from 'node:worker_threads';
import mqtt, { type MqttClient } from 'mqtt';
import { PROTOCOL_VERSION, type Telemetry } from '../../shared/protocol/index.js';

interface SimDrone {
  readonly id: string;
  readonly client: MqttClient;
  readonly topic: string;
  seq: number;
  timer: NodeJS.Timeout | null;
}

const drones: SimDrone[] = [];
let sent = 0;
const HOME = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };

function telemetry(d: SimDrone, timeMs: number): Telemetry {
  return {
    schema: PROTOCOL_VERSION,
    id: d.id,
    timeMs,
    seq: ++d.seq,
    positionNedM: { n: 0, e: 0, d: -20 },
    geo: HOME,
    velocityNedMS: { n: 1, e: 0, d: 0 },
    yawRad: 0,
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

async function add(url: string, list: { id: string; password: string }[], hz: number): Promise<number> {
  const periodMs = 1000 / hz;
  // Connect in small waves so the broker's login checks are not one burst.
  for (let i = 0; i < list.length; i += 50) {
    await Promise.all(
      list.slice(i, i + 50).map(async ({ id, password }) => {
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
        const d: SimDrone = { id, client, topic: `aerie/v1/drones/${id}/telemetry`, seq: 0, timer: null };
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
  (msg: { cmd: string; url?: string; drones?: { id: string; password: string }[]; hz?: number }) => {
    if (msg.cmd === 'add') {
      add(msg.url!, msg.drones!, msg.hz!).then(
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
