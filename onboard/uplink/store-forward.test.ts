/**
 * Store-and-forward against a real broker: with the broker unreachable, events, metrics and experience go to disk;
 * a new uplink on the same data directory (a restarted process) replays them on reconnect, in order, with their
 * original session and sequence numbers; the bounded queue drops experience first and reports it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExperienceRecord } from '../../shared/experience/index.js';
import { OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { decodePayload, topics } from '../../shared/protocol/index.js';
import type { UplinkConfig } from './config.js';
import {
  FakeRuntime,
  quietTick,
  Subscriber,
  startBroker,
  TcpProxy,
  type TestBroker,
  tempDataDir,
  testConfig,
  until,
} from './test-support.js';
import { Uplink } from './uplink.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(overrides: Record<string, unknown> = {}) {
  const proxy = new TcpProxy(broker.host, broker.port);
  await proxy.start();
  const data = tempDataDir();
  const config = testConfig(proxy.url, data.dir, { metricsWindowS: 3600, ...overrides });
  const sub = await Subscriber.connect(broker.url, [`aerie/v1/drones/${config.id}/#`]);
  cleanups.push(
    data.cleanup,
    () => proxy.stop(),
    async () => {
      await sub.publish(topics.droneStatus(config.id), '', true);
      await sub.close();
    },
  );
  const uplinks: Uplink[] = [];
  cleanups.push(async () => {
    for (const u of uplinks) await u.stop(0);
  });
  const start = (cfg: UplinkConfig = config) => {
    const runtime = new FakeRuntime();
    const uplink = Uplink.open(cfg, runtime);
    uplinks.push(uplink);
    uplink.start();
    return { runtime, uplink };
  };
  return { proxy, config, sub, data, start };
}

const missionEvent = (i: number) =>
  quietTick({ events: [{ kind: 'phase', phase: 'cruise-out', timeMs: i, detail: `#${i}` }] });

function record(step: number): ExperienceRecord {
  return {
    timestampUs: 1_760_000_000_000_000 + step * 20_000,
    episode: 1,
    step,
    observation: Array.from({ length: OBSERVATION_SIZE }, (_, i) => Math.sin(step + i)),
    action: [0.1, 0.2, -0.3],
    filteredAction: [0.1, 0.2, -0.3],
    reward: 1,
    cost: 0,
    interventions: { sanity: false, box: false, barrier: false, shield: false, monitor: false },
    done: false,
    truncated: false,
    policyVersion: 'sha256:00112233aabbccdd',
  };
}

describe('store and forward', () => {
  it('replays events queued while the broker was down, across a restart, exactly once and in order', async () => {
    const { proxy, config, sub, data, start } = await setup();
    const eventsTopic = topics.droneEvents(config.id);
    const events = () => sub.on(eventsTopic).map((m) => m.json as { sessionId: string; seq: number; detail: string });

    const a = start();
    await until(() => a.uplink.isOnline, 10_000, 'online');
    for (let i = 1; i <= 3; i++) a.runtime.emit(missionEvent(i));
    await sub.waitFor(() => events().length === 3, 5000, 'first events');
    // Acknowledged too (a subscriber can see a message before its PUBACK reaches the sender).
    await until(() => a.uplink.queueStats().queuedRecords === 0, 5000, 'first events acknowledged');

    // The broker goes away; events keep coming and go to disk.
    await proxy.stop();
    await until(() => !a.uplink.isOnline, 5000, 'offline');
    for (let i = 4; i <= 8; i++) a.runtime.emit(missionEvent(i));
    expect(a.uplink.queueStats().byChannel.events).toBe(5);
    // The process stops (broker still down): what is queued stays on disk.
    await a.uplink.stop(0);
    expect(readdirSync(join(data.dir, 'outbox', 'events')).some((f) => f.endsWith('.seg'))).toBe(true);

    // The process starts again on the same data directory: a new session, the old queue.
    const b = start();
    expect(b.uplink.sessionId).not.toBe(a.uplink.sessionId);
    expect(b.uplink.queueStats().byChannel.events).toBe(5);
    for (let i = 1; i <= 2; i++) b.runtime.emit(missionEvent(100 + i));
    // The broker comes back.
    await proxy.start();
    await sub.waitFor(() => events().length >= 10, 10_000, 'replayed events');
    await until(() => b.uplink.queueStats().queuedRecords === 0, 5000, 'queue drained');

    for (const m of sub.on(eventsTopic)) expect(decodePayload('events', m.raw).ok).toBe(true);
    const got = events().map((e) => `${e.sessionId === a.uplink.sessionId ? 'A' : 'B'}${e.seq}:${e.detail}`);
    expect(got).toEqual(['A1:#1', 'A2:#2', 'A3:#3', 'A4:#4', 'A5:#5', 'A6:#6', 'A7:#7', 'A8:#8', 'B1:#101', 'B2:#102']);
    // Acknowledged: nothing left on disk.
    await until(
      () => readdirSync(join(data.dir, 'outbox', 'events')).every((f) => !f.endsWith('.seg')),
      3000,
      'segments deleted',
    );
  });

  it('loses nothing when the connection is cut while messages are in flight (at least once, in order per session)', async () => {
    const { proxy, config, sub, start } = await setup({ inflightMax: 8 });
    const eventsTopic = topics.droneEvents(config.id);
    const a = start();
    await until(() => a.uplink.isOnline, 10_000, 'online');
    for (let i = 1; i <= 200; i++) {
      a.runtime.emit(missionEvent(i));
      if (i % 50 === 0) proxy.cut();
    }
    await until(() => a.uplink.isOnline && a.uplink.queueStats().queuedRecords === 0, 15_000, 'drained');
    await sub.waitFor(() => new Set(sub.on(eventsTopic).map((m) => m.json?.seq)).size === 200, 10_000, 'all events');
    const seqs = sub.on(eventsTopic).map((m) => m.json?.seq as number);
    // Duplicates are allowed (a PUBACK lost with the connection); after dropping them the order is exact.
    const firstSeen = seqs.filter((s, i) => seqs.indexOf(s) === i);
    expect(firstSeen).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('bounds the queue: drops the oldest experience, keeps every event, and reports the drops in the next metrics', async () => {
    const { proxy, config, sub, start } = await setup({
      queueMaxBytes: 24 * 1024,
      queueSegmentBytes: 2048,
      experienceBatchMax: 1,
    });
    const a = start();
    await until(() => a.uplink.isOnline, 10_000, 'online');
    await proxy.stop();
    await until(() => !a.uplink.isOnline, 5000, 'offline');
    // About 1.2 kB per experience message: 60 of them cannot all fit in 24 kB beside the events.
    for (let i = 0; i < 60; i++) {
      expect(a.uplink.recordExperience(record(i))).toBe(true);
      if (i % 3 === 0) a.runtime.emit(missionEvent(i));
    }
    const stats = a.uplink.queueStats();
    expect(stats.droppedTotal.experience).toBeGreaterThan(0);
    expect(stats.droppedTotal.metrics).toBe(0);
    // 20 mission events and the one 'queue-full' alert (at most one a minute).
    expect(stats.byChannel.events).toBe(21);
    expect(stats.queueBytes).toBeLessThanOrEqual(24 * 1024);
    await proxy.start();
    await until(() => a.uplink.isOnline && a.uplink.queueStats().queuedRecords === 0, 10_000, 'drained');
    // Stopping closes the metrics window: its message carries the drops.
    await a.uplink.stop();
    const metricsTopic = topics.droneMetrics(config.id);
    await sub.waitFor(() => sub.on(metricsTopic).length >= 1, 5000, 'metrics');
    const experience = sub
      .on(topics.droneExperience(config.id))
      .map((m) => m.json as { seq: number; records: ExperienceRecord[] });
    const events = sub
      .on(topics.droneEvents(config.id))
      .map((m) => m.json as { kind: string; seq: number; code?: string });
    const metrics = sub.on(metricsTopic).map((m) => m.json as { uplink: { queueDrops: { experience: number } } });
    for (const m of sub.on(topics.droneExperience(config.id))) expect(decodePayload('experience', m.raw).ok).toBe(true);

    // Every event arrived, numbered without a gap (the queue-full alert among them).
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.kind === 'mission')).toHaveLength(20);
    expect(events.some((e) => e.code === 'queue-full')).toBe(true);
    // The newest experience survived, the oldest went; the metrics account for every missing message.
    const seqs = experience.map((e) => e.seq);
    expect(seqs[seqs.length - 1]).toBe(60);
    expect(seqs).toEqual(seqs.map((_, i) => 61 - seqs.length + i));
    expect(experience[0].records[0].step).toBe(60 - seqs.length);
    const reported = metrics.reduce((s, m) => s + m.uplink.queueDrops.experience, 0);
    expect(reported).toBe(60 - seqs.length);
    expect(reported).toBe(stats.droppedTotal.experience);
  });
});
