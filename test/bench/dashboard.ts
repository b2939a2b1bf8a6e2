/**
 * Benchmark `dashboard.update_ms_200_drones`: the operator dashboard's main-thread cost of live updates with 200
 * drones. A station runs in-process (embedded broker with logins, SQLite, port 0); 200 lightweight simulated drones
 * (the station benchmark's mqtt.js publishers on a worker thread) fly circles and publish telemetry at 5 Hz through
 * the real broker; the dashboard is open and logged in in Debian's Chromium. The figure is the page's main-thread
 * busy time (CDP Performance.getMetrics TaskDuration) per second of wall time while the station streams batched
 * fleet deltas; the page also polls orders, alerts and charts as it always does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  addCredential,
  type CredentialsFile,
  EMPTY_CREDENTIALS,
  saveCredentials,
} from '../../ground-station/broker/index.js';
import { parseStationConfig } from '../../ground-station/config.js';
import { type StationHandle, startStation } from '../../ground-station/station.js';
import { rootLogger } from '../../shared/log/index.js';
import { launchChromium, loginToDashboard, screenshot } from '../browser/chromium.js';
import type { Benchmark, Figure } from './harness.js';

const DRONES = 200;
const HZ = 5;
const WARMUP_MS = 5000;
const MEASURE_MS = 15_000;

function simWorker(): Worker {
  // From dist: dist/ground-station/bench/sim-worker.js; from source (tsx): the .ts file.
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new Worker(new URL(`../../ground-station/bench/sim-worker.${ext}`, import.meta.url));
}

function ask(worker: Worker, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    worker.once('message', (reply: Record<string, unknown>) =>
      reply.ok === 'error' ? reject(new Error(String(reply.message))) : resolve(reply),
    );
    worker.postMessage(msg);
  });
}

export interface DashboardCost {
  /** Main-thread busy ms per wall second (TaskDuration), and its script and layout/style parts. */
  readonly taskMsPerS: number;
  readonly scriptMsPerS: number;
  readonly layoutMsPerS: number;
  /** Stream batches received and frames drawn per second by the page. */
  readonly batchesPerS: number;
  readonly framesPerS: number;
  /** Stream bytes per second from the station. */
  readonly streamBytesPerS: number;
}

export async function measureDashboard(drones = DRONES): Promise<DashboardCost> {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-dash-bench-'));
  let credentials: CredentialsFile = EMPTY_CREDENTIALS;
  const list: { id: string; password: string }[] = [];
  for (let i = 0; i < drones; i++) {
    const added = addCredential(credentials, `sim-${i}`, 'drone', 0, { N: 1024, r: 8, p: 1 });
    credentials = added.credentials;
    list.push({ id: `sim-${i}`, password: added.password });
  }
  saveCredentials(join(dir, 'credentials.json'), credentials);
  const level = rootLogger.level;
  rootLogger.level = 'warn';
  let station: StationHandle | null = null;
  const worker = simWorker();
  const browser = await launchChromium();
  try {
    station = await startStation(
      parseStationConfig({
        mqttPort: 0,
        httpPort: 0,
        db: join(dir, 'station.db'),
        credentials: join(dir, 'credentials.json'),
        operatorToken: 'bench',
        logLevel: 'silent',
        trafficRate: 0,
      }),
    );
    await ask(worker, { cmd: 'add', url: station.mqttUrl, drones: list, hz: HZ, circleM: 15 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await loginToDashboard(page, station.httpUrl, 'bench');
    const deadline = Date.now() + 30_000;
    while ((await page.locator('.drone-icon[data-drone-id]').count()) < drones) {
      if (Date.now() > deadline) throw new Error('the dashboard map did not show every drone within 30 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const sample = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
      const counters = (await page.evaluate('window.aerieDashboard')) as { batches: number; frames: number };
      return { m, counters, bytes: station!.stream.stats.bytesSent, wallMs: Date.now() };
    };
    const a = await sample();
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const b = await sample();
    await screenshot(page, 'bench', 'dashboard-200-drones');
    const s = (b.wallMs - a.wallMs) / 1000;
    const per = (k: string) => ((b.m[k] - a.m[k]) * 1000) / s;
    return {
      taskMsPerS: per('TaskDuration'),
      scriptMsPerS: per('ScriptDuration'),
      layoutMsPerS: per('LayoutDuration') + per('RecalcStyleDuration'),
      batchesPerS: (b.counters.batches - a.counters.batches) / s,
      framesPerS: (b.counters.frames - a.counters.frames) / s,
      streamBytesPerS: (b.bytes - a.bytes) / s,
    };
  } finally {
    await browser.close().catch(() => undefined);
    await ask(worker, { cmd: 'stop' }).catch(() => undefined);
    await worker.terminate();
    await station?.close();
    rootLogger.level = level;
    rmSync(dir, { recursive: true, force: true });
  }
}

export const dashboardBenchmark: Benchmark = {
  name: 'dashboard',
  figures: ['dashboard.update_ms_200_drones'],
  async run(): Promise<Figure[]> {
    const r = await measureDashboard();
    return [
      {
        name: 'dashboard.update_ms_200_drones',
        value: r.taskMsPerS,
        unit: 'ms/s',
        note:
          `main-thread busy time per second in Chromium, ${DRONES} drones at ${HZ} Hz; script ${r.scriptMsPerS.toFixed(1)}, ` +
          `layout+style ${r.layoutMsPerS.toFixed(1)} ms/s; ${r.batchesPerS.toFixed(1)} batches/s, ` +
          `${r.framesPerS.toFixed(1)} frames/s, stream ${Math.round(r.streamBytesPerS / 1024)} KiB/s`,
      },
    ];
  },
};
