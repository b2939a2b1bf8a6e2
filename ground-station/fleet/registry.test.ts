import { describe, expect, it } from 'vitest';
import { type DroneBirth, type DroneDeath, examplePayloads, type Telemetry } from '../../shared/protocol/index.js';
import { FleetRegistry } from './registry.js';
import { droneView } from './view.js';

function birth(id: string, sessionId: string, timeMs: number): DroneBirth {
  const b = examplePayloads().status as DroneBirth;
  return { ...b, id, sessionId, timeMs };
}
function death(id: string, sessionId: string): DroneDeath {
  return { schema: '1.0', kind: 'death', id, online: false, sessionId };
}
function telemetry(id: string, seq: number, extra: Partial<Telemetry> = {}): Telemetry {
  return { ...examplePayloads().telemetry, id, seq, ...extra };
}

describe('FleetRegistry', () => {
  it('goes online on a birth and offline on the death of the same session', () => {
    const r = new FleetRegistry();
    expect(r.applyStatus(birth('d1', 's1', 100), 1000)).toEqual({
      kind: 'online',
      id: 'd1',
      sessionId: 's1',
      previousSessionId: null,
    });
    expect(r.get('d1')?.online).toBe(true);
    expect(r.applyStatus(birth('d1', 's1', 100), 1001)).toEqual({ kind: 'duplicate', id: 'd1' });
    expect(r.applyStatus(death('d1', 's1'), 2000)).toEqual({
      kind: 'offline',
      id: 'd1',
      sessionId: 's1',
      reason: 'connection lost',
    });
    expect(r.get('d1')).toMatchObject({ online: false, deathAtMs: 2000 });
    expect(r.applyStatus(death('d1', 's1'), 2001)).toEqual({ kind: 'duplicate', id: 'd1' });
  });

  it('ignores a late death of an old session and a late birth of an older one', () => {
    const r = new FleetRegistry();
    r.applyStatus(birth('d1', 's1', 100), 1000);
    expect(r.applyStatus(birth('d1', 's2', 200), 1100)).toMatchObject({ kind: 'online', previousSessionId: 's1' });
    // The broker publishes s1's will only now (it noticed the dead socket late): s2 stays online.
    expect(r.applyStatus(death('d1', 's1'), 1200)).toEqual({ kind: 'stale-death', id: 'd1', sessionId: 's1' });
    expect(r.get('d1')).toMatchObject({ online: true, sessionId: 's2' });
    expect(r.applyStatus(birth('d1', 's0', 50), 1300)).toEqual({ kind: 'stale-birth', id: 'd1', sessionId: 's0' });
    expect(r.get('d1')?.sessionId).toBe('s2');
    expect(r.onlineCount()).toBe(1);
  });

  it('keeps the newest telemetry of a session and forgets the old session at a new birth', () => {
    const r = new FleetRegistry();
    r.applyStatus(birth('d1', 's1', 100), 1000);
    expect(r.applyTelemetry(telemetry('d1', 5, { sessionId: 's1' }), 1010)).toBe(true);
    expect(r.applyTelemetry(telemetry('d1', 4, { sessionId: 's1' }), 1020)).toBe(false);
    expect(r.get('d1')?.telemetry?.seq).toBe(5);
    r.applyStatus(birth('d1', 's2', 200), 1030);
    expect(r.get('d1')?.telemetry).toBeNull();
    expect(r.applyTelemetry(telemetry('d1', 1, { sessionId: 's2' }), 1040)).toBe(true);
  });

  it('counts missing events from sequence gaps, per session', () => {
    const r = new FleetRegistry();
    r.applyStatus(birth('d1', 's1', 100), 1000);
    expect(r.noteEvent('d1', 1, 's1', 1)).toBe(0);
    expect(r.noteEvent('d1', 2, 's1', 2)).toBe(0);
    expect(r.noteEvent('d1', 5, 's1', 3)).toBe(2);
    expect(r.noteEvent('d1', 3, 's1', 4)).toBe(0);
    expect(r.noteEvent('d1', 9, 'old-session', 5)).toBe(0);
    expect(r.get('d1')?.eventsMissed).toBe(2);
  });

  it('keeps counting events across a broken connection of the same session, and restarts on a new one', () => {
    const r = new FleetRegistry();
    r.applyStatus(birth('d1', 's1', 100), 1000);
    r.noteEvent('d1', 1, 's1', 1001);
    r.noteEvent('d1', 2, 's1', 1002);
    // The broker lost the connection (the will), then the same process came back.
    r.applyStatus(death('d1', 's1'), 2000);
    r.applyStatus(birth('d1', 's1', 100), 3000);
    expect(r.noteEvent('d1', 5, 's1', 3001)).toBe(2);
    r.applyStatus(birth('d1', 's2', 4000), 4000);
    expect(r.noteEvent('d1', 1, 's2', 4001)).toBe(0);
    expect(r.get('d1')?.eventsMissed).toBe(2);
  });

  it('grades health from telemetry and its age', () => {
    const r = new FleetRegistry({ staleAfterMs: 5000 });
    r.applyStatus(birth('d1', 's1', 100), 1000);
    const d = r.get('d1')!;
    expect(r.health(d, 1000)).toEqual({ level: 'stale', reasons: ['no-telemetry'] });
    r.applyTelemetry(telemetry('d1', 1, { batteryRemaining: 0.8 }), 1000);
    expect(r.health(d, 2000)).toEqual({ level: 'ok', reasons: [] });
    expect(r.health(d, 7000)).toEqual({ level: 'stale', reasons: ['telemetry-stale'] });
    r.applyTelemetry(telemetry('d1', 2, { batteryRemaining: 0.2, gpsFixType: 2 }), 7000);
    expect(r.health(d, 7000)).toEqual({ level: 'warning', reasons: ['battery-low', 'gps-no-3d-fix'] });
    const down = telemetry('d1', 3, { batteryRemaining: 0.05 });
    r.applyTelemetry({ ...down, linkQuality: { ...down.linkQuality, autopilotUp: false } }, 7100);
    expect(r.health(d, 7100)).toEqual({ level: 'critical', reasons: ['autopilot-down', 'battery-critical'] });
    r.applyStatus(death('d1', 's1'), 8000);
    expect(r.health(d, 8000).level).toBe('offline');
  });

  it('hands out changed drones for storage and restores them offline', () => {
    const r = new FleetRegistry();
    r.applyStatus(birth('d1', 's1', 100), 1000);
    r.applyStatus(birth('d2', 's9', 100), 1000);
    r.applyTelemetry(telemetry('d1', 1, { taskId: 'ord_1' }), 1100);
    const dirty = r.takeDirty(1200);
    expect(dirty.map((d) => d.id).sort()).toEqual(['d1', 'd2']);
    expect(r.takeDirty(1300)).toEqual([]);
    expect(dirty.find((d) => d.id === 'd1')).toMatchObject({ online: true, sessionId: 's1', updatedAtMs: 1200 });
    const again = new FleetRegistry();
    again.restore(dirty);
    expect(again.get('d1')).toMatchObject({ online: false, sessionId: 's1' });
    // Its retained birth of the same session brings it back online.
    expect(again.applyStatus(birth('d1', 's1', 100), 2000).kind).toBe('online');
  });

  it('shows a drone with battery, task and state', () => {
    const r = new FleetRegistry();
    r.applyStatus(birth('d1', 's1', 100), 1000);
    r.applyTelemetry(telemetry('d1', 1, { batteryRemaining: 0.5, taskId: 'ord_9', mode: 'OFFBOARD' }), 1000);
    const v = droneView(r, r.get('d1')!, 1500);
    expect(v).toMatchObject({ id: 'd1', online: true, battery: 0.5, task: 'ord_9' });
    expect(v.state).toMatchObject({ mode: 'OFFBOARD', ageMs: 500 });
    expect(droneView(r, r.get('d1')!, 1500, 'ord_station').task).toBe('ord_station');
  });
});
