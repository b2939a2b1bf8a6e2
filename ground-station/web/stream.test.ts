/**
 * The dashboard stream without sockets: frames from drone states, deltas between frames, one batch per tick for
 * every connection, alerts only when they change, rollouts coalesced, slow connections resynchronised with a full
 * frame, and the query-string token.
 */
import { describe, expect, it } from 'vitest';
import { nedToGeo } from '../../shared/geo/index.js';
import { examplePayloads } from '../../shared/protocol/index.js';
import { DashboardStream, queryTokenMatches, type StreamSink } from './stream.js';
import { type DroneFrame, type DroneSource, droneFrame, fleetDelta } from './stream-frame.js';

const ORIGIN = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };

function source(id: string, n: number, e: number, yawRad = 0): DroneSource {
  return {
    id,
    online: true,
    policyVersion: 'sha256:aa',
    telemetry: {
      ...examplePayloads().telemetry,
      id,
      geo: nedToGeo(ORIGIN, { n, e, d: -30 }),
      yawRad,
      velocityNedMS: { n: 3, e: 4, d: 0 },
      batteryRemaining: 0.876,
    },
    telemetryAtMs: 1000,
  };
}

const frame = (id: string, n: number, e: number, yawRad = 0): DroneFrame =>
  droneFrame(source(id, n, e, yawRad), ORIGIN, 2000, { health: 'ok', task: null });

class FakeSink implements StreamSink {
  chunks: string[] = [];
  writableNeedDrain = false;
  ended = false;
  private onClose: (() => void) | null = null;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  once(_event: 'close', listener: () => void): unknown {
    this.onClose = listener;
    return this;
  }
  close(): void {
    this.onClose?.();
  }
  /** Parsed events written so far, and forget them. */
  take(): { event: string; data: unknown }[] {
    const text = this.chunks.join('');
    this.chunks = [];
    return [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => ({ event: m[1], data: JSON.parse(m[2]) }));
  }
}

describe('drone frames', () => {
  it('puts a drone on the fleet NE frame with heading, speed and battery in dashboard units', () => {
    const f = frame('d1', 120.04, -40.06, Math.PI / 2);
    expect(f.northM).toBeCloseTo(120, 5);
    expect(f.eastM).toBeCloseTo(-40.1, 5);
    expect(f.altM).toBeCloseTo(30, 5);
    expect(f.headingDeg).toBe(90);
    expect(f.speedMps).toBe(5);
    expect(f.batteryPct).toBe(88);
    expect(f.telemetryAgeS).toBe(1);
    expect(frame('d1', 0, 0, -Math.PI / 2).headingDeg).toBe(270);
  });

  it('a delta carries only drones that changed, and ids that left', () => {
    const prev = new Map<string, string>();
    const first = fleetDelta(prev, [frame('a', 0, 0), frame('b', 5, 5)], false);
    expect(first.upsert.map((f) => f.id)).toEqual(['a', 'b']);
    // A change below the rounding (1 cm) is no change.
    const same = fleetDelta(prev, [frame('a', 0.01, 0), frame('b', 5, 5)], false);
    expect(same.upsert).toEqual([]);
    const moved = fleetDelta(prev, [frame('a', 3, 0)], false);
    expect(moved.upsert.map((f) => [f.id, f.northM])).toEqual([['a', 3]]);
    expect(moved.remove).toEqual(['b']);
  });
});

describe('DashboardStream', () => {
  function setup() {
    let frames: DroneFrame[] = [frame('a', 0, 0), frame('b', 10, 0)];
    let alerts: unknown = { firing: [], pending: [], resolved: [] };
    let now = 10_000;
    const stream = new DashboardStream(
      { fleet: () => frames, alerts: () => alerts, setup: () => ({ origin: ORIGIN, depots: [] }) },
      { clock: () => now, alertsEveryMs: 2000, intervalMs: 1000 },
    );
    return {
      stream,
      setFrames: (f: DroneFrame[]) => {
        frames = f;
      },
      setAlerts: (a: unknown) => {
        alerts = a;
      },
      advance: (ms: number) => {
        now += ms;
      },
    };
  }

  it('starts a connection with setup, a full frame and the alerts, then sends one delta per tick', () => {
    const t = setup();
    const sink = new FakeSink();
    t.stream.attach(sink);
    const first = sink.take();
    expect(first.map((e) => e.event)).toEqual(['setup', 'fleet', 'alerts']);
    expect(first[1].data).toMatchObject({ full: true, upsert: [{ id: 'a' }, { id: 'b' }] });

    t.stream.tick();
    expect(sink.take()).toEqual([]); // nothing changed: nothing sent
    t.setFrames([frame('a', 0, 0), frame('b', 20, 0)]);
    t.stream.tick();
    const moved = sink.take();
    expect(moved).toHaveLength(1);
    expect(moved[0].data).toMatchObject({ full: false, upsert: [{ id: 'b', northM: 20 }], remove: [] });
    t.stream.close();
    expect(sink.ended).toBe(true);
  });

  it('sends alerts only when they changed, at most every alertsEveryMs', () => {
    const t = setup();
    const sink = new FakeSink();
    t.stream.attach(sink);
    sink.take();
    t.setAlerts({ firing: [{ id: 'x' }], pending: [], resolved: [] });
    t.stream.tick(); // within 2 s of the first look: not yet
    expect(sink.take()).toEqual([]);
    t.advance(2500);
    t.stream.tick();
    expect(sink.take()).toEqual([{ event: 'alerts', data: { firing: [{ id: 'x' }], pending: [], resolved: [] } }]);
    t.advance(2500);
    t.stream.tick();
    expect(sink.take()).toEqual([]);
    t.stream.close();
  });

  it('coalesces rollout updates per rollout into the next batch', () => {
    const t = setup();
    const sink = new FakeSink();
    t.stream.attach(sink);
    sink.take();
    t.stream.publishRollout({ id: 'r1', state: 'canary', stepIndex: 0 });
    t.stream.publishRollout({ id: 'r1', state: 'staged', stepIndex: 1 });
    t.stream.publishRollout({ id: 'r2', state: 'shadow', stepIndex: 0 });
    expect(sink.take()).toEqual([]);
    t.stream.tick();
    expect(sink.take()).toEqual([
      { event: 'rollout', data: { id: 'r1', state: 'staged', stepIndex: 1 } },
      { event: 'rollout', data: { id: 'r2', state: 'shadow', stepIndex: 0 } },
    ]);
    t.stream.close();
  });

  it('skips a connection whose buffer is full and resynchronises it with a full frame', () => {
    const t = setup();
    const slow = new FakeSink();
    const fast = new FakeSink();
    t.stream.attach(slow);
    t.stream.attach(fast);
    slow.take();
    fast.take();
    slow.writableNeedDrain = true;
    t.setFrames([frame('a', 1, 0), frame('b', 10, 0)]);
    t.stream.tick();
    expect(slow.take()).toEqual([]);
    expect(fast.take()[0].data).toMatchObject({ full: false, upsert: [{ id: 'a', northM: 1 }] });
    slow.writableNeedDrain = false;
    t.setFrames([frame('a', 1, 0), frame('b', 11, 0)]);
    t.stream.tick();
    const resync = slow.take();
    expect(resync).toHaveLength(1);
    expect(resync[0].data).toMatchObject({
      full: true,
      upsert: [
        { id: 'a', northM: 1 },
        { id: 'b', northM: 11 },
      ],
    });
    expect(fast.take()[0].data).toMatchObject({ full: false, upsert: [{ id: 'b', northM: 11 }] });
    expect(t.stream.stats.skipped).toBe(1);
    t.stream.close();
  });

  it('stops batching when the last connection closes and starts clean with the next', () => {
    const t = setup();
    const one = new FakeSink();
    t.stream.attach(one);
    one.close();
    expect(t.stream.stats.clients).toBe(0);
    const batches = t.stream.stats.batches;
    t.stream.tick();
    expect(t.stream.stats.batches).toBe(batches);
    const two = new FakeSink();
    t.stream.attach(two);
    expect(two.take()[1].data).toMatchObject({ full: true, upsert: [{ id: 'a' }, { id: 'b' }] });
    t.stream.close();
  });
});

describe('queryTokenMatches', () => {
  it('accepts the operator token as access_token only', () => {
    expect(queryTokenMatches('/api/stream?access_token=s3cret', 's3cret')).toBe(true);
    expect(queryTokenMatches('/api/stream?access_token=s3cre', 's3cret')).toBe(false);
    expect(queryTokenMatches('/api/stream?token=s3cret', 's3cret')).toBe(false);
    expect(queryTokenMatches('/api/stream', 's3cret')).toBe(false);
    expect(queryTokenMatches('/api/stream?access_token=', '')).toBe(false);
  });
});
